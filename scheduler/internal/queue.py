"""The scheduling queue: which pending pod to try next, and when to try a failed one again.

Three places a pending pod can be (Kubernetes' ``PriorityQueue``):

- **activeQ** — ready now, ordered by the profile's QueueSort plugin (PrioritySort:
  higher priority first, then first come first served);
- **backoffQ** — failed recently; waits ``initial × 2^(attempts-1)`` seconds (1 s
  doubling to at most 10 s) so a pod that keeps failing cannot starve the others;
- **unschedulable** — no node fit. It waits for a cluster event that could change that
  (a node added, a pod deleted, ...) — but only an event that one of the plugins that
  rejected it registered for — or, as a safety net, 5 minutes.

A pod popped for a cycle is *in flight*. If an event arrives while it is in flight and
the pod then fails as unschedulable, it goes to backoffQ rather than the unschedulable
pool: the event it would have waited for has already happened (``move_request_cycle``).

Pods whose PreEnqueue plugins refuse them (scheduling gates) wait in a gated set and are
re-checked when they are updated.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kube.client.clock import Clock, RealClock
from scheduler.framework.events import (
    FORCE_ACTIVATE,
    UNSCHEDULABLE_TIMEOUT,
    ClusterEvent,
    HintFn,
    QueueingHint,
)
from scheduler.framework.podinfo import PodInfo, QueuedPodInfo

from .nominator import Nominator

DEFAULT_INITIAL_BACKOFF = 1.0
DEFAULT_MAX_BACKOFF = 10.0
DEFAULT_MAX_UNSCHEDULABLE_DURATION = 300.0
UNSCHEDULABLE_FLUSH_PERIOD = 30.0

Less = Callable[[QueuedPodInfo, QueuedPodInfo], bool]
Registration = tuple[ClusterEvent, str, HintFn | None]
"""(event, plugin name, optional hint) as one profile's plugins registered them."""


class _ActiveItem:
    __slots__ = ("less", "qpi", "removed", "seq")

    def __init__(self, qpi: QueuedPodInfo, seq: int, less: Less) -> None:
        self.qpi = qpi
        self.seq = seq
        self.less = less
        self.removed = False

    def __lt__(self, other: _ActiveItem) -> bool:
        if self.less(self.qpi, other.qpi):
            return True
        if self.less(other.qpi, self.qpi):
            return False
        return self.seq < other.seq


