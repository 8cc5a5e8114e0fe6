"""The fake API's storage: objects by key, one revision counter, a history, live watches.

It behaves as the API server's storage does where a controller can tell: every write
bumps one global revision that becomes the object's ``resourceVersion``; a watch from
revision R replays every change after R and then follows live ones; a watch from
nothing (or ``"0"``) starts with an ADDED per current object; a revision older than the
history answers 410 Expired (``compact`` makes that happen on purpose). Objects handed
out are deep copies, so a controller mutating what it read cannot corrupt the store.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kube.errors import Expired

Obj = dict[str, Any]
Key = tuple[str, str, str, str]
"""(group, plural, namespace, name); namespace is "" for cluster-scoped objects."""
Predicate = Callable[[Obj], bool]

ADDED, MODIFIED, DELETED, BOOKMARK = "ADDED", "MODIFIED", "DELETED", "BOOKMARK"


@dataclass(frozen=True, slots=True)
class Change:
    revision: int
    type: str
    key: Key
    object: Obj
    """As stored (the deleted object, with the delete's revision, for DELETED)."""


class Watch:
    """One open watch: events queued for its reader until it is closed."""

    def __init__(self, *, resource: tuple[str, str], namespace: str, predicate: Predicate | None,
                 convert: Callable[[Obj], Obj], on_close: Callable[[Watch], None]) -> None:
        self.resource = resource
        self.namespace = namespace
        self.predicate = predicate
        self.convert = convert
        self.queue: asyncio.Queue[tuple[str, Obj] | None] = asyncio.Queue()
        self.closed = False
        self._on_close = on_close

    def matches(self, change: Change) -> bool:
        group, plural, namespace, _ = change.key
        if (group, plural) != self.resource or (self.namespace and namespace != self.namespace):
            return False
        return self.predicate is None or self.predicate(change.object)

    def offer(self, change: Change) -> None:
        if not self.closed and self.matches(change):
            self.queue.put_nowait((change.type, self.convert(copy.deepcopy(change.object))))

    def close(self) -> None:
        """End the watch (the reader sees the end of the stream after what is queued)."""
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)
            self._on_close(self)

    @property
    def pending(self) -> int:
        return self.queue.qsize() - (1 if self.closed else 0)


class Store:
    def __init__(self) -> None:
        self.revision = 1
        self._objects: dict[Key, Obj] = {}
        self._history: list[Change] = []
        self._oldest = 1
        self._watches: list[Watch] = []

    # -- reads ---------------------------------------------------------------------------

    def get(self, key: Key) -> Obj | None:
        found = self._objects.get(key)
        return copy.deepcopy(found) if found is not None else None

    def keys(self) -> list[Key]:
        return sorted(self._objects)

    def items(self, group: str, plural: str, namespace: str = "") -> Iterator[tuple[Key, Obj]]:
        """Current objects of one resource (shared: callers copy what they hand out)."""
        for key in sorted(k for k in self._objects if k[:2] == (group, plural) and (not namespace or k[2] == namespace)):
            yield key, self._objects[key]

    # -- writes --------------------------------------------------------------------------

    def put(self, key: Key, obj: Obj) -> Obj:
        """Create or replace; the stored object gets the new revision as resourceVersion."""
        self.revision += 1
        stored = copy.deepcopy(obj)
        stored.setdefault("metadata", {})["resourceVersion"] = str(self.revision)
        existed = key in self._objects
        self._objects[key] = stored
        self._record(Change(self.revision, MODIFIED if existed else ADDED, key, stored))
        return copy.deepcopy(stored)

    def remove(self, key: Key) -> Obj:
        self.revision += 1
        gone = self._objects.pop(key)
        gone = copy.deepcopy(gone)
        gone["metadata"]["resourceVersion"] = str(self.revision)
        self._record(Change(self.revision, DELETED, key, gone))
        return copy.deepcopy(gone)

    def _record(self, change: Change) -> None:
        self._history.append(change)
        for watch in list(self._watches):
            watch.offer(change)

    # -- watches -------------------------------------------------------------------------

    def watch(self, *, resource: tuple[str, str], namespace: str, revision: int, predicate: Predicate | None,
              convert: Callable[[Obj], Obj]) -> Watch:
        """Open a watch; ``revision`` 0 starts with the current objects as ADDED."""
        if revision and revision < self._oldest - 1:
            raise Expired(f"too old resource version: {revision} ({self._oldest - 1})")
        watch = Watch(resource=resource, namespace=namespace, predicate=predicate, convert=convert,
                      on_close=self._watches.remove)
        if revision <= 0:
            for key, obj in self.items(*resource, namespace):
                watch.offer(Change(int(obj["metadata"]["resourceVersion"]), ADDED, key, obj))
        else:
            for change in self._history:
                if change.revision > revision:
                    watch.offer(change)
        self._watches.append(watch)
        return watch

    @property
    def watches(self) -> list[Watch]:
        return list(self._watches)

    def end_watches(self) -> None:
        """Close every watch, as a server does when a watch times out or it restarts."""
        for watch in list(self._watches):
            watch.close()

    def compact(self) -> None:
        """Forget the history: watches from an older revision now get 410 Expired."""
        self._history.clear()
        self._oldest = self.revision + 1
