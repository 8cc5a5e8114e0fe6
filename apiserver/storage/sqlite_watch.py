"""Watch on the SQLite log: recent events from memory, older ones from the file.

The writer publishes every committed event, in revision order, into a bounded in-memory
ring and wakes the parked watches (an asyncio future each — nothing polls the file).
Each watch keeps a cursor, the revision it has delivered everything up to:

* cursor inside the ring's window → take the events after it from the ring;
* cursor older than the window (a watch from an old revision, or one that fell behind
  by more than the ring holds) → read the next batch from the log table, then look again.

Because both sources are keyed by revision and the cursor only moves forward, an event
that is both in a file read and later in the ring is delivered once, and events that
commit while a watch is starting are neither lost nor doubled. A cursor older than the
compaction point is Expired, as in etcd. The ring holds encoded bytes and every watch
decodes its own copy, so no two consumers ever share a mutable dict.

A commit wakes only the parked watches whose prefix it touches. The API server keeps
one storage watch per resource (~25), and waking all of them for every pod write cost
a quarter of a create's CPU. A parked watch is told, on waking, up to which revision
the hub saw nothing for it, so a watch on a quiet prefix does not fall behind the ring
(and read the file) just because other prefixes were busy while it slept.
"""

from __future__ import annotations

import asyncio
import bisect
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from . import codec
from .errors import RevisionCompacted, too_old
from .interface import WatchEvent
from .sqlite_log import LogEvent

ReadEvents = Callable[[int, int], Awaitable[tuple[list[LogEvent], int]]]
"""``(after, limit) -> (events under the watch's prefix, revision seen up to)``."""

CATCH_UP_BATCH = 512


class EventRing:
    """The last ``capacity`` events. Invariant: it holds every event with a revision in
    ``(floor, last]``."""

    def __init__(self, *, capacity: int, revision: int) -> None:
        self._capacity = max(capacity, 1)
        self._events: list[LogEvent] = []
        self._start = 0  # events[:start] are evicted; trimmed in bulk (amortized O(1))
        self.floor = revision
        self.last = revision

    def append(self, event: LogEvent) -> None:
        self._events.append(event)
        self.last = event.revision
        if len(self._events) - self._start > self._capacity:
            self.floor = self._events[self._start].revision
            self._start += 1
            if self._start >= self._capacity:
                del self._events[: self._start]
                self._start = 0

    def after(self, revision: int, prefix: str) -> list[LogEvent]:
        i = bisect.bisect_right(self._events, revision, lo=self._start, key=_revision_of)
        return [e for e in self._events[i:] if e.key.startswith(prefix)]


def _revision_of(event: LogEvent) -> int:
    return event.revision


@dataclass(slots=True, eq=False)
class Parked:
    """A watch waiting for events under ``prefix``."""

    prefix: str
    future: asyncio.Future[None]
    quiet_until: int
    """On waking: no event under ``prefix`` was published between the last one the
    watch saw and this revision (set to just before the event that woke it)."""


class WatchHub:
    """Where the writer's commits meet the watches."""

    def __init__(self, *, capacity: int, revision: int, compacted: int) -> None:
        self.ring = EventRing(capacity=capacity, revision=revision)
        self.compacted = compacted
        self.closed = False
        self.open_watches = 0
        # By prefix: those ending in "/" (all the storage's own) are found from the key.
        self._parked: dict[str, set[Parked]] = {}
        self._parked_odd: dict[str, set[Parked]] = {}

    def publish(self, events: list[LogEvent]) -> None:
        for event in events:
            self.ring.append(event)
        parked = self._parked
        if not parked and not self._parked_odd:
            return
        for event in events:
            # The prefixes a key can be under end at one of its slashes (the storage's
            # prefixes do: ``/registry/pods/``); any other prefix is tested as such.
            key = event.key
            at = key.find("/")
            while at >= 0:
                group = parked.pop(key[: at + 1], None)
                if group is not None:
                    _wake(group, revision=event.revision)
                at = key.find("/", at + 1)
            if self._parked_odd:
                for prefix in [p for p in self._parked_odd if key.startswith(p)]:
                    _wake(self._parked_odd.pop(prefix), revision=event.revision)

    def close(self) -> None:
        self.closed = True
        groups = [*self._parked.values(), *self._parked_odd.values()]
        self._parked, self._parked_odd = {}, {}
        for group in groups:
            for parked in group:
                _resolve(parked.future)

    async def wait(self, parked: Parked) -> None:
        """Sleep until an event under ``parked.prefix`` is published, the hub closes or
        someone resolves ``parked.future``; ``parked.quiet_until`` then tells up to which
        revision nothing under the prefix was published."""
        groups = self._parked if parked.prefix.endswith("/") else self._parked_odd
        groups.setdefault(parked.prefix, set()).add(parked)
        try:
            await parked.future
        finally:
            group = groups.get(parked.prefix)
            if group is not None:
                group.discard(parked)
                if not group:
                    del groups[parked.prefix]