class SchedulingQueue:
    def __init__(
        self,
        *,
        less: Less,
        clock: Clock | None = None,
        initial_backoff: float = DEFAULT_INITIAL_BACKOFF,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        max_unschedulable_duration: float = DEFAULT_MAX_UNSCHEDULABLE_DURATION,
        registrations: Mapping[str, Sequence[Registration]] | None = None,
        pre_enqueue: Callable[[PodInfo], str | None] | None = None,
    ) -> None:
        self.less = less
        self.clock: Clock = clock or RealClock()
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_unschedulable_duration = max_unschedulable_duration
        self.registrations: Mapping[str, Sequence[Registration]] = registrations or {}
        """Per scheduler name (profile): which plugin cares about which event."""
        self.pre_enqueue = pre_enqueue
        self.nominator = Nominator()
        self._seq = itertools.count()
        self._active: list[_ActiveItem] = []
        self._active_by_key: dict[str, _ActiveItem] = {}
        self._backoff: list[tuple[float, int, str]] = []
        self._backoff_by_key: dict[str, tuple[float, int, QueuedPodInfo]] = {}
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._gated: dict[str, QueuedPodInfo] = {}
        self._in_flight: dict[str, QueuedPodInfo] = {}
        self._wakeup = asyncio.Event()
        self._closed = False
        self.scheduling_cycle = 0
        self.move_request_cycle = -1

    # --- counts -------------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        return {
            "active": len(self._active_by_key),
            "backoff": len(self._backoff_by_key),
            "unschedulable": len(self._unschedulable),
            "gated": len(self._gated),
        }

    def __contains__(self, key: str) -> bool:
        return (
            key in self._active_by_key
            or key in self._backoff_by_key
            or key in self._unschedulable
            or key in self._gated
        )

    def unschedulable_pods(self) -> list[QueuedPodInfo]:
        return list(self._unschedulable.values())

    # --- the three queues ---------------------------------------------------------------

    def _push_active(self, qpi: QueuedPodInfo) -> None:
        if self.pre_enqueue is not None:
            if self.pre_enqueue(qpi.pod_info) is not None:
                self._gated[qpi.key] = qpi
                return
        self._gated.pop(qpi.key, None)
        old = self._active_by_key.pop(qpi.key, None)
        if old is not None:
            old.removed = True
        item = _ActiveItem(qpi, next(self._seq), self.less)
        self._active_by_key[qpi.key] = item
        heapq.heappush(self._active, item)
        self._wakeup.set()

    def _push_backoff(self, qpi: QueuedPodInfo) -> None:
        expiry = self.backoff_expiration(qpi)
        qpi.backoff_expiration = expiry
        seq = next(self._seq)
        self._backoff_by_key[qpi.key] = (expiry, seq, qpi)
        heapq.heappush(self._backoff, (expiry, seq, qpi.key))

    def _remove_everywhere(self, key: str) -> QueuedPodInfo | None:
        item = self._active_by_key.pop(key, None)
        if item is not None:
            item.removed = True
            return item.qpi
        entry = self._backoff_by_key.pop(key, None)
        if entry is not None:
            return entry[2]
        found = self._unschedulable.pop(key, None)
        return found if found is not None else self._gated.pop(key, None)

    def backoff_duration(self, qpi: QueuedPodInfo) -> float:
        duration = self.initial_backoff
        for _ in range(1, max(qpi.attempts, 1)):
            duration *= 2
            if duration >= self.max_backoff:
                return self.max_backoff
        return min(duration, self.max_backoff)

    def backoff_expiration(self, qpi: QueuedPodInfo) -> float:
        return qpi.timestamp + self.backoff_duration(qpi)

    def is_backing_off(self, qpi: QueuedPodInfo) -> bool:
        return self.backoff_expiration(qpi) > self.clock.now()

    # --- informer events for unscheduled pods --------------------------------------------

    def add(self, pod: PodInfo) -> None:
        """A new pending pod."""
        qpi = QueuedPodInfo(pod, timestamp=self.clock.now())
        self._remove_everywhere(pod.key)
        self._push_active(qpi)
        self.nominator.add(pod)

    def update(self, old: PodInfo | None, new: PodInfo) -> None:
        key = new.key
        if old is not None:
            self.nominator.update(old, new)
        item = self._active_by_key.get(key)
        if item is not None:
            item.qpi.pod_info = new
            self._push_active(item.qpi)  # priority may have changed: re-sort
            return
        entry = self._backoff_by_key.get(key)
        if entry is not None:
            entry[2].pod_info = new
            return
        qpi = self._unschedulable.get(key) or self._gated.get(key)
        if qpi is not None:
            was_gated = key in self._gated
            qpi.pod_info = new
            if was_gated or old is None or _spec_changed(old.pod, new.pod):
                del (self._gated if was_gated else self._unschedulable)[key]
                if not was_gated and self.is_backing_off(qpi):
                    self._push_backoff(qpi)
                else:
                    self._push_active(qpi)
            return
        if key in self._in_flight:
            self._in_flight[key].pod_info = new
            return
        self.add(new)

    def delete(self, pod: PodInfo) -> None:
        self.delete_key(pod.key, pod.uid)

    def delete_key(self, key: str, uid: str) -> None:
        """Forget the pod ``key`` (``namespace/name``) with ``uid`` wherever it waits."""
        self._remove_everywhere(key)
        self._in_flight.pop(key, None)
        self.nominator.delete_uid(uid)

    # --- the scheduling loop ------------------------------------------------------------

    async def pop(self) -> QueuedPodInfo | None:
        """The next pod to schedule; waits while activeQ is empty; None once closed."""
        while True:
            if self._closed:
                return None
            while self._active:
                item = heapq.heappop(self._active)
                if item.removed:
                    continue
                del self._active_by_key[item.qpi.key]
                qpi = item.qpi
                qpi.attempts += 1
                if qpi.initial_attempt_timestamp is None:
                    qpi.initial_attempt_timestamp = self.clock.now()
                self.scheduling_cycle += 1
                self._in_flight[qpi.key] = qpi
                return qpi
            self._wakeup.clear()
            await self._wakeup.wait()

    def done(self, key: str) -> None:
        """The pod's cycle is over (bound, or handed back with ``add_unschedulable``)."""
        self._in_flight.pop(key, None)

    def add_unschedulable_if_not_present(self, qpi: QueuedPodInfo, *, cycle: int) -> None:
        """Put a pod that failed its cycle back: backoffQ or the unschedulable pool."""
        self.done(qpi.key)
        if qpi.key in self:
            return
        qpi.timestamp = self.clock.now()
        if self.move_request_cycle >= cycle or not qpi.unschedulable_plugins:
            # An error (no plugin rejected it), or an event arrived while it was in flight.
            self._push_backoff(qpi)
        else:
            self._unschedulable[qpi.key] = qpi
        self.nominator.add(qpi.pod_info)

    def activate(self, keys: Sequence[str]) -> None:
        """Move these pods to activeQ now (wherever they wait)."""
        for key in keys:
            qpi = self._unschedulable.pop(key, None)
            if qpi is None:
                entry = self._backoff_by_key.pop(key, None)
                qpi = entry[2] if entry is not None else None
            if qpi is not None:
                self._push_active(qpi)
        self.move_request_cycle = self.scheduling_cycle

    def move_all_to_active_or_backoff(
        self,
        event: ClusterEvent,
        old: Any = None,
        new: Any = None,
        *,
        precheck: Callable[[QueuedPodInfo], bool] | None = None,
    ) -> int:
        """A cluster event happened: requeue the unschedulable pods it may help."""
        moved = 0
        for key, qpi in list(self._unschedulable.items()):
            if precheck is not None and not precheck(qpi):
                continue
            if not self._worth_requeue(qpi, event, old, new):
                continue
            del self._unschedulable[key]
            if self.is_backing_off(qpi):
                self._push_backoff(qpi)
            else:
                self._push_active(qpi)
            moved += 1
        self.move_request_cycle = self.scheduling_cycle
        return moved

    def _worth_requeue(self, qpi: QueuedPodInfo, event: ClusterEvent, old: Any, new: Any) -> bool:
        if event in (UNSCHEDULABLE_TIMEOUT, FORCE_ACTIVATE) or not qpi.unschedulable_plugins:
            return True
        for registered, plugin, hint in self.registrations.get(qpi.pod_info.scheduler_name, ()):
            if plugin not in qpi.unschedulable_plugins or not registered.matches(event):
                continue
            if hint is None:
                return True
            try:
                if hint(qpi.pod_info, old, new) is QueueingHint.QUEUE:
                    return True
            except Exception:
                return True  # a failing hint must not strand the pod
        return False

    def flush_backoff_completed(self) -> int:
        now = self.clock.now()
        moved = 0
        while self._backoff and self._backoff[0][0] <= now:
            _, seq, key = heapq.heappop(self._backoff)
            entry = self._backoff_by_key.get(key)
            if entry is None or entry[1] != seq:
                continue  # moved or re-added since
            del self._backoff_by_key[key]
            self._push_active(entry[2])
            moved += 1
        return moved

    def flush_unschedulable_leftover(self) -> int:
        now = self.clock.now()
        stale = [
            q for q in self._unschedulable.values() if now - q.timestamp > self.max_unschedulable_duration
        ]
        for qpi in stale:
            del self._unschedulable[qpi.key]
            if self.is_backing_off(qpi):
                self._push_backoff(qpi)
            else:
                self._push_active(qpi)
        return len(stale)

    async def run(self) -> None:
        """Flush backoffQ every second and stale unschedulable pods every 30 s."""
        elapsed = 0.0
        while not self._closed:
            await self.clock.sleep(1.0)
            self.flush_backoff_completed()
            elapsed += 1.0
            if elapsed >= UNSCHEDULABLE_FLUSH_PERIOD:
                elapsed = 0.0
                self.flush_unschedulable_leftover()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()


DECISION_ANNOTATION = "scheduler.kubesim.io/decision"


def _spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether an update could change the scheduling outcome (not just status or
    resourceVersion), as ``isPodUpdated`` decides. The scheduler's own decision
    annotation does not count, or writing it would requeue the pod it explains."""
    if old.get("spec") != new.get("spec"):
        return True
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    if om.get("labels") != nm.get("labels"):
        return True
    oa = {k: v for k, v in (om.get("annotations") or {}).items() if k != DECISION_ANNOTATION}
    na = {k: v for k, v in (nm.get("annotations") or {}).items() if k != DECISION_ANNOTATION}
    return oa != na
