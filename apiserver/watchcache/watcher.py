"""One client's view of the cache: a bounded buffer of events and its filter.

The cacher pushes into a watcher synchronously (``offer``) and never waits on it in the
common case; the client pulls at its own pace with ``async for``. The buffer is bounded
because one stuck client must not hold events for ever: when it is full the cacher may
wait a little (a budget shared by all watchers, see ``dispatch``) and then ends the
watcher, whose client relists, as Kubernetes' cache watcher does.

Ending a watcher has two flavours. ``close()`` is the client hanging up: anything still
buffered is dropped. ``terminate()`` is the server ending the watch (slow client, relist,
shutdown): the client first receives what was already buffered, all of it consistent,
then the iteration ends, so a client resuming from its last revision loses nothing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType

from apiserver.watchcache.events import CacheEvent, Predicate


class Watcher:
    """An async iterator of ``CacheEvent``; also an async context manager that closes it.

    The events' objects are shared with the cache and other watchers: do not mutate them.
    """

    __slots__ = (
        "_buffer",
        "_capacity",
        "_forget",
        "_initial",
        "_loop",
        "_room",
        "_waiter",
        "after",
        "allow_bookmarks",
        "done",
        "index_value",
        "namespace",
        "predicate",
        "reason",
    )

    def __init__(
        self,
        *,
        predicate: Predicate | None,
        after: int,
        capacity: int,
        initial: Iterator[CacheEvent] | None,
        allow_bookmarks: bool,
        namespace: str,
        index_value: str | None,
        forget: Callable[[Watcher], None],
    ) -> None:
        self.predicate = predicate
        self.after = after
        """Live changes at or below this revision are already covered by ``initial``
        (or, for a watch from a future revision, not wanted)."""
        self.allow_bookmarks = allow_bookmarks
        self.namespace = namespace
        self.index_value = index_value
        self.done = False
        self.reason: str | None = None
        """Why the server ended this watch (None while open or when the client closed it)."""
        self._capacity = max(1, capacity)
        self._initial = initial
        self._buffer: deque[CacheEvent] = deque()
        self._forget = forget
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None

    # -- the cacher's side -------------------------------------------------------------

    def offer(self, event: CacheEvent) -> bool:
        """Buffer ``event`` unless full; wakes a waiting reader. False when full."""
        buffer = self._buffer
        if len(buffer) >= self._capacity:
            return False
        buffer.append(event)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        return True

    async def wait_for_room(self, *, within: float) -> bool:
        """Wait up to ``within`` seconds for the reader to free a slot. False if it did
        not (or the watcher ended meanwhile)."""
        while not self.done and len(self._buffer) >= self._capacity:
            if within <= 0:
                return False
            room = self._room = self._loop.create_future()
            started = self._loop.time()
            try:
                await asyncio.wait_for(room, within)
            except TimeoutError:
                return False
            finally:
                self._room = None
            within -= self._loop.time() - started
        return not self.done

    def terminate(self, reason: str) -> None:
        """End the watch from the server side; buffered events are still delivered."""
        if self.done:
            return
        self.done = True
        self.reason = reason
        self._forget(self)
        self._wake()

    # -- the client's side -------------------------------------------------------------

    def close(self) -> None:
        """Hang up: stop receiving and drop whatever is buffered. Idempotent."""
        self._initial = None
        self._buffer.clear()
        if not self.done:
            self.done = True
            self._forget(self)
        self._wake()

    def __aiter__(self) -> Watcher:
        return self

    async def __anext__(self) -> CacheEvent:
        initial = self._initial
        if initial is not None:
            event = next(initial, None)
            if event is not None:
                return event
            self._initial = None
        buffer = self._buffer
        while not buffer:
            if self.done:
                raise StopAsyncIteration
            # Whoever resolves the waiter also clears it; a waiter left behind by a
            # cancelled read is done, and offer() skips done waiters. (No try/finally:
            # this runs once per event per watcher.)
            waiter = self._waiter = self._loop.create_future()
            await waiter
        event = buffer.popleft()
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)
        return event

    async def __aenter__(self) -> Watcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pending(self) -> int:
        """Events buffered and not yet read (for metrics and tests)."""
        return len(self._buffer)

    def _wake(self) -> None:
        for future in (self._waiter, self._room):
            if future is not None and not future.done():
                future.set_result(None)
        self._waiter = None
