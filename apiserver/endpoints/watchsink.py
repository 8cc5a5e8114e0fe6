"""A push-mode watch's connection: the sink a ``Watcher`` hands its events to.

The sink keeps the frames of events not yet written (``pending``); the loop's
``Flusher`` writes them as one chunk per loop turn straight to the connection's
transport. A sink of a plain watcher is usually on a ``Feed`` shared with the other
watchers of its bucket instead (``group``): then the frames are the feed's, and the
sink only keeps how far it has been written (``cursor``). The watch handler has
already sent the response head through ASGI and sends the last chunk through ASGI too, so uvicorn's view of the response stays right
(keep-alive, the next request on the connection); in between nothing else writes on
the connection, which keeps the direct writes in order with uvicorn's.

Slow clients. Kubernetes ends a watch whose client cannot keep up, and the client
relists; it must not buffer without limit. Here what a client has not taken piles up
in the transport's write buffer (``get_write_buffer_size``: TLS plaintext backlog and
ciphertext not yet handed to the socket), which only grows once the kernel's socket
buffer is full. Before each write the sink checks it: above ``WRITE_BUFFER_LIMIT`` the
watcher is terminated (its stream ends cleanly after what was already written; this
batch is not written, so the client resumes exactly from the last event it got).
1 MiB is about a thousand typical events (the in-process watcher's buffer holds 1,000),
tens of seconds of a busy resource for a client that reads at all, and bounds what a
stuck client costs: unlike the cache's shared event objects these bytes are per
connection, so even a thousand stuck watchers hold at most ~1 GiB before they are gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from apiserver.watchcache.events import CacheEvent
from apiserver.watchcache.watcher import Watcher

from .feed import Feed
from .flusher import Flusher, chunk

logger = logging.getLogger(__name__)

WRITE_BUFFER_LIMIT = 1 << 20
SLOW_REASON = "watcher too slow: more than 1 MiB of its stream stayed unsent"


class ChunkSink:
    """Pushes one watcher's events to its chunked HTTP response. ``ended`` resolves when
    the watch is over: True when the server ended it, False when the client hung up."""

    __slots__ = ("_flusher", "_limit", "_transport", "_watcher", "cursor", "ended", "feed", "pending")

    def __init__(
        self,
        *,
        transport: asyncio.WriteTransport,
        watcher: Watcher,
        flusher: Flusher,
        limit: int = WRITE_BUFFER_LIMIT,
    ) -> None:
        self.pending: list[bytes] = []
        self.ended: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._transport = transport
        self._watcher = watcher
        self._flusher = flusher
        self._limit = limit
        self.feed: Feed | None = None
        self.cursor = 0  # on a feed: the position up to which it has been written

    @property
    def group(self) -> Flusher:
        """Sinks of one flusher can share a feed (``watchcache.watcher.Group``)."""
        return self._flusher

    def push(self, event: CacheEvent) -> None:
        if self.feed is not None:
            self.catch_up()
        self._add((event.frame(),))

    def _add(self, frames: Sequence[bytes]) -> None:
        """Queue ``frames`` after what is pending; the first ones since the last write
        put the sink in the flusher's queue. Nothing is taken once the watch has ended."""
        pending = self.pending
        if not pending:
            if self.ended.done():
                return
            self._flusher.mark(self)
        pending.extend(frames)

    def join(self, feed: Feed) -> None:
        self.feed = feed
        self.cursor = feed.end

    def catch_up(self) -> None:
        """Take what the feed owes this sink into ``pending``, so an event pushed to
        this sink alone goes out after them."""
        feed = self.feed
        if feed is None or self.cursor >= feed.end:
            return
        owed = feed.owed(self.cursor)
        self.cursor = feed.end
        self._add(owed)

    def leave(self) -> None:
        """The feed is dissolving: keep what it still owes this sink."""
        self.catch_up()
        self.feed = None

    def drain(self, budget: int, chunks: dict[tuple[bytes, ...], bytes]) -> tuple[int, bool]:
        """Write what is pending as one chunk (``flusher.Dirty``)."""
        pending = self.pending
        if pending:  # else ended, or a feed wrote it first, since it was queued
            self.pending = []
            key = tuple(pending)
            data = chunks.get(key)
            if data is None:
                data = chunks[key] = chunk(pending)
            self.write(data)
        return 1, False

    def write(self, data: bytes) -> None:
        """One chunk, from the flusher (or the end of a watch)."""
        transport = self._transport
        if transport.is_closing():
            self._watcher.close()  # the client is gone; the handler hears it too
        elif transport.get_write_buffer_size() > self._limit:
            self._watcher.terminate_slow(SLOW_REASON)
        else:
            try:
                transport.write(data)
            except Exception:  # one broken connection must not stop the flush for the rest
                logger.exception("watch stream write failed; closing the watch")
                self._watcher.close()

    def end(self, *, deliver: bool) -> None:
        if self.ended.done():
            return
        if self.feed is not None:  # normally dissolved already, when the watcher left
            self.feed.drop(self)
        pending, self.pending = self.pending, []
        self.ended.set_result(deliver)
        if deliver and pending and not self._transport.is_closing():
            self._transport.write(chunk(pending))
