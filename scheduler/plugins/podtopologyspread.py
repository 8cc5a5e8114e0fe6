"""PodTopologySpread: keep matching pods evenly spread across topology domains.

Hard constraints (``whenUnsatisfiable: DoNotSchedule``) filter: placing the pod in a
domain must not raise that domain's count more than ``maxSkew`` above the least loaded
eligible domain (the global minimum is 0 while there are fewer than ``minDomains``
domains). A node missing the topology label is unresolvable. PreFilter counts matching
pods per domain once; Filter is then a dictionary lookup per node. The preemption
dry-run adjusts the counts through AddPod/RemovePod.

Soft constraints (``ScheduleAnyway``, and the cluster defaults) score: fewer matching
pods in the node's domains is better, each constraint weighted by log(domains + 2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from kube.errors import StatusError
from scheduler.framework.cycle_state import CycleState
from scheduler.framework.events import ASSIGNED_POD, NODE, ActionType, ClusterEvent, ClusterEventWithHint
from scheduler.framework.interfaces import MAX_NODE_SCORE, PreFilterExtensions, PreFilterResult
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.nodeselector import RequiredNodeAffinity
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Status

from . import spreading as sp

NAME = "PodTopologySpread"
ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME
_BIG = 2**31 - 1


class _FilterState:
    """Matching-pod counts per (topologyKey, value), and per key the two smallest."""

    __slots__ = ("constraints", "counts", "domains", "paths", "required")

    def __init__(self, constraints: list[sp.Constraint], required: RequiredNodeAffinity) -> None:
        self.constraints = constraints
        self.required = required
        self.counts: dict[tuple[str, str], int] = {}
        self.domains: dict[str, int] = {}
        self.paths: dict[str, list[list[Any]]] = {}

    def update_path(self, key: str, value: str, num: int) -> None:
        """Kubernetes' ``criticalPaths.update``: keep the two least-loaded domains."""
        p = self.paths[key]
        i = 0 if p[0][0] == value else 1 if p[1][0] == value else -1
        if i >= 0:
            p[i][1] = num
            if p[0][1] > p[1][1]:
                p[0], p[1] = p[1], p[0]
        elif num < p[0][1]:
            p[1] = p[0]
            p[0] = [value, num]
        elif num < p[1][1]:
            p[1] = [value, num]

    def min_match(self, c: sp.Constraint) -> int:
        if self.domains.get(c.topology_key, 0) < c.min_domains:
            return 0
        return int(self.paths[c.topology_key][0][1])

    def clone(self) -> _FilterState:
        out = _FilterState(self.constraints, self.required)
        out.counts = dict(self.counts)
        out.domains = self.domains
        out.paths = {k: [list(p[0]), list(p[1])] for k, p in self.paths.items()}
        return out


class _ScoreState:
    __slots__ = ("constraints", "counts", "ignored", "weights")

    def __init__(self) -> None:
        self.constraints: list[sp.Constraint] = []
        self.ignored: set[str] = set()
        self.counts: list[dict[str, int]] = []
        self.weights: list[float] = []


