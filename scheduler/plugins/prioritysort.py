"""PrioritySort: the activeQ order — higher ``spec.priority`` first, then oldest first."""

from __future__ import annotations

from typing import Any

from scheduler.framework.podinfo import QueuedPodInfo

NAME = "PrioritySort"


class PrioritySort:
    name = NAME

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        pa, pb = a.pod_info.priority, b.pod_info.priority
        return pa > pb or (pa == pb and a.timestamp < b.timestamp)


def new(args: dict[str, Any], handle: Any) -> PrioritySort:
    return PrioritySort()
