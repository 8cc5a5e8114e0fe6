"""Kubernetes Events for pods (``Scheduled``, ``FailedScheduling``, ``Preempted``).

These are core/v1 Events, what ``kubectl describe pod`` lists. Recording must never slow
scheduling: ``event()`` only appends to a bounded buffer (1,000, like client-go's
broadcaster) and returns; background workers send. When the API server falls behind,
the oldest unsent events are dropped and counted, never the scheduling.

Repeats are aggregated as client-go's correlator does: the same reason and message for
the same pod within ten minutes bumps ``count`` and ``lastTimestamp`` of the existing
Event instead of creating another, so a pod retried every 10 s makes one Event, not 360
an hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict, deque
from typing import Any

from kube import meta
from kube.client import Client
from kube.errors import NotFound
from kube.resources import default_registry

log = logging.getLogger(__name__)
EVENTS = default_registry().lookup("events")[0]
MAX_BUFFER = 1000
WORKERS = 16
"""Events sent at once. Each waits its turn at the API server behind the bindings; with
too few, a scheduler binding hundreds of pods a second fills the buffer and drops most
of its Scheduled events."""
AGGREGATION_WINDOW = 600.0
MAX_TRACKED = 4096
NOTE_LENGTH_LIMIT = 1024
Obj = dict[str, Any]


def truncate_message(message: str) -> str:
    if len(message) <= NOTE_LENGTH_LIMIT:
        return message
    return message[: NOTE_LENGTH_LIMIT - 4] + " ..."


class EventRecorder:
    def __init__(
        self, client: Client | None, *, component: str, instance: str = "", workers: int = WORKERS
    ) -> None:
        """``client`` sends the Events (None: record nothing, as in unit tests)."""
        self.client = client
        self.component = component
        self.instance = instance or f"{component}-{uuid.uuid4().hex[:8]}"
        self.workers = workers
        self.dropped = 0
        self.failed = 0
        self.sent = 0
        self._buffer: deque[tuple[Obj, str, str, str, str, Obj | None, str]] = deque()
        self._idle_workers: deque[asyncio.Future[None]] = deque()
        """Workers waiting for work. One event wakes one of them: waking all sixteen
        (an ``asyncio.Event``) cost fifteen useless task steps per event once events
        trickle in one per pod."""
        self._idle = asyncio.Event()
        self._sending = 0
        self._seen: OrderedDict[tuple[str, str, str], tuple[str, str, int, float]] = OrderedDict()
        self._tasks: list[asyncio.Task[None]] = []

    def event(
        self,
        obj: Obj,
        *,
        reason: str,
        message: str,
        type: str = "Normal",
        action: str = "",
        related: Obj | None = None,
        component: str = "",
    ) -> None:
        """Queue an Event about ``obj``; ``component`` is the reporting scheduler's name."""
        if len(self._buffer) >= MAX_BUFFER:
            self._buffer.popleft()
            self.dropped += 1
            if self.dropped & (self.dropped - 1) == 0:  # 1, 2, 4, 8, ...: visible, not a flood
                log.warning("the API server is not keeping up with events: %d dropped so far", self.dropped)
        item = (obj, type, reason, truncate_message(message), action, related, component or self.component)
        self._buffer.append(item)
        self._idle.clear()
        self._wake_one()

    def _wake_one(self) -> None:
        while self._idle_workers:
            waiter = self._idle_workers.popleft()
            if not waiter.done():  # a cancelled worker's future is done: skip it
                waiter.set_result(None)
                return

    def start(self) -> None:
        if self.client is None or self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._worker(), name=f"event-recorder-{i}") for i in range(self.workers)
        ]

    async def stop(self, *, flush: float = 2.0) -> None:
        """Send what is buffered (for up to ``flush`` seconds), then stop."""
        if flush > 0 and self._tasks and (self._buffer or self._sending):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(flush):
                    await self._idle.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _worker(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._buffer:
                waiter: asyncio.Future[None] = loop.create_future()
                self._idle_workers.append(waiter)
                await waiter
            item = self._buffer.popleft()
            self._sending += 1
            try:
                await self._send(*item)
                self.sent += 1
            except Exception as err:  # an event is best effort
                self.failed += 1
                level = logging.WARNING if self.failed & (self.failed - 1) == 0 else logging.DEBUG
                log.log(level, "could not record event %s (%d failed so far): %s", item[2], self.failed, err)
            finally:
                self._sending -= 1
                if not self._buffer and not self._sending:
                    self._idle.set()

    async def _send(
        self, obj: Obj, type: str, reason: str, message: str, action: str, related: Obj | None, component: str
    ) -> None:
        assert self.client is not None
        m = obj.get("metadata") or {}
        namespace = str(m.get("namespace") or "default")
        key = (str(m.get("uid") or ""), reason, message)
        now_wall = time.monotonic()
        stamp = meta.now()
        previous = self._seen.get(key)
        if previous is not None and now_wall - previous[3] < AGGREGATION_WINDOW:
            name, first, count, _ = previous
            try:
                await self.client.patch(
                    EVENTS, name=name, namespace=namespace, patch={"count": count + 1, "lastTimestamp": stamp}
                )
                self._remember(key, (name, first, count + 1, now_wall))
                return
            except NotFound:
                pass  # expired on the server: create anew
        name = f"{m.get('name')}.{time.time_ns():x}"
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {
                "apiVersion": str(obj.get("apiVersion") or "v1"),
                "kind": str(obj.get("kind") or "Pod"),
                "namespace": namespace,
                "name": str(m.get("name") or ""),
                "uid": str(m.get("uid") or ""),
                "resourceVersion": str(m.get("resourceVersion") or ""),
            },
            "reason": reason,
            "message": message,
            "type": type,
            "count": 1,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": self.instance,
        }
        if action:
            body["action"] = action
        if related is not None:
            rm = related.get("metadata") or {}
            body["related"] = {
                "apiVersion": "v1", "kind": "Pod", "namespace": str(rm.get("namespace") or ""),
                "name": str(rm.get("name") or ""), "uid": str(rm.get("uid") or ""),
            }  # fmt: skip
        await self.client.create(EVENTS, body, namespace=namespace)
        self._remember(key, (name, stamp, 1, now_wall))

    def _remember(self, key: tuple[str, str, str], value: tuple[str, str, int, float]) -> None:
        self._seen[key] = value
        self._seen.move_to_end(key)
        while len(self._seen) > MAX_TRACKED:
            self._seen.popitem(last=False)

    def pending(self) -> int:
        return len(self._buffer)
