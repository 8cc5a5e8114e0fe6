"""One node with everything scheduled on it: the unit every Filter and Score reads.

Built from the Node object and kept current by the cache as pods are assumed, bound and
deleted: allocatable and requested resources as integers, the "non-zero" requests used
for scoring, the pods (and, separately, the few that carry affinity terms, so the
inter-pod affinity plugin does not scan every pod), the host ports in use, and the
images the node already has. ``generation`` changes on every mutation; the snapshot
copies only the NodeInfos whose generation moved since the last cycle, and copies are
shallow (lists and counters), never deep copies of pod objects.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from .podinfo import PodInfo
from .resources import Resource
from .taints import NO_EXECUTE, NO_SCHEDULE, PREFER_NO_SCHEDULE, Taint, parse_taints

Obj = dict[str, Any]
_generation = itertools.count(1)
DEFAULT_BIND_ALL_HOST_IP = "0.0.0.0"


def next_generation() -> int:
    return next(_generation)


class HostPortInfo:
    """Host ports in use: ip → {(protocol, port)}. ``0.0.0.0`` conflicts with every IP."""

    __slots__ = ("by_ip",)

    def __init__(self, by_ip: dict[str, set[tuple[str, int]]] | None = None) -> None:
        self.by_ip = by_ip if by_ip is not None else {}

    def add(self, ip: str, protocol: str, port: int) -> None:
        self.by_ip.setdefault(ip or DEFAULT_BIND_ALL_HOST_IP, set()).add((protocol or "TCP", port))

    def remove(self, ip: str, protocol: str, port: int) -> None:
        ports = self.by_ip.get(ip or DEFAULT_BIND_ALL_HOST_IP)
        if ports is not None:
            ports.discard((protocol or "TCP", port))
            if not ports:
                del self.by_ip[ip or DEFAULT_BIND_ALL_HOST_IP]

    def conflicts(self, ip: str, protocol: str, port: int) -> bool:
        want = (protocol or "TCP", port)
        ip = ip or DEFAULT_BIND_ALL_HOST_IP
        if ip == DEFAULT_BIND_ALL_HOST_IP:
            return any(want in ports for ports in self.by_ip.values())
        return want in self.by_ip.get(ip, ()) or want in self.by_ip.get(DEFAULT_BIND_ALL_HOST_IP, ())

    def __len__(self) -> int:
        return sum(len(p) for p in self.by_ip.values())

    def clone(self) -> HostPortInfo:
        return HostPortInfo({ip: set(ports) for ip, ports in self.by_ip.items()})


class ImageState:
    """One image across the cluster: its size and the nodes that have it. Shared by
    every NodeInfo listing the image, so the node count is current everywhere."""

    __slots__ = ("nodes", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.nodes: set[str] = set()

    @property
    def num_nodes(self) -> int:
        return len(self.nodes)


class NodeInfo:
    __slots__ = (
        "allocatable",
        "generation",
        "image_states",
        "labels",
        "name",
        "node",
        "non_zero_cpu",
        "non_zero_memory",
        "pods",
        "pods_with_affinity",
        "pods_with_required_anti_affinity",
        "prefer_no_schedule_taints",
        "requested",
        "taints",
        "unschedulable",
        "used_ports",
    )

    def __init__(self, node: Obj | None = None, pods: Iterable[PodInfo] = ()) -> None:
        self.node: Obj | None = None
        self.name = ""
        self.labels: dict[str, str] = {}
        self.taints: tuple[Taint, ...] = ()
        self.prefer_no_schedule_taints: tuple[Taint, ...] = ()
        self.unschedulable = False
        self.allocatable = Resource()
        self.requested = Resource()
        self.non_zero_cpu = 0
        self.non_zero_memory = 0
        self.pods: list[PodInfo] = []
        self.pods_with_affinity: list[PodInfo] = []
        self.pods_with_required_anti_affinity: list[PodInfo] = []
        self.used_ports = HostPortInfo()
        self.image_states: dict[str, ImageState] = {}
        self.generation = next_generation()
        if node is not None:
            self.set_node(node)
        for pod in pods:
            self.add_pod(pod)

    def set_node(self, node: Obj) -> None:
        meta: Obj = node.get("metadata") or {}
        spec: Obj = node.get("spec") or {}
        status: Obj = node.get("status") or {}
        self.node = node
        self.name = str(meta.get("name") or "")
        self.labels = meta.get("labels") or {}
        taints = parse_taints(spec.get("taints"))
        # Only NoSchedule/NoExecute taints can reject a pod; keep them first-class so the
        # common "no taints" node costs one truth test in Filter.
        self.taints = tuple(t for t in taints if t.effect in (NO_SCHEDULE, NO_EXECUTE))
        self.prefer_no_schedule_taints = tuple(t for t in taints if t.effect == PREFER_NO_SCHEDULE)
        self.unschedulable = bool(spec.get("unschedulable"))
        self.allocatable = Resource.from_list(status.get("allocatable") or status.get("capacity"))
        self.generation = next_generation()

    def all_taints(self) -> tuple[Taint, ...]:
        return self.taints + self.prefer_no_schedule_taints

    def add_pod(self, pod: PodInfo) -> None:
        self.requested.add(pod.requests)
        self.non_zero_cpu += pod.non_zero_cpu
        self.non_zero_memory += pod.non_zero_memory
        self.pods.append(pod)
        if pod.has_affinity:
            self.pods_with_affinity.append(pod)
        if pod.has_required_anti_affinity:
            self.pods_with_required_anti_affinity.append(pod)
        for ip, protocol, port in pod.host_ports:
            self.used_ports.add(ip, protocol, port)
        self.generation = next_generation()

    def remove_pod(self, pod: PodInfo) -> bool:
        """Remove the pod with ``pod``'s uid; False when it is not here."""
        i = next((i for i, p in enumerate(self.pods) if p.uid == pod.uid), -1)
        if i < 0:
            return False
        existing = self.pods.pop(i)
        self.pods_with_affinity = [p for p in self.pods_with_affinity if p.uid != pod.uid]
        self.pods_with_required_anti_affinity = [
            p for p in self.pods_with_required_anti_affinity if p.uid != pod.uid
        ]
        # Subtract what was added for the stored copy (the caller's may be newer).
        self.requested.add(existing.requests, -1)
        self.non_zero_cpu -= existing.non_zero_cpu
        self.non_zero_memory -= existing.non_zero_memory
        for ip, protocol, port in existing.host_ports:
            self.used_ports.remove(ip, protocol, port)
        self.generation = next_generation()
        return True

    def clone(self) -> NodeInfo:
        """A copy whose lists and counters can change without touching this one."""
        out = NodeInfo.__new__(NodeInfo)
        out.node = self.node
        out.name = self.name
        out.labels = self.labels
        out.taints = self.taints
        out.prefer_no_schedule_taints = self.prefer_no_schedule_taints
        out.unschedulable = self.unschedulable
        out.allocatable = self.allocatable
        out.requested = self.requested.clone()
        out.non_zero_cpu = self.non_zero_cpu
        out.non_zero_memory = self.non_zero_memory
        out.pods = list(self.pods)
        out.pods_with_affinity = list(self.pods_with_affinity)
        out.pods_with_required_anti_affinity = list(self.pods_with_required_anti_affinity)
        out.used_ports = self.used_ports.clone()
        out.image_states = self.image_states
        out.generation = self.generation
        return out

    def __repr__(self) -> str:
        return f"NodeInfo({self.name}, pods={len(self.pods)}, requested={self.requested})"
