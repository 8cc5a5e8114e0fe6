"""DefaultBinder: bind by POSTing a v1 Binding to ``pods/<name>/binding``.

The Binding carries the scheduler's decision summary as an annotation; the API server
copies a Binding's annotations onto the pod in the same write that sets
``spec.nodeName``, so explaining the decision costs no extra request.
"""

from __future__ import annotations

from typing import Any

from kube.errors import StatusError
from scheduler.framework.cycle_state import CycleState
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Status

NAME = "DefaultBinder"
ANNOTATIONS_KEY = "BindingAnnotations"
"""CycleState key: annotations the Binding should carry onto the pod."""


class DefaultBinder:
    name = NAME

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        try:
            await self.handle.api.bind(pod, node_name, annotations=state.get(ANNOTATIONS_KEY))
        except StatusError as err:
            return Status.as_error(err)
        return None


def new(args: dict[str, Any], handle: Any) -> DefaultBinder:
    return DefaultBinder(handle)
