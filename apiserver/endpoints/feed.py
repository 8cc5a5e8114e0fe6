"""One shared stream of frames for the watch connections of a bucket's plain watchers.

Without it the dispatcher called every watcher's sink for every change, and each sink
kept its own list of pending frames: with a thousand watchers that is a thousand calls
and appends per change, for lists that are all the same. A feed keeps the frames once.
Each sink remembers how far into them it has been written (``cursor``, an absolute
position: ``base`` is the position of ``frames[0]``), and the flusher walks the sinks
a slice at a time, writing each the frames past its cursor as one chunk. Sinks
written in the same slice past the same cursor get the same bytes, joined once.

A round visits every sink once. Frames that arrive during a round reach the sinks
still ahead in it at once, and the others in the next round, which starts as soon as
this one ends; frames every sink has had are dropped at the end of each round, so a
feed holds at most about one round's worth.

A feed lives as long as the dispatcher's plan for its bucket. When a watcher comes or
goes the plan is dropped and the feed ``dissolve``d: each sink takes what it was still
owed into its own pending frames, ahead of anything later, and is flushed on its own.
The same happens to one sink that is pushed an event of its own (a bookmark) while on
the feed (``ChunkSink.catch_up``), so the order on every connection is the order of
the pushes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apiserver.watchcache.events import CacheEvent

from .flusher import chunk

if TYPE_CHECKING:
    from .flusher import Flusher
    from .watchsink import ChunkSink


class Feed:
    """The frames pushed to a set of sinks, and how far each has been written."""

    __slots__ = ("_flusher", "_pos", "_queued", "base", "dissolved", "frames", "sinks")

    def __init__(self, *, flusher: Flusher, sinks: list[ChunkSink]) -> None:
        self._flusher = flusher
        self.sinks = sinks
        self.frames: list[bytes] = []
        self.base = 0
        self.dissolved = False
        self._pos = 0  # the next sink of the round under way
        self._queued = False
        for sink in sinks:
            sink.join(self)

    @property
    def end(self) -> int:
        """The position after the last frame."""
        return self.base + len(self.frames)

    def owed(self, cursor: int) -> list[bytes]:
        """The frames past ``cursor``."""
        return self.frames[cursor - self.base :]

    def push(self, event: CacheEvent) -> None:
        self.frames.append(event.frame())
        if not self._queued and not self.dissolved:
            self._queued = True
            self._flusher.mark(self)

    def dissolve(self) -> None:
        if self.dissolved:
            return
        self.dissolved = True
        for sink in self.sinks:
            sink.leave()
        self.frames = []
        self.sinks = []

    def drop(self, sink: ChunkSink) -> None:
        """``sink`` leaves alone (its watch ended while the feed lives on)."""
        index = self.sinks.index(sink)
        del self.sinks[index]
        if index < self._pos:
            self._pos -= 1
        sink.leave()

    def drain(self, budget: int, chunks: dict[tuple[bytes, ...], bytes]) -> tuple[int, bool]:
        """Write the next ``budget`` sinks of the round (``flusher.Dirty``)."""
        if self.dissolved:
            return 0, False
        frames, base = self.frames, self.base
        end = base + len(frames)
        sinks = self.sinks
        start = i = self._pos
        stop = min(len(sinks), i + budget)
        joined: dict[int, bytes] = {}  # by cursor: ``end`` does not move during a drain
        while i < stop:
            sink = sinks[i]
            i += 1
            cursor = sink.cursor
            if sink.pending:  # its own frames come first (see ChunkSink.catch_up)
                own, sink.pending = sink.pending, []
                sink.cursor = end
                sink.write(chunk([*own, *frames[cursor - base :]]))
            elif cursor < end:
                data = joined.get(cursor)
                if data is None:
                    data = joined[cursor] = chunk(frames[cursor - base :])
                sink.cursor = end
                sink.write(data)
            else:
                continue
            if self.dissolved:  # that write ended a watch, which dropped the plan
                return i - start, False
        self._pos = i
        if i < len(sinks):
            return i - start, True
        self._pos = 0
        lowest = min((sink.cursor for sink in sinks), default=end)
        del frames[: lowest - base]
        self.base = lowest
        if lowest < end:  # frames came during the round: another one
            return i - start, True
        self._queued = False
        return i - start, False
