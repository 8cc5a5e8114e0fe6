"""Informer events → the cache and the queue (kube-scheduler's ``eventhandlers.go``).

One pod informer serves both: a pod bound to a node (``spec.nodeName`` set) belongs in
the cache, where it uses capacity; an unbound pod naming one of our profiles belongs in
the queue; other pods are someone else's. A pod moving from unbound to bound leaves the
queue and enters the cache. Node changes update the cache and, when they could make a
waiting pod fit, move waiting pods back to activeQ.

Pods carry ``spec.priority`` once the API server's Priority admission has resolved
``priorityClassName``. Where that admission is missing, the :class:`PriorityResolver`
reads the PriorityClass itself (and the global default), so priority and preemption
still work.
"""

from __future__ import annotations

import logging
from typing import Any

from kube.informers import DeletedFinalStateUnknown
from scheduler.framework.events import (
    ASSIGNED_POD,
    ASSIGNED_POD_ADD,
    ASSIGNED_POD_DELETE,
    NODE,
    NODE_ADD,
    ActionType,
    ClusterEvent,
    node_update_actions,
)
from scheduler.framework.podinfo import DEFAULT_SCHEDULER_NAME, PodInfo
from scheduler.scheduler import Scheduler

log = logging.getLogger(__name__)
Obj = dict[str, Any]


def _unwrap(obj: Any) -> Obj:
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


def assigned(pod: Obj) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName"))


def scheduler_name(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER_NAME)


class PriorityResolver:
    def __init__(self, priority_classes: Any = None) -> None:
        self.store = priority_classes
        self._default: int | None = None

    def invalidate(self, *_: Any) -> None:
        """A PriorityClass changed: the global default is looked up again."""
        self._default = None

    def __call__(self, pod: Obj) -> int:
        spec = pod.get("spec") or {}
        if spec.get("priority") is not None:
            return int(spec["priority"])
        if self.store is None:
            return 0
        name = spec.get("priorityClassName")
        if name:
            pc = self.store.get_by_key(str(name))
            return int(pc.get("value") or 0) if pc is not None else 0
        if self._default is None:
            defaults = [int(pc.get("value") or 0) for pc in self.store.list() if pc.get("globalDefault")]
            self._default = min(defaults, default=0)  # several defaults: the lowest wins, as in admission
        return self._default


class EventHandlers:
    def __init__(self, scheduler: Scheduler, *, priority: PriorityResolver | None = None) -> None:
        self.scheduler = scheduler
        self.priority = priority or PriorityResolver()

    def pod_info(self, pod: Obj) -> PodInfo:
        return PodInfo(pod, priority=self.priority(pod))

    def responsible(self, pod: Obj) -> bool:
        return scheduler_name(pod) in self.scheduler.profiles

    # --- pods ---------------------------------------------------------------------------

    def on_pod_add(self, obj: Obj) -> None:
        s = self.scheduler
        if assigned(obj):
            info = self.pod_info(obj)
            s.cache.add_pod(info)
            s.queue.move_all_to_active_or_backoff(ASSIGNED_POD_ADD, None, obj)
        elif self.responsible(obj):
            s.queue.add(self.pod_info(obj))

    def on_pod_update(self, old: Obj, new: Obj) -> None:
        s = self.scheduler
        if assigned(new):
            if not assigned(old):
                # Bound (by us or anyone): out of the queue, into the cache.
                meta = old.get("metadata") or {}
                uid = str(meta.get("uid") or "")
                s.queue.delete_key(f"{meta.get('namespace')}/{meta.get('name')}", uid)
                assumed = s.cache.get_pod(uid) if s.cache.is_assumed(uid) else None
                info = assumed.confirmed(new, priority=self.priority(new)) if assumed is not None else None
                s.cache.add_pod(info or self.pod_info(new))
                s.queue.move_all_to_active_or_backoff(ASSIGNED_POD_ADD, None, new)
                return
            new_info = self.pod_info(new)
            old_info = s.cache.get_pod(new_info.uid) or self.pod_info(old)
            s.cache.update_pod(old_info, new_info)
            action = _assigned_pod_actions(old, new, old_info, new_info)
            if action:
                s.queue.move_all_to_active_or_backoff(ClusterEvent(ASSIGNED_POD, action), old, new)
            return
        if not self.responsible(new):
            if self.responsible(old):
                s.queue.delete(self.pod_info(old))
            return
        if s.cache.is_assumed(str((new.get("metadata") or {}).get("uid") or "")):
            return  # being bound right now; the bound version will follow
        s.queue.update(self.pod_info(old), self.pod_info(new))

    def on_pod_delete(self, obj: Any) -> None:
        pod = _unwrap(obj)
        s = self.scheduler
        info = self.pod_info(pod)
        if assigned(pod):
            s.cache.remove_pod(info)
            s.queue.move_all_to_active_or_backoff(ASSIGNED_POD_DELETE, pod, None)
            return
        s.queue.delete(info)
        fwk = s.profiles.get(info.scheduler_name)
        waiting = fwk.waiting_pods.get(info.uid) if fwk is not None else None
        if waiting is not None:
            waiting.reject("", "removed")

    # --- nodes --------------------------------------------------------------------------

    def on_node_add(self, node: Obj) -> None:
        self.scheduler.cache.add_node(node)
        self.scheduler.queue.move_all_to_active_or_backoff(NODE_ADD, None, node)

    def on_node_update(self, old: Obj, new: Obj) -> None:
        self.scheduler.cache.update_node(old, new)
        action = node_update_actions(old, new)
        if action:
            self.scheduler.queue.move_all_to_active_or_backoff(ClusterEvent(NODE, action), old, new)

    def on_node_delete(self, obj: Any) -> None:
        node = _unwrap(obj)
        self.scheduler.cache.remove_node(node)
        self.scheduler.queue.move_all_to_active_or_backoff(ClusterEvent(NODE, ActionType.DELETE), node, None)


def _assigned_pod_actions(old: Obj, new: Obj, old_info: PodInfo, new_info: PodInfo) -> ActionType:
    """What changed about a bound pod that could let a waiting pod in (most updates —
    the kubelet's status reports — change nothing that matters)."""
    action = ActionType(0)
    if old_info.labels != new_info.labels:
        action |= ActionType.UPDATE_POD_LABEL
    before, after = old_info.requests, new_info.requests
    if after.milli_cpu < before.milli_cpu or after.memory < before.memory:
        action |= ActionType.UPDATE_POD_SCALE_DOWN
    return action
