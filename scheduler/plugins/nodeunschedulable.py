"""NodeUnschedulable: keep pods off cordoned nodes (``spec.unschedulable``) unless they
tolerate the ``node.kubernetes.io/unschedulable:NoSchedule`` taint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scheduler.framework.cycle_state import CycleState
from scheduler.framework.events import NODE, ActionType, ClusterEvent, ClusterEventWithHint, QueueingHint
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Status
from scheduler.framework.taints import NO_SCHEDULE, UNSCHEDULABLE_TAINT_KEY, Taint, tolerated

from .helpers import traits

NAME = "NodeUnschedulable"
ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
_TAINT = Taint(UNSCHEDULABLE_TAINT_KEY, "", NO_SCHEDULE)


class NodeUnschedulable:
    name = NAME

    def __init__(self, handle: Any = None) -> None:
        self.handle = handle

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if node.unschedulable and not tolerated(_TAINT, pod.tolerations):
            return Status.unresolvable(ERR_REASON_UNSCHEDULABLE)
        return None

    def filter_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[Status | None]:
        if not traits(self.handle).unschedulable:
            return [None] * len(nodes)
        return [self.filter(state, pod, n) if n.unschedulable else None for n in nodes]

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(NODE, ActionType.ADD | ActionType.UPDATE_NODE_TAINT), self._node_schedulable
            )
        ]

    @staticmethod
    def _node_schedulable(pod: PodInfo, old: Any, new: Any) -> QueueingHint:
        if isinstance(new, dict) and not (new.get("spec") or {}).get("unschedulable"):
            return QueueingHint.QUEUE
        return QueueingHint.SKIP


def new(args: dict[str, Any], handle: Any) -> NodeUnschedulable:
    return NodeUnschedulable(handle)
