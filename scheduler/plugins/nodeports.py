"""NodePorts: a pod asking for host ports fits only where those ports are free.

A port bound on ``0.0.0.0`` conflicts with the same protocol/port on any address.
Pods without host ports skip the plugin at PreFilter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scheduler.framework.cycle_state import CycleState
from scheduler.framework.events import ASSIGNED_POD, NODE, ActionType, ClusterEvent, ClusterEventWithHint
from scheduler.framework.interfaces import PreFilterExtensions, PreFilterResult
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Status

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"


class NodePorts:
    name = NAME

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        if not pod.host_ports:
            return None, Status.skip()
        return None, None

    def pre_filter_extensions(self) -> PreFilterExtensions | None:
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        used = node.used_ports
        if used.by_ip and any(used.conflicts(ip, proto, port) for ip, proto, port in pod.host_ports):
            return Status.unschedulable(ERR_REASON)
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(ClusterEvent(ASSIGNED_POD, ActionType.DELETE)),
            ClusterEventWithHint(ClusterEvent(NODE, ActionType.ADD)),
        ]


def new(args: dict[str, Any], handle: Any) -> NodePorts:
    return NodePorts()
