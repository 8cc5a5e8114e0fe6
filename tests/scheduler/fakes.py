"""Objects and fakes for in-process scheduler tests.

``make_pod``/``make_node`` build API objects as the API server would return them;
``FakeApi`` records the scheduler's writes instead of sending them (the boundary the
scheduler owns: :class:`scheduler.apicalls.ApiCalls`); ``Harness`` builds a complete
scheduler (real profiles, queue, cache and plugins) around them and feeds it objects
through the same event handlers the informers call.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from kube.client.clock import FakeClock
from kube.errors import Conflict
from kube.informers import NAMESPACE_INDEX, Store, namespace_index
from scheduler.builder import build_scheduler
from scheduler.config import SchedulerConfig, parse_config
from scheduler.eventhandlers import EventHandlers, PriorityResolver
from scheduler.explain import DecisionStore
from scheduler.framework.podinfo import PodInfo
from scheduler.recorder import EventRecorder
from scheduler.scheduler import Scheduler

Obj = dict[str, Any]
_uids = itertools.count(1)


def make_node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: dict[str, str] | None = None,
    taints: list[Obj] | None = None,
    unschedulable: bool = False,
    images: list[tuple[list[str], int]] | None = None,
    extra: dict[str, str] | None = None,
) -> Obj:
    allocatable = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    node: Obj = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": f"node-uid-{name}",
            "labels": {"kubernetes.io/hostname": name, **(labels or {})},
        },
        "spec": {},
        "status": {"allocatable": allocatable, "capacity": allocatable},
    }
    if taints:
        node["spec"]["taints"] = taints
    if unschedulable:
        node["spec"]["unschedulable"] = True
    if images:
        node["status"]["images"] = [{"names": names, "sizeBytes": size} for names, size in images]
    return node


def make_pod(
    name: str,
    *,
    namespace: str = "default",
    cpu: str | None = None,
    memory: str | None = None,
    priority: int | None = None,
    labels: dict[str, str] | None = None,
    node: str = "",
    tolerations: list[Obj] | None = None,
    affinity: Obj | None = None,
    node_selector: dict[str, str] | None = None,
    ports: list[Obj] | None = None,
    spread: list[Obj] | None = None,
    image: str = "busybox",
    init_containers: list[Obj] | None = None,
    overhead: dict[str, str] | None = None,
    scheduler_name: str | None = None,
    uid: str | None = None,
    start_time: str | None = None,
) -> Obj:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: Obj = {"name": "c", "image": image, "resources": {"requests": requests} if requests else {}}
    if ports:
        container["ports"] = ports
    spec: Obj = {"containers": [container]}
    if node:
        spec["nodeName"] = node
    if priority is not None:
        spec["priority"] = priority
    if tolerations:
        spec["tolerations"] = tolerations
    if affinity:
        spec["affinity"] = affinity
    if node_selector:
        spec["nodeSelector"] = node_selector
    if spread:
        spec["topologySpreadConstraints"] = spread
    if init_containers:
        spec["initContainers"] = init_containers
    if overhead:
        spec["overhead"] = overhead
    if scheduler_name:
        spec["schedulerName"] = scheduler_name
    status: Obj = {"phase": "Pending"}
    if start_time:
        status["startTime"] = start_time
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid or f"uid-{next(_uids)}",
            "labels": labels or {},
            "resourceVersion": "1",
        },
        "spec": spec,
        "status": status,
    }


class FakeApi:
    """Records writes; ``bind`` updates the pod store like the API server would (and the
    harness then delivers the bound pod to the handlers, as a watch would)."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.binds: list[tuple[str, str]] = []
        self.binding_annotations: dict[str, dict[str, str]] = {}
        self.status_updates: list[tuple[str, Obj | None, str | None]] = []
        self.annotations: dict[str, dict[str, str]] = {}
        self.deleted: list[str] = []
        self.fail_binds = 0

    async def bind(self, pod: PodInfo, node_name: str, *, annotations: dict[str, str] | None = None) -> Obj:
        if self.fail_binds:
            self.fail_binds -= 1
            raise Conflict.of(resource="pods", name=pod.name, err="injected bind failure")
        self.binds.append((pod.key, node_name))
        if annotations:
            self.binding_annotations[pod.key] = dict(annotations)
        self.harness.bound(pod.key, node_name, annotations)
        return {}

    async def update_pod_status(
        self, pod: Obj, *, condition: Obj | None = None, nominated_node_name: str | None = None
    ) -> bool:
        key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        self.status_updates.append((key, condition, nominated_node_name))
        if nominated_node_name is not None:
            self.harness.set_nominated(key, nominated_node_name)
        return True

    async def annotate(self, pod: Obj, annotations: dict[str, str]) -> None:
        key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        self.annotations.setdefault(key, {}).update(annotations)

    async def preempt(self, *, victim: PodInfo, preemptor: PodInfo, node_name: str) -> None:
        self.deleted.append(victim.key)
        self.harness.delete_pod(victim.key)

    async def clear_nominated_node(self, pod: PodInfo) -> None:
        await self.update_pod_status(pod.pod, nominated_node_name="")


