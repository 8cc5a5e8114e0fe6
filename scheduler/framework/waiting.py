"""Pods held at Permit until every waiting plugin allows them (gang scheduling and the like).

A Permit plugin may answer Wait with a timeout; the pod keeps its assumed place on the
node while the binding cycle awaits the verdict, so other pods are scheduled meanwhile.
Any plugin's rejection, or its timeout, fails the pod ("rejected due to timeout after
waiting 10s at plugin X", as Kubernetes words it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from kube.client.clock import Clock, Timer

from .podinfo import PodInfo
from .status import Code, Status


class WaitingPod:
    def __init__(self, pod: PodInfo, waits: dict[str, float], clock: Clock) -> None:
        self.pod = pod
        self.pending = set(waits)
        self.future: asyncio.Future[Status | None] = asyncio.get_running_loop().create_future()
        self._timers: list[Timer] = [
            clock.call_later(timeout, self._timeout_callback(name, timeout))
            for name, timeout in waits.items()
        ]

    def _timeout_callback(self, plugin: str, timeout: float) -> Callable[[], None]:
        def fire() -> None:
            self.reject(plugin, f"rejected due to timeout after waiting {timeout:g}s at plugin {plugin}")

        return fire

    def allow(self, plugin: str) -> None:
        self.pending.discard(plugin)
        if not self.pending:
            self._finish(None)

    def reject(self, plugin: str, message: str) -> None:
        self._finish(Status(Code.UNSCHEDULABLE, (message,), plugin=plugin))

    def _finish(self, status: Status | None) -> None:
        for timer in self._timers:
            timer.cancel()
        if not self.future.done():
            self.future.set_result(status)


class WaitingPods:
    def __init__(self) -> None:
        self._pods: dict[str, WaitingPod] = {}

    def add(self, pod: PodInfo, waits: dict[str, float], clock: Clock) -> WaitingPod:
        waiting = self._pods[pod.uid] = WaitingPod(pod, waits, clock)
        return waiting

    def get(self, uid: str) -> WaitingPod | None:
        return self._pods.get(uid)

    def __iter__(self) -> Any:
        return iter(list(self._pods.values()))

    async def wait(self, uid: str) -> Status | None:
        waiting = self._pods.get(uid)
        if waiting is None:
            return None
        try:
            return await waiting.future
        finally:
            self._pods.pop(uid, None)
