"""NodeResourcesFit: does the node have room for the pod's requests, and how full would it be?

Filter: the pod's request (containers summed, init containers at their peak, sidecars
and pod overhead added — computed once in PodInfo) must fit in allocatable minus what
the node's pods already request, for CPU, memory, ephemeral storage and every extended
resource the pod asks for, and the node must have a free pod slot. Each shortfall is a
reason ("Insufficient cpu", "Too many pods"), all of them reported.

Score, by ``scoringStrategy.type``: ``LeastAllocated`` (default — spread), ``MostAllocated``
(pack), or ``RequestedToCapacityRatio`` (a piecewise-linear shape over utilization).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scheduler.framework.cycle_state import CycleState
from scheduler.framework.events import (
    ASSIGNED_POD,
    NODE,
    ActionType,
    ClusterEvent,
    ClusterEventWithHint,
    QueueingHint,
)
from scheduler.framework.interfaces import MAX_NODE_SCORE, PreFilterExtensions, PreFilterResult
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.resources import Resource
from scheduler.framework.status import Status

from . import resource_allocation as ra
from .helpers import MISSING, NodeMemo

NAME = "NodeResourcesFit"
LEAST_ALLOCATED = "LeastAllocated"
MOST_ALLOCATED = "MostAllocated"
REQUESTED_TO_CAPACITY_RATIO = "RequestedToCapacityRatio"
_PRE_SCORE_KEY = "PreScore" + NAME


def insufficient(
    request: Resource,
    node: NodeInfo,
    ignored: frozenset[str] = frozenset(),
    ignored_groups: frozenset[str] = frozenset(),
) -> list[str]:
    """The reasons ``request`` does not fit on ``node`` (empty when it fits)."""
    reasons = []
    if len(node.pods) + 1 > node.allocatable.allowed_pods:
        reasons.append("Too many pods")
    if request.is_zero():
        return reasons
    alloc, used = node.allocatable, node.requested
    if request.milli_cpu > 0 and request.milli_cpu > alloc.milli_cpu - used.milli_cpu:
        reasons.append("Insufficient cpu")
    if request.memory > 0 and request.memory > alloc.memory - used.memory:
        reasons.append("Insufficient memory")
    if (
        request.ephemeral_storage > 0
        and request.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage
    ):
        reasons.append("Insufficient ephemeral-storage")
    for name, amount in request.scalar.items():
        if amount == 0 or name in ignored or name.split("/", 1)[0] in ignored_groups:
            continue
        if amount > alloc.scalar.get(name, 0) - used.scalar.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons


class NodeResourcesFit:
    name = NAME

    def __init__(self, args: dict[str, Any]) -> None:
        self.ignored = frozenset(str(r) for r in args.get("ignoredResources") or [])
        self.ignored_groups = frozenset(str(r) for r in args.get("ignoredResourceGroups") or [])
        strategy = args.get("scoringStrategy") or {}
        self.strategy = str(strategy.get("type") or LEAST_ALLOCATED)
        self.resources = ra.parse_resources(strategy.get("resources"), "scoringStrategy.resources")
        if self.strategy == LEAST_ALLOCATED:
            self.scorer = ra.least_allocated(self.resources)
        elif self.strategy == MOST_ALLOCATED:
            self.scorer = ra.most_allocated(self.resources)
        elif self.strategy == REQUESTED_TO_CAPACITY_RATIO:
            shape = ra.parse_shape((strategy.get("requestedToCapacityRatio") or {}).get("shape"))
            self.scorer = ra.requested_to_capacity_ratio(self.resources, shape)
        else:
            raise ValueError(
                f"scoringStrategy.type: Unsupported value: {self.strategy!r}: supported values: "
                f'"{LEAST_ALLOCATED}", "{MOST_ALLOCATED}", "{REQUESTED_TO_CAPACITY_RATIO}"'
            )
        # The common configuration gets a straight-line loop in score_nodes.
        self._fast_least = self.strategy == LEAST_ALLOCATED and self.resources == ra.DEFAULT_RESOURCES
        self._filter_memo = NodeMemo()
        self._score_memo = NodeMemo()

    # --- PreFilter / Filter -------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        return None, None  # the request is precomputed on PodInfo

    def pre_filter_extensions(self) -> PreFilterExtensions | None:
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        reasons = insufficient(pod.requests, node, self.ignored, self.ignored_groups)
        return Status.unschedulable(*reasons) if reasons else None

    def filter_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[Status | None]:
        req = pod.requests
        if req.scalar or req.ephemeral_storage:
            return [self.filter(state, pod, n) for n in nodes]
        cpu, mem = req.milli_cpu, req.memory
        table, out = self._filter_memo.lookup((cpu, mem), nodes)
        if MISSING not in out:
            return out
        for i, n in enumerate(nodes):
            if out[i] is not MISSING:
                continue
            a, u = n.allocatable, n.requested
            if len(n.pods) >= a.allowed_pods or cpu > a.milli_cpu - u.milli_cpu or mem > a.memory - u.memory:
                out[i] = table[n.generation] = self.filter(state, pod, n)
            else:
                out[i] = table[n.generation] = None
        return out

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(ASSIGNED_POD, ActionType.DELETE | ActionType.UPDATE_POD_SCALE_DOWN)
            ),
            ClusterEventWithHint(
                ClusterEvent(NODE, ActionType.ADD | ActionType.UPDATE_NODE_ALLOCATABLE), self._node_may_fit
            ),
        ]

    def _node_may_fit(self, pod: PodInfo, old: Any, new: Any) -> QueueingHint:
        if not isinstance(new, dict):
            return QueueingHint.QUEUE
        fits = not insufficient(pod.requests, NodeInfo(new), self.ignored, self.ignored_groups)
        return QueueingHint.QUEUE if fits else QueueingHint.SKIP

    # --- PreScore / Score ---------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        amounts = [ra.pod_request(pod, r.name, use_requested=False) for r in self.resources]
        state.write(_PRE_SCORE_KEY, amounts)
        return None

    def _amounts(self, state: CycleState, pod: PodInfo) -> list[int]:
        amounts = state.get(_PRE_SCORE_KEY)
        if amounts is None:
            amounts = [ra.pod_request(pod, r.name, use_requested=False) for r in self.resources]
        return list(amounts)

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return ra.score_nodes(
            [node], self.resources, self._amounts(state, pod), self.scorer, use_requested=False
        )[0]

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        amounts = self._amounts(state, pod)
        if not self._fast_least:
            return ra.score_nodes(nodes, self.resources, amounts, self.scorer, use_requested=False)
        # LeastAllocated over cpu and memory, weight 1 each: the same integer arithmetic
        # as least_allocated(), unrolled because it runs for every scored node.
        pod_cpu, pod_mem = amounts
        table, scores = self._score_memo.lookup((pod_cpu, pod_mem), nodes)
        if MISSING not in scores:
            return scores
        for i, n in enumerate(nodes):
            if scores[i] is not MISSING:
                continue
            a = n.allocatable
            ac, am = a.milli_cpu, a.memory
            total = weights = 0
            if ac:
                rc = n.non_zero_cpu + pod_cpu
                total += (ac - rc) * MAX_NODE_SCORE // ac if rc <= ac else 0
                weights += 1
            if am:
                rm = n.non_zero_memory + pod_mem
                total += (am - rm) * MAX_NODE_SCORE // am if rm <= am else 0
                weights += 1
            scores[i] = table[n.generation] = total // weights if weights else 0
        return scores


def new(args: dict[str, Any], handle: Any) -> NodeResourcesFit:
    return NodeResourcesFit(args)
