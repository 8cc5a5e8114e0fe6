"""NodeName: a pod that names its node (``spec.nodeName``) fits only there.

A pod the scheduler sees has no node yet, so for it this plugin skips itself at
PreFilter; it matters when the framework evaluates pods that do name one (simulations).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scheduler.framework.cycle_state import CycleState
from scheduler.framework.events import NODE, ActionType, ClusterEvent, ClusterEventWithHint
from scheduler.framework.interfaces import PreFilterExtensions, PreFilterResult
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Status

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = NAME

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        if not pod.node_name:
            return None, Status.skip()
        return PreFilterResult({pod.node_name}), None

    def pre_filter_extensions(self) -> PreFilterExtensions | None:
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if pod.node_name and pod.node_name != node.name:
            return Status.unresolvable(ERR_REASON)
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [ClusterEventWithHint(ClusterEvent(NODE, ActionType.ADD))]


def new(args: dict[str, Any], handle: Any) -> NodeName:
    return NodeName()
