"""One consumer's view of a shared informer: its handlers and its own backlog.

An informer serves many consumers from one watch. Each gets a :class:`Registration`
with its own unbounded buffer and its own task (client-go's ``processorListener``), so a
slow handler delays only itself — never the watch, the cache, or the other consumers.
Handlers are called one notification at a time, in order; they may be plain functions
(the usual "enqueue the key") or coroutines. A handler that raises is logged and the
next notification is delivered: one bad object must not stop a controller's view.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

OnAdd = Callable[[Any], Any]
OnUpdate = Callable[[Any, Any], Any]
OnDelete = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Notification:
    kind: Literal["add", "update", "delete", "synced"]
    new: Any = None
    old: Any = None


SYNCED = Notification("synced")
"""Queued after a consumer's share of the first list: once it is reached, every object
of the initial state has been handled (``Registration.has_synced``)."""


class Registration:
    def __init__(
        self,
        *,
        on_add: OnAdd | None,
        on_update: OnUpdate | None,
        on_delete: OnDelete | None,
        resync_period: float,
        name: str = "",
    ) -> None:
        self.on_add = on_add
        self.on_update = on_update
        self.on_delete = on_delete
        self.resync_period = resync_period
        self.next_resync = 0.0
        self.name = name
        self._pending: deque[Notification] = deque()
        self._wakeup = asyncio.Event()
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def has_synced(self) -> bool:
        """True once this consumer's handlers have been called for the whole initial list."""
        return self._synced.is_set()

    async def wait_for_sync(self) -> None:
        await self._synced.wait()

    def pending(self) -> int:
        return len(self._pending)

    def push(self, notification: Notification) -> None:
        self._pending.append(notification)
        self._wakeup.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"informer-listener-{self.name}"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            while not self._pending:
                self._wakeup.clear()
                await self._wakeup.wait()
            await self._deliver(self._pending.popleft())

    async def _deliver(self, n: Notification) -> None:
        if n.kind == "synced":
            self._synced.set()
            return
        try:
            if n.kind == "add":
                result = self.on_add(n.new) if self.on_add else None
            elif n.kind == "update":
                result = self.on_update(n.old, n.new) if self.on_update else None
            else:
                result = self.on_delete(n.new) if self.on_delete else None
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("informer handler %s failed on %s", self.name or "?", n.kind)
