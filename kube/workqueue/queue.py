"""The de-duplicating work queue at the heart of every controller (client-go's ``workqueue.Type``).

Event handlers only ``add`` keys; workers ``get`` a key, reconcile it from the cache,
and call ``done``. Three sets make that safe and cheap:

- ``queue``: keys waiting, in order;
- ``dirty``: keys that need processing (queued, or re-added while being processed), so
  N adds of a key that is still waiting collapse into one reconcile — a controller
  works from current state, so one pass covers every event before it;
- ``processing``: keys a worker holds. A key is never handed to two workers at once;
  an add while it is being processed only marks it dirty, and ``done`` puts it back
  in the queue, so the change that arrived mid-reconcile is not lost.

Shutting down stops new adds; workers still get what is queued, then ``get`` raises
:class:`ShutDown` and they exit. ``shut_down_with_drain`` also waits until every key a
worker holds has been marked ``done``.

One queue belongs to one event loop: it is not thread-safe (handlers run on the loop).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


class ShutDown(Exception):
    """Raised by ``get`` once the queue is shut down and empty: the worker should exit."""


class Queue(Generic[T]):
    def __init__(self, *, name: str = "") -> None:
        self.name = name
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._shutting_down = False
        self._drained: asyncio.Event | None = None

    def add(self, item: T) -> None:
        if self._shutting_down or item in self._dirty:
            return
        self._dirty.add(item)
        if item in self._processing:
            return  # done() re-queues it
        self._queue.append(item)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _wake_all(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def get(self) -> T:
        """The next key, waiting for one; raises :class:`ShutDown` when there will be none."""
        while not self._queue:
            if self._shutting_down:
                raise ShutDown(self.name or "work queue is shut down")
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                # If we were woken and cancelled in the same instant, pass the wake-up on:
                # otherwise a queued key would sit there with an idle worker waiting.
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()
                raise
        item = self._queue.popleft()
        self._processing.add(item)
        self._dirty.discard(item)
        return item

    def done(self, item: T) -> None:
        """The worker has finished with ``item``; if it was re-added meanwhile, queue it again."""
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            self._wake_one()
        elif not self._processing and self._drained is not None:
            self._drained.set()

    def __len__(self) -> int:
        return len(self._queue)

    def len(self) -> int:
        """Keys waiting (not those being processed), as client-go's ``Len``."""
        return len(self._queue)

    def shutting_down(self) -> bool:
        return self._shutting_down

    def shut_down(self) -> None:
        """Ignore adds from now on; idle workers get :class:`ShutDown` at once."""
        self._shutting_down = True
        self._wake_all()

    async def shut_down_with_drain(self) -> None:
        """Shut down, then wait until every key being processed has been marked done."""
        self._drained = asyncio.Event()
        self.shut_down()
        if self._processing:
            await self._drained.wait()
