"""One write per watcher per loop turn: the batching half of push-mode watches.

Writing each event to each watch connection as it happens costs a task wake-up, an
ASGI ``send``, uvicorn's chunk framing and a TLS record per watcher per event; with a
thousand watchers that saturates the server's one event loop long before the watch
cache does. Instead a push-mode watcher's sink (``watchsink``) only appends the
event's shared, pre-encoded frame to its pending list, and the first sink to get
something marks itself dirty here, which schedules one ``flush`` for the next loop turn.
The flush writes, for each dirty sink, everything pending as ONE HTTP/1.1 chunk.

* Watchers that saw the same events (the usual case: unfiltered watches of one
  resource) have equal pending lists of the very same frame objects, so the chunk is
  joined once and the same bytes are written to every connection.
* Under load batches grow by themselves: whatever arrives while a flush (or anything
  else) keeps the loop busy goes out in the next flush, one write per watcher, so the
  cost per event falls as the rate rises and latency stays bounded instead of queueing
  up behind per-event writes.
* The watchers of one bucket that take every change come as one ``Feed`` (``feed``):
  the dispatcher pushes each change to it once, and the flush walks its sinks in
  slices, writing each what it has not had yet.
* A flush writes at most ``SLICE`` connections, then yields the loop and goes on in the
  next turn. A TLS write costs ~15 µs, so a thousand watchers would hold the loop for
  ~15 ms in one go; an event passes through several loop turns on its way (the POST's
  read, the handler, the storage commit, the cache's update, the flush), and each of
  those turns would wait behind the whole flush. Sliced, the rest of the server keeps
  moving while the writes go out, and new events join the flush still under way.
  Sixteen it is: against 32, p99 of bench/watch_http.py fell from 86–92 to 62–98 ms
  (median 74, seven runs, alternated with 32's); 8 read 75–86 ms.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .feed import Feed
    from .watchsink import ChunkSink

SLICE = 16
CHUNKS_KEPT = 256  # joined chunks remembered for sinks with the same pending frames


class Dirty(Protocol):
    """What the flusher queues: a sink with frames pending, or a feed."""

    def drain(self, budget: int, chunks: dict[tuple[bytes, ...], bytes]) -> tuple[int, bool]:
        """Write to at most ``budget`` connections; how many were visited, and whether
        there is more to write (then it is queued again, behind the others)."""
        ...


def chunk(frames: Sequence[bytes]) -> bytes:
    """``frames`` as one HTTP/1.1 chunk: size in hex, CRLF, data, CRLF."""
    size = sum(map(len, frames))
    return b"".join([b"%x\r\n" % size, *frames, b"\r\n"])


class Flusher:
    """The dirty sinks and feeds of one event loop, written a slice per loop turn."""

    __slots__ = ("__weakref__", "_chunks", "_loop", "_queue")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: deque[Dirty] = deque()
        self._chunks: dict[tuple[bytes, ...], bytes] = {}

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> Flusher:
        """The loop's flusher (one per loop, so one flush serves every watch on it)."""
        flusher = _FLUSHERS.get(loop)
        if flusher is None:
            flusher = _FLUSHERS[loop] = cls(loop)
        return flusher

    def mark(self, item: Dirty) -> None:
        """``item`` has something to write and is not queued yet."""
        if not self._queue:
            self._loop.call_soon(self.flush)
        self._queue.append(item)

    def feed(self, sinks: list[ChunkSink]) -> Feed:
        """A shared feed for ``sinks`` (``watchcache.watcher.Group``)."""
        from .feed import Feed

        return Feed(flusher=self, sinks=sinks)

    def flush(self) -> None:
        queue = self._queue
        # Keyed by the frames themselves: bytes cache their hash, and a hit compares
        # the same objects (identity first), so equal lists cost a few pointer checks.
        chunks = self._chunks
        if len(chunks) > CHUNKS_KEPT:
            chunks = self._chunks = {}
        budget = SLICE
        while queue and budget > 0:
            item = queue.popleft()
            visited, again = item.drain(budget, chunks)
            budget -= visited
            if again:
                queue.append(item)
        if queue:
            # The rest stay queued (so ``mark`` schedules nothing) for the next turn.
            self._loop.call_soon(self.flush)
        else:
            self._chunks = {}


_FLUSHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Flusher] = weakref.WeakKeyDictionary()
