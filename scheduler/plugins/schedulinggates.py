"""SchedulingGates: a pod with ``spec.schedulingGates`` stays out of activeQ until every
gate is removed (another controller's way to say "not yet")."""

from __future__ import annotations

from typing import Any

from scheduler.framework.events import POD, ActionType, ClusterEvent, ClusterEventWithHint
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Status

NAME = "SchedulingGates"


class SchedulingGates:
    name = NAME

    def pre_enqueue(self, pod: PodInfo) -> Status | None:
        gates = (pod.pod.get("spec") or {}).get("schedulingGates") or []
        if not gates:
            return None
        names = [str(g.get("name")) for g in gates if isinstance(g, dict)]
        return Status.unresolvable(f"waiting for scheduling gates: [{' '.join(names)}]", plugin=NAME)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [ClusterEventWithHint(ClusterEvent(POD, ActionType.UPDATE_POD_OTHER))]


def new(args: dict[str, Any], handle: Any) -> SchedulingGates:
    return SchedulingGates()