class PodTopologySpread:
    name = NAME

    def __init__(self, args: dict[str, Any], handle: Any) -> None:
        self.handle = handle
        defaulting = str(
            args.get("defaultingType") or ("List" if args.get("defaultConstraints") else "System")
        )
        self.system_defaulted = defaulting == "System"
        self.default_constraints: list[dict[str, Any]] = (
            sp.SYSTEM_DEFAULT_CONSTRAINTS
            if self.system_defaulted
            else list(args.get("defaultConstraints") or [])
        )
        for c in self.default_constraints:
            if c.get("labelSelector") is not None:
                raise ValueError(
                    "defaultConstraints[*].labelSelector: Forbidden: constraint must not define a selector"
                )

    def _constraints(self, pod: PodInfo, action: str) -> list[sp.Constraint]:
        own = (pod.pod.get("spec") or {}).get("topologySpreadConstraints") or []
        if own:
            return sp.parse_constraints(own, pod.labels, action)
        constraints = sp.parse_constraints(self.default_constraints, pod.labels, action)
        if not constraints:
            return []
        selector = sp.default_selector(pod, self.handle.lister)
        if selector.empty:
            return []
        for c in constraints:
            c.selector = selector
        return constraints

    # --- filtering ----------------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        try:
            constraints = self._constraints(pod, sp.DO_NOT_SCHEDULE)
        except StatusError as err:
            return None, Status.as_error(f"obtaining pod's hard topology spread constraints: {err}")
        if not constraints:
            return None, Status.skip()
        s = _FilterState(constraints, RequiredNodeAffinity(pod.pod))
        for node in self.handle.snapshot().node_info_list:
            if not sp.node_has_all_keys(node, constraints):
                continue
            for c in constraints:
                if not c.includes(pod, node, s.required):
                    continue
                pair = (c.topology_key, node.labels[c.topology_key])
                s.counts[pair] = s.counts.get(pair, 0) + sp.count_matching(
                    node.pods, c.selector, pod.namespace
                )
        for key, _ in s.counts:
            s.domains[key] = s.domains.get(key, 0) + 1
        for c in constraints:
            s.paths[c.topology_key] = [["", _BIG], ["", _BIG]]
        for (key, value), num in s.counts.items():
            s.update_path(key, value, num)
        state.write(_PRE_FILTER_KEY, s)
        return None, None

    def pre_filter_extensions(self) -> PreFilterExtensions | None:
        return self

    def _update_with_pod(
        self, state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, delta: int
    ) -> None:
        s: _FilterState | None = state.get(_PRE_FILTER_KEY)
        if s is None or other.namespace != pod.namespace or not sp.node_has_all_keys(node, s.constraints):
            return
        for c in s.constraints:
            if not c.selector.matches(other.labels) or not c.includes(pod, node, s.required):
                continue
            pair = (c.topology_key, node.labels[c.topology_key])
            s.counts[pair] = s.counts.get(pair, 0) + delta
            s.update_path(pair[0], pair[1], s.counts[pair])

    def add_pod(self, state: CycleState, pod: PodInfo, pod_to_add: PodInfo, node: NodeInfo) -> Status | None:
        self._update_with_pod(state, pod, pod_to_add, node, 1)
        return None

    def remove_pod(
        self, state: CycleState, pod: PodInfo, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status | None:
        self._update_with_pod(state, pod, pod_to_remove, node, -1)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s: _FilterState | None = state.get(_PRE_FILTER_KEY)
        if s is None:
            return Status.as_error(f"reading {_PRE_FILTER_KEY!r} from cycleState: not found")
        for c in s.constraints:
            value = node.labels.get(c.topology_key)
            if value is None:
                return Status.unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH)
            self_match = 1 if c.selector.matches(pod.labels) else 0
            skew = s.counts.get((c.topology_key, value), 0) + self_match - s.min_match(c)
            if skew > c.max_skew:
                return Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH)
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        pod_actions = ActionType.ADD | ActionType.DELETE | ActionType.UPDATE_POD_LABEL
        node_actions = (
            ActionType.ADD | ActionType.DELETE | ActionType.UPDATE_NODE_LABEL | ActionType.UPDATE_NODE_TAINT
        )
        return [
            ClusterEventWithHint(ClusterEvent(ASSIGNED_POD, pod_actions)),
            ClusterEventWithHint(ClusterEvent(NODE, node_actions)),
        ]

    # --- scoring ------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        all_nodes = self.handle.snapshot().node_info_list
        if not all_nodes:
            return Status.skip()
        try:
            constraints = self._constraints(pod, sp.SCHEDULE_ANYWAY)
        except StatusError as err:
            return Status.as_error(f"obtaining pod's soft topology spread constraints: {err}")
        if not constraints:
            return Status.skip()
        s = _ScoreState()
        s.constraints = constraints
        s.counts = [{} for _ in constraints]
        # Nodes lacking a zone label can still be spread by hostname under the defaults.
        require_all = (
            bool((pod.pod.get("spec") or {}).get("topologySpreadConstraints")) or not self.system_defaulted
        )
        sizes = [0] * len(constraints)
        for node in nodes:
            if require_all and not sp.node_has_all_keys(node, constraints):
                s.ignored.add(node.name)
                continue
            for i, c in enumerate(constraints):
                if c.topology_key == sp.HOSTNAME:
                    continue
                value = node.labels.get(c.topology_key, "")
                if value not in s.counts[i]:
                    s.counts[i][value] = 0
                    sizes[i] += 1
        for i, c in enumerate(constraints):
            size = len(nodes) - len(s.ignored) if c.topology_key == sp.HOSTNAME else sizes[i]
            s.weights.append(math.log(size + 2))
        required = RequiredNodeAffinity(pod.pod)
        for node in all_nodes:
            if require_all and not sp.node_has_all_keys(node, constraints):
                continue
            for i, c in enumerate(constraints):
                if c.topology_key == sp.HOSTNAME or not c.includes(pod, node, required):
                    continue
                value = node.labels.get(c.topology_key, "")
                if value in s.counts[i]:
                    s.counts[i][value] += sp.count_matching(node.pods, c.selector, pod.namespace)
        state.write(_PRE_SCORE_KEY, s)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        s: _ScoreState = state.read(_PRE_SCORE_KEY)
        if node.name in s.ignored:
            return 0
        total = 0.0
        for i, c in enumerate(s.constraints):
            value = node.labels.get(c.topology_key)
            if value is None:
                continue
            if c.topology_key == sp.HOSTNAME:
                count = sp.count_matching(node.pods, c.selector, pod.namespace)
            else:
                count = s.counts[i].get(value, 0)
            total += count * s.weights[i] + (c.max_skew - 1)
        return math.floor(total + 0.5)

    def normalize_score(
        self, state: CycleState, pod: PodInfo, scores: list[int], nodes: Sequence[NodeInfo]
    ) -> Status | None:
        s: _ScoreState = state.read(_PRE_SCORE_KEY)
        valid = [score for score, n in zip(scores, nodes, strict=True) if n.name not in s.ignored]
        low = min(valid, default=0)
        high = max(valid, default=0)
        for i, node in enumerate(nodes):
            if node.name in s.ignored:
                scores[i] = 0
            elif high == 0:
                scores[i] = MAX_NODE_SCORE
            else:
                scores[i] = MAX_NODE_SCORE * (high + low - scores[i]) // high
        return None


def new(args: dict[str, Any], handle: Any) -> PodTopologySpread:
    return PodTopologySpread(args, handle)
