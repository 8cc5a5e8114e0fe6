"""TaintToleration: ``NoSchedule``/``NoExecute`` taints a pod does not tolerate keep it
off the node; untolerated ``PreferNoSchedule`` taints make the node less attractive.

The Filter's reason names the first untolerated taint as Kubernetes does —
``node(s) had untolerated taint {key: value}`` — and is unresolvable (preemption cannot
remove a taint). Score counts untolerated PreferNoSchedule taints; normalization is
reversed, so the node with the fewest gets 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scheduler.framework.cycle_state import CycleState
from scheduler.framework.events import NODE, POD, ActionType, ClusterEvent, ClusterEventWithHint, QueueingHint
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Status
from scheduler.framework.taints import (
    PREFER_NO_SCHEDULE,
    Toleration,
    do_not_schedule,
    find_untolerated,
    parse_taints,
    tolerated,
)

from .helpers import default_normalize_score, traits

NAME = "TaintToleration"
_PRE_SCORE_KEY = "PreScore" + NAME


def untolerated_reason(key: str, value: str) -> str:
    return f"node(s) had untolerated taint {{{key}: {value}}}"


class TaintToleration:
    name = NAME

    def __init__(self, handle: Any = None) -> None:
        self.handle = handle

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.taints:
            return None
        taint = find_untolerated(node.taints, pod.tolerations, do_not_schedule)
        if taint is None:
            return None
        return Status.unresolvable(untolerated_reason(taint.key, taint.value))

    def filter_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[Status | None]:
        if not traits(self.handle).tainted:
            return [None] * len(nodes)
        return [self.filter(state, pod, n) if n.taints else None for n in nodes]

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(NODE, ActionType.ADD | ActionType.UPDATE_NODE_TAINT), self._tolerated
            ),
            ClusterEventWithHint(ClusterEvent(POD, ActionType.UPDATE_POD_TOLERATION)),
        ]

    @staticmethod
    def _tolerated(pod: PodInfo, old: Any, new: Any) -> QueueingHint:
        if not isinstance(new, dict):
            return QueueingHint.QUEUE
        taints = parse_taints((new.get("spec") or {}).get("taints"))
        untolerated = find_untolerated(taints, pod.tolerations, do_not_schedule)
        return QueueingHint.SKIP if untolerated is not None else QueueingHint.QUEUE

    # --- scoring ------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        prefer = [t for t in pod.tolerations if t.effect in ("", PREFER_NO_SCHEDULE)]
        state.write(_PRE_SCORE_KEY, prefer)
        return None

    def _tolerations(self, state: CycleState, pod: PodInfo) -> list[Toleration]:
        prefer = state.get(_PRE_SCORE_KEY)
        if prefer is None:
            prefer = [t for t in pod.tolerations if t.effect in ("", PREFER_NO_SCHEDULE)]
        return list(prefer)

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        tolerations = self._tolerations(state, pod)
        return sum(1 for t in node.prefer_no_schedule_taints if not tolerated(t, tolerations))

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        if not traits(self.handle).with_prefer_no_schedule:
            return [0] * len(nodes)
        tolerations = self._tolerations(state, pod)
        return [
            sum(1 for t in n.prefer_no_schedule_taints if not tolerated(t, tolerations))
            if n.prefer_no_schedule_taints
            else 0
            for n in nodes
        ]

    def normalize_score(
        self, state: CycleState, pod: PodInfo, scores: list[int], nodes: Sequence[NodeInfo]
    ) -> Status | None:
        default_normalize_score(scores, reverse=True)
        return None


def new(args: dict[str, Any], handle: Any) -> TaintToleration:
    return TaintToleration(handle)
