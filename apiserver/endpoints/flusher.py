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
* A flush writes at most ``SLICE`` connections, then yields the loop and goes on in the
  next turn. A TLS write costs ~15 µs, so a thousand watchers would hold the loop for
  ~15 ms in one go; an event passes through several loop turns on its way (the POST's
  read, the handler, the storage commit, the cache's update, the flush), and each of
  those turns would wait behind the whole flush. Sliced, the rest of the server keeps
  moving while the writes go out, and new events join the flush still under way.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Protocol


class Dirty(Protocol):
    """What the flusher needs of a sink."""

    pending: list[bytes]

    def write(self, data: bytes) -> None: ...


SLICE = 32


def chunk(frames: Sequence[bytes]) -> bytes:
    """``frames`` as one HTTP/1.1 chunk: size in hex, CRLF, data, CRLF."""
    size = sum(map(len, frames))
    return b"".join([b"%x\r\n" % size, *frames, b"\r\n"])


class Flusher:
    """The dirty sinks of one event loop, flushed once per loop turn."""

    __slots__ = ("__weakref__", "_chunks", "_dirty", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._dirty: list[Dirty] = []
        self._chunks: dict[tuple[bytes, ...], bytes] = {}

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> Flusher:
        """The loop's flusher (one per loop, so one flush serves every watch on it)."""
        flusher = _FLUSHERS.get(loop)
        if flusher is None:
            flusher = _FLUSHERS[loop] = cls(loop)
        return flusher

    def mark(self, sink: Dirty) -> None:
        """``sink`` just got its first pending frame since the last flush."""
        if not self._dirty:
            self._loop.call_soon(self.flush)
        self._dirty.append(sink)

    def flush(self) -> None:
        dirty = self._dirty
        # Keyed by the frames themselves: bytes cache their hash, and a hit compares
        # the same objects (identity first), so equal lists cost a few pointer checks.
        # Kept for all the slices of one round, then dropped.
        chunks = self._chunks
        if len(dirty) > SLICE:
            # The rest stay queued (so ``mark`` schedules nothing) for the next turn.
            self._dirty = dirty[SLICE:]
            dirty = dirty[:SLICE]
            self._loop.call_soon(self.flush)
        else:
            self._dirty = []
            self._chunks = {}
        for sink in dirty:
            pending = sink.pending
            if not pending:
                continue  # ended since it was marked
            sink.pending = []
            key = tuple(pending)
            data = chunks.get(key)
            if data is None:
                data = chunks[key] = chunk(pending)
            sink.write(data)


_FLUSHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Flusher] = weakref.WeakKeyDictionary()