def _wake(group: set[Parked], *, revision: int) -> None:
    """Wake ``group`` for the event at ``revision``: nothing before it concerned them
    (they were parked, and this is the first event under their prefix since)."""
    for parked in group:
        parked.quiet_until = max(parked.quiet_until, revision - 1)
        _resolve(parked.future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class SqliteWatch:
    """One watch; an async iterator of WatchEvent. ``aclose()`` may be called from any
    task, also while another task is waiting in ``__anext__`` (which then ends)."""

    def __init__(self, *, hub: WatchHub, read_events: ReadEvents, prefix: str, revision: int) -> None:
        self._hub = hub
        self._read_events = read_events
        self._prefix = prefix
        self._requested = revision
        self._cursor = revision
        self._pending: deque[LogEvent] = deque()
        self._started = False
        self._closed = False
        self._parked: Parked | None = None
        hub.open_watches += 1

    def __aiter__(self) -> SqliteWatch:
        return self

    async def __anext__(self) -> WatchEvent:
        try:
            while not self._pending:
                if self._closed or self._hub.closed:
                    raise StopAsyncIteration
                await self._refill()
            return _to_watch_event(self._pending.popleft())
        except (StopAsyncIteration, Exception):
            # Any error ends the watch (the consumer re-lists and watches again), so
            # release it now rather than wait for an aclose that may never come.
            self._release()
            if self._hub.closed:
                raise StopAsyncIteration from None  # the store closed under us
            raise

    async def aclose(self) -> None:
        self._release()
        if self._parked is not None:
            _resolve(self._parked.future)

    def _release(self) -> None:
        if not self._closed:
            self._closed = True
            self._hub.open_watches -= 1

    async def _refill(self) -> None:
        hub = self._hub
        if not self._started:
            self._started = True
            if self._cursor < hub.compacted:
                raise too_old(requested=self._requested, compacted=hub.compacted)
        if self._cursor < hub.ring.floor:
            try:
                events, upto = await self._read_events(self._cursor, CATCH_UP_BATCH)
            except RevisionCompacted as e:
                raise too_old(requested=self._requested, compacted=e.compacted) from None
            self._pending.extend(events)
            self._cursor = max(self._cursor, upto)
            return
        events = hub.ring.after(self._cursor, self._prefix)
        self._cursor = max(self._cursor, hub.ring.last)
        if events:
            self._pending.extend(events)
            return
        parked = Parked(
            prefix=self._prefix, future=asyncio.get_running_loop().create_future(), quiet_until=self._cursor
        )
        self._parked = parked
        try:
            await hub.wait(parked)
        finally:
            self._parked = None
        self._cursor = max(self._cursor, parked.quiet_until)


def _to_watch_event(event: LogEvent) -> WatchEvent:
    load_prev = None
    if event.prev_data is not None:
        load_prev = partial(codec.decode, event.key, event.prev_data, event.prev_revision)
    return WatchEvent(
        type=event.type,
        key=event.key,
        object=codec.decode(event.key, event.data, event.revision),
        revision=event.revision,
        load_prev=load_prev,
    )