class Harness:
    def __init__(self, *, config: SchedulerConfig | Obj | None = None, annotate: bool = True) -> None:
        if isinstance(config, dict):
            config = parse_config(config)
        self.clock = FakeClock()
        self.listers: dict[str, Store] = {
            name: Store(indexers={NAMESPACE_INDEX: namespace_index})
            for name in ("pods", "poddisruptionbudgets", "namespaces", "priorityclasses", "services",
                         "replicationcontrollers", "replicasets", "statefulsets")
        }  # fmt: skip
        self.api = FakeApi(self)
        self.recorder = EventRecorder(None, component="default-scheduler")
        self.scheduler: Scheduler = build_scheduler(
            config or SchedulerConfig(),
            api=self.api,  # type: ignore[arg-type]
            recorder=self.recorder,
            listers=self.listers,
            clock=self.clock,
            decisions=DecisionStore(),
            annotate=annotate,
        )
        self.handlers = EventHandlers(
            self.scheduler, priority=PriorityResolver(self.listers["priorityclasses"])
        )

    # --- feeding objects ----------------------------------------------------------------

    def add_node(self, node: Obj) -> None:
        self.handlers.on_node_add(node)

    def update_node(self, old: Obj, new: Obj) -> None:
        self.handlers.on_node_update(old, new)

    def add_pod(self, pod: Obj) -> None:
        self.listers["pods"].add(pod)
        self.handlers.on_pod_add(pod)

    def bound(self, key: str, node: str, annotations: dict[str, str] | None) -> None:
        old = self.listers["pods"].get_by_key(key)
        if old is None:
            return
        new = {**old, "spec": {**old["spec"], "nodeName": node}}
        if annotations:
            meta = dict(new["metadata"])
            meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}
            new["metadata"] = meta
        self.listers["pods"].update(new)
        self.handlers.on_pod_update(old, new)

    def set_nominated(self, key: str, node: str) -> None:
        old = self.listers["pods"].get_by_key(key)
        if old is None:
            return
        new = {**old, "status": {**old.get("status", {}), "nominatedNodeName": node or None}}
        self.listers["pods"].update(new)
        self.handlers.on_pod_update(old, new)

    def delete_pod(self, key: str) -> None:
        old = self.listers["pods"].get_by_key(key)
        if old is not None:
            self.listers["pods"].delete(old)
            self.handlers.on_pod_delete(old)

    def node_of(self, key: str) -> str:
        pod = self.listers["pods"].get_by_key(key)
        return str((pod or {}).get("spec", {}).get("nodeName") or "")

    # --- driving the loop ---------------------------------------------------------------

    async def schedule_pending(self, *, limit: int = 10_000) -> int:
        """Run scheduling cycles while activeQ has pods; wait for their bindings."""
        done = 0
        while self.scheduler.queue.pending()["active"] and done < limit:
            await self.scheduler.schedule_one()
            await self.scheduler.drain()
            done += 1
        await asyncio.sleep(0)
        return done


class PluginBench:
    """One plugin run the way the framework runs it, over a snapshot of ``nodes`` with
    ``pods`` bound on them (pods name their node in ``spec.nodeName``)."""

    def __init__(self, nodes: list[Obj], pods: list[Obj] = (), *, config: Obj | None = None,  # type: ignore[assignment]
                 namespaces: list[Obj] = (), pdbs: list[Obj] = ()) -> None:  # type: ignore[assignment]  # fmt: skip
        self.harness = Harness(config=config)
        for ns in namespaces:
            self.harness.listers["namespaces"].add(ns)
        for pdb in pdbs:
            self.harness.listers["poddisruptionbudgets"].add(pdb)
        for node in nodes:
            self.harness.add_node(node)
        for pod in pods:
            self.harness.add_pod(pod)
        s = self.harness.scheduler
        s.cache.update_snapshot(s.snapshot)
        self.snapshot = s.snapshot
        self.fwk = next(iter(s.profiles.values()))

    def filter(self, plugin_name: str, pod: Obj) -> dict[str, Any]:
        """node → None (passes) or (code name, reasons)."""
        from scheduler.framework.cycle_state import CycleState

        plugin = self.fwk.plugins[plugin_name]
        info = PodInfo(pod)
        state = CycleState()
        pre = getattr(plugin, "pre_filter", None)
        if pre is not None:
            _, status = pre(state, info, self.snapshot.node_info_list)
            if status is not None and status.code.name == "SKIP":
                return {n.name: None for n in self.snapshot.node_info_list}
            if status is not None:
                return {n.name: (str(status.code), status.reasons) for n in self.snapshot.node_info_list}
        out: dict[str, Any] = {}
        for node in self.snapshot.node_info_list:
            status = plugin.filter(state, info, node)  # type: ignore[attr-defined]
            out[node.name] = None if status is None else (str(status.code), status.reasons)
        batch = getattr(plugin, "filter_nodes", None)
        if batch is not None:  # the batch path must agree with the per-node one
            got = batch(state, info, self.snapshot.node_info_list)
            assert [None if s is None else (str(s.code), s.reasons) for s in got] == list(out.values())
        return out

    def score(self, plugin_name: str, pod: Obj, *, normalized: bool = True) -> dict[str, int]:
        from scheduler.framework.cycle_state import CycleState

        plugin = self.fwk.plugins[plugin_name]
        info = PodInfo(pod)
        state = CycleState()
        nodes = self.snapshot.node_info_list
        for pre_filter_plugin in self.fwk.pre_filter_plugins:
            pre_filter_plugin.pre_filter(state, info, nodes)
        pre = getattr(plugin, "pre_score", None)
        if pre is not None:
            status = pre(state, info, nodes)
            if status is not None and status.code.name == "SKIP":
                return {n.name: 0 for n in nodes}
        raw = [plugin.score(state, info, n) for n in nodes]  # type: ignore[attr-defined]
        batch = getattr(plugin, "score_nodes", None)
        if batch is not None:
            assert batch(state, info, nodes) == raw
        if normalized and hasattr(plugin, "normalize_score"):
            plugin.normalize_score(state, info, raw, nodes)
        return {n.name: s for n, s in zip(nodes, raw, strict=True)}
