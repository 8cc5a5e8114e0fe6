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

Push mode. Waking one reader task per event per watcher is what limits an HTTP server
fanning out to thousands of watches, so a server may instead ``attach`` a ``Sink`` once
the initial events are out (``initial_batch``): from then on ``offer`` hands each event
straight to the sink, which batches and writes it (see ``apiserver.endpoints.flusher``),
and the end of the watch is reported to the sink instead of to a reader. In push mode
the buffer and its capacity play no part: the sink bounds what a slow client may hold.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Protocol

from apiserver.watchcache.events import CacheEvent, Predicate


class Sink(Protocol):
    """Where a push-mode watcher's events go (``Watcher.attach``)."""

    def push(self, event: CacheEvent) -> None:
        """Take one more event, in order. Must not block or await."""

    def end(self, *, deliver: bool) -> None:
        """The watch is over: ``deliver`` is True when the server ended it (what was
        pushed still goes out), False when the client hung up (drop it)."""


class Feed(Protocol):
    """One push for many sinks: the sinks of a bucket's plain watchers all take every
    change, so the dispatcher hands each change to their feed once instead of to each
    sink (see ``dispatch``); the feed's owner gets it to every sink, in order."""

    def push(self, event: CacheEvent) -> None:
        """Every sink of the feed takes ``event``, after what the feed already had."""

    def dissolve(self) -> None:
        """The plan that made this feed is gone: each sink keeps what it has not been
        given yet as its own, ahead of anything pushed to it later. Idempotent."""


class Group(Protocol):
    """What sinks that can share a ``Feed`` have in common (``Sink.group``)."""

    def feed(self, sinks: list[Sink]) -> Feed:
        """A new feed for ``sinks``, none of which is on another live feed."""


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
        "_on_attach",
        "_on_slow",
        "_room",
        "_waiter",
        "after",
        "allow_bookmarks",
        "done",
        "index_value",
        "namespace",
        "predicate",
        "reason",
        "sink",
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
        on_slow: Callable[[], None] | None = None,
        on_attach: Callable[[Watcher], None] | None = None,
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
        self._on_slow = on_slow
        self._on_attach = on_attach
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None
        self.sink: Sink | None = None
        """Set once in push mode (``attach``); the dispatcher hands events to it directly."""

    # -- the cacher's side -------------------------------------------------------------

    def offer(self, event: CacheEvent) -> bool:
        """Buffer ``event`` unless full; wakes a waiting reader. False when full.
        In push mode the event goes to the sink, which always takes it."""
        sink = self.sink
        if sink is not None:
            sink.push(event)
            return True
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
        if self.sink is not None:
            self.sink.end(deliver=True)

    def terminate_slow(self, reason: str) -> None:
        """``terminate`` because the client does not keep up (counted by the cache)."""
        if not self.done and self._on_slow is not None:
            self._on_slow()
        self.terminate(reason)

    # -- the client's side -------------------------------------------------------------

    def close(self) -> None:
        """Hang up: stop receiving and drop whatever is buffered. Idempotent."""
        self._initial = None
        self._buffer.clear()
        if not self.done:
            self.done = True
            self._forget(self)
        self._wake()
        if self.sink is not None:
            self.sink.end(deliver=False)

    # -- push mode ---------------------------------------------------------------------

    def initial_batch(self, limit: int) -> list[CacheEvent]:
        """Up to ``limit`` further events of the initial listing or replay; [] once it
        is exhausted (or the watcher was closed). The server writes these with flow
        control before it ``attach``es a sink, so a large listing cannot pile up in a
        connection's write buffer."""
        initial = self._initial
        if initial is None:
            return []
        batch = list(itertools.islice(initial, max(1, limit)))
        if not batch:
            self._initial = None
        return batch

    def attach(self, sink: Sink) -> None:
        """Switch to push mode. Call once ``initial_batch`` returned []: whatever live
        events are buffered go to the sink first, in order, then every later one. If
        the watch has already ended, the sink is told at once."""
        if self._initial is not None:
            raise RuntimeError("attach() before the initial events were taken")
        buffered, self._buffer = self._buffer, deque()
        self.sink = sink
        if self._on_attach is not None:
            self._on_attach(self)
        for event in buffered:
            sink.push(event)
        # A dispatch waiting for room in the (now empty) buffer can go on: its offer
        # lands in the sink.
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)
        if self.done:
            sink.end(deliver=True)  # a close() already dropped what it had to

    def prepend(self, events: list[CacheEvent]) -> None:
        """Deliver ``events`` before anything else (the initial listing of a
        ``sendInitialEvents`` watch and its closing bookmark)."""
        if events:
            rest = self._initial
            self._initial = iter(events) if rest is None else itertools.chain(events, rest)

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
