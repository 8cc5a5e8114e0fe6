"""The recent-changes window that lets a client resume a watch from its resourceVersion.

A reflector that lost its connection re-watches from the last revision it saw; if the
cache still holds every change after that revision it replays them and the client never
relists. Memory must stay bounded, so changes are dropped when older than the time
window (Kubernetes sizes its window to ~75 s) or beyond a count cap. Dropping moves the
*horizon*: the revision after which the history is complete. A watch from below the
horizon cannot be honoured and gets 410 Expired, which makes the client relist.
"""

from __future__ import annotations

import bisect

from apiserver.watchcache.events import Change
from kube.errors import Expired

# Trimmed changes are skipped by an offset and the list is compacted only once the dead
# prefix is large, so trimming is O(1) amortized and ``since`` can bisect a plain list.
_COMPACT_AT = 1024


class History:
    def __init__(self, *, max_age: float, max_events: int) -> None:
        self._max_age = max_age
        self._max_events = max(1, max_events)
        self._changes: list[Change] = []
        self._start = 0
        self.horizon = 0
        """Every change with a revision above this one is held."""

    def __len__(self) -> int:
        return len(self._changes) - self._start

    def reset(self, *, revision: int) -> None:
        """Forget everything: a fresh listing at ``revision`` is the new starting point."""
        self._changes = []
        self._start = 0
        self.horizon = revision

    def append(self, change: Change) -> None:
        self._changes.append(change)
        self.trim(now=change.recorded_at)

    def trim(self, *, now: float) -> None:
        changes = self._changes
        oldest_allowed = now - self._max_age
        start = self._start
        end = len(changes)
        while start < end and (end - start > self._max_events or changes[start].recorded_at < oldest_allowed):
            self.horizon = changes[start].revision
            start += 1
        self._start = start
        if start >= _COMPACT_AT and start * 2 >= end:
            del changes[:start]
            self._start = 0

    def check(self, revision: int) -> None:
        """Raise Expired unless every change after ``revision`` is still held."""
        if revision < self.horizon:
            raise Expired.too_old(requested=revision, oldest=self.horizon)

    def since(self, revision: int) -> list[Change]:
        """The changes after ``revision``, oldest first (Expired if some were dropped)."""
        self.check(revision)
        first = bisect.bisect_right(self._changes, revision, lo=self._start, key=_revision_of)
        return self._changes[first:]


def _revision_of(change: Change) -> int:
    return change.revision
