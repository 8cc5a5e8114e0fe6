"""What the watch cache holds and hands out: entries, changes and events.

An object is examined once, when it enters the cache: its labels, its fields (for field
selectors) and its index value are computed then and kept beside it in an ``Entry``.
A change (``Change``) pairs the entry before with the entry after, so that every
watcher's filter runs against precomputed data, and the few distinct events a change
can turn into (ADDED, MODIFIED, DELETED) are built once and shared by all watchers
that receive them. That sharing is what keeps the per-watcher cost of an event small.

Objects are shared, read-only: the dicts inside entries and events are the ones the
storage returned, handed to every reader without copying. Callers must not mutate
them; copy first (``copy.deepcopy``) when a changed version is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

Obj = dict[str, Any]

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"
BOOKMARK = "BOOKMARK"


@dataclass(frozen=True, slots=True)
class CacheEvent:
    """One event as a watcher sees it. ``object`` is shared and must not be mutated."""

    type: str
    object: Obj
    revision: int
    _frame: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def frame(self) -> bytes:
        """The watch stream line ``{"type":…,"object":…}`` plus newline, encoded once:
        the same event object reaches every watcher, so N clients cost one encoding."""
        encoded = self._frame
        if encoded is None:
            encoded = orjson.dumps({"type": self.type, "object": self.object}) + b"\n"
            object.__setattr__(self, "_frame", encoded)
        return encoded


def resource_version(obj: Obj) -> int:
    text = (obj.get("metadata") or {}).get("resourceVersion") or "0"
    return int(text)


class Entry:
    """One cached object and what filters need to know about it, computed once."""

    __slots__ = ("_added", "fields", "index_value", "key", "labels", "namespace", "obj", "revision")

    def __init__(
        self,
        *,
        key: str,
        obj: Obj,
        revision: int,
        labels: Mapping[str, str],
        fields: Mapping[str, str],
        namespace: str,
        index_value: str | None,
    ) -> None:
        self.key = key
        self.obj = obj
        self.revision = revision
        self.labels = labels
        self.fields = fields
        self.namespace = namespace
        self.index_value = index_value
        self._added: CacheEvent | None = None

    def added(self) -> CacheEvent:
        """The synthetic ADDED of an initial listing, shared by every new watcher."""
        event = self._added
        if event is None:
            event = self._added = CacheEvent(ADDED, self.obj, self.revision)
        return event


Predicate = Callable[[Entry], bool]
"""A watcher's filter over an entry; ``None`` stands for "everything" so the hot path
can skip the call."""


class Change:
    """One applied storage event: the entry before (``old``) and after (``cur``).

    ``cur`` is None for a delete, ``old`` is None for a create. ``deleted_obj`` is what a
    DELETED event carries: for a real delete the storage's last value (already stamped
    with the delete's revision); for an object that merely stopped matching, a copy of
    the previous value stamped with this change's revision, made only if some watcher
    needs it."""

    __slots__ = ("_added", "_deleted", "_deleted_obj", "_modified", "cur", "old", "recorded_at", "revision")

    def __init__(
        self,
        *,
        revision: int,
        cur: Entry | None,
        old: Entry | None,
        deleted_obj: Obj | None,
        recorded_at: float,
    ) -> None:
        self.revision = revision
        self.cur = cur
        self.old = old
        self.recorded_at = recorded_at
        self._deleted_obj = deleted_obj
        self._added: CacheEvent | None = None
        self._modified: CacheEvent | None = None
        self._deleted: CacheEvent | None = None

    @property
    def key(self) -> str:
        entry = self.cur or self.old
        assert entry is not None
        return entry.key

    def added(self) -> CacheEvent:
        event = self._added
        if event is None:
            assert self.cur is not None
            event = self._added = CacheEvent(ADDED, self.cur.obj, self.revision)
        return event

    def modified(self) -> CacheEvent:
        event = self._modified
        if event is None:
            assert self.cur is not None
            event = self._modified = CacheEvent(MODIFIED, self.cur.obj, self.revision)
        return event

    def deleted(self) -> CacheEvent:
        event = self._deleted
        if event is None:
            obj = self._deleted_obj
            if obj is None:
                # As the Kubernetes cacher does: the watcher last saw the old content, so
                # it gets that content back, versioned at the change that removed it
                # from its view (so a resume from this event's revision is exact).
                assert self.old is not None
                prev = self.old.obj
                obj = {**prev, "metadata": {**prev.get("metadata", {}), "resourceVersion": str(self.revision)}}
            event = self._deleted = CacheEvent(DELETED, obj, self.revision)
        return event

    def plain(self) -> CacheEvent:
        """The event for a watcher that takes everything: the storage's own type."""
        if self.cur is None:
            return self.deleted()
        return self.modified() if self.old is not None else self.added()

    def event_for(self, predicate: Predicate | None) -> CacheEvent | None:
        """The event a watcher with ``predicate`` receives, or None when it is not
        interested: selector transitions become ADDED/DELETED, as in the Kubernetes
        cache watcher's convertToWatchEvent."""
        if predicate is None:
            return self.plain()
        cur, old = self.cur, self.old
        cur_passes = cur is not None and predicate(cur)
        old_passes = old is not None and predicate(old)
        if cur_passes:
            return self.modified() if old_passes else self.added()
        if old_passes:
            return self.deleted()
        return None


def bookmark(*, kind: str, api_version: str, revision: int) -> CacheEvent:
    """A BOOKMARK: an empty object of the watched kind carrying only a revision, telling
    the client it may resume from there without having seen a change."""
    obj: Obj = {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": str(revision)}}
    return CacheEvent(BOOKMARK, obj, revision)
