"""NodeResourcesBalancedAllocation: prefer nodes whose CPU and memory would be used in
similar proportions, so no node runs out of one while the other sits idle.

Score = (1 − standard deviation of requested/allocatable across the resources) × 100,
with real (not defaulted) requests. A best-effort pod (requesting nothing) does not
change any node's balance, so the plugin skips itself for it at PreScore.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scheduler.framework.cycle_state import CycleState
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Status

from . import resource_allocation as ra
from .helpers import MISSING, NodeMemo

NAME = "NodeResourcesBalancedAllocation"
_KEY = "PreScore" + NAME


class BalancedAllocation:
    name = NAME

    def __init__(self, args: dict[str, Any]) -> None:
        self.resources = ra.parse_resources(args.get("resources"), "resources")
        self._fast = self.resources == ra.DEFAULT_RESOURCES
        self._memo = NodeMemo()

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        amounts = [ra.pod_request(pod, r.name, use_requested=True) for r in self.resources]
        if not any(amounts):
            return Status.skip()
        state.write(_KEY, amounts)
        return None

    def _amounts(self, state: CycleState, pod: PodInfo) -> list[int]:
        amounts = state.get(_KEY)
        return (
            list(amounts)
            if amounts is not None
            else [ra.pod_request(pod, r.name, use_requested=True) for r in self.resources]
        )

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return ra.score_nodes(
            [node], self.resources, self._amounts(state, pod), ra.balanced, use_requested=True
        )[0]

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        amounts = self._amounts(state, pod)
        if not self._fast:
            return ra.score_nodes(nodes, self.resources, amounts, ra.balanced, use_requested=True)
        pod_cpu, pod_mem = amounts
        table, out = self._memo.lookup((pod_cpu, pod_mem), nodes)
        if MISSING not in out:
            return out
        for i, n in enumerate(nodes):
            if out[i] is not MISSING:
                continue
            a, u = n.allocatable, n.requested
            ac, am = a.milli_cpu, a.memory
            if ac and am:
                fc = (u.milli_cpu + pod_cpu) / ac
                fm = (u.memory + pod_mem) / am
                fc = fc if fc < 1.0 else 1.0
                fm = fm if fm < 1.0 else 1.0
                score = int((1 - abs((fc - fm) / 2)) * 100)
            else:
                score = 100  # one resource or none: the deviation is zero
            out[i] = table[n.generation] = score
        return out


def new(args: dict[str, Any], handle: Any) -> BalancedAllocation:
    return BalancedAllocation(args)
