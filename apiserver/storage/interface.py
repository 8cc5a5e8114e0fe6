"""The one storage interface both backends implement.

It is shaped like Kubernetes' ``storage.Interface`` (apiserver/pkg/storage): objects are
JSON documents under keys ``/registry/<resource>/<namespace>/<name>``; the store's global
revision *is* the ``resourceVersion``; every update is a compare-and-swap on the key's
mod revision, and ``guaranteed_update`` is the only place that retries one. Objects go in
and come out as plain dicts; the store writes ``metadata.resourceVersion`` on the way out
(and strips it on the way in), so callers never keep it consistent by hand.

Errors are the Kubernetes ``Status`` errors of ``kube.errors``; the registry layer above
rewrites their resource/name details when it knows them better.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

Obj = dict[str, Any]


class EventType(enum.StrEnum):
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


_set = object.__setattr__  # WatchEvent's own writes, past its immutability


class WatchEvent:
    """One change. ``revision`` is the event's own revision (the new resourceVersion;
    for DELETED the revision of the delete, also written into the object's metadata).
    ``prev`` is the object before the change, when the backend knows it (always for
    MODIFIED/DELETED).

    A backend may pass ``load_prev`` instead of ``prev``: how to decode it, run on the
    first read of ``prev``. Most consumers never read it (the watch cache keeps its own
    previous copy), and decoding a whole object per update event was the watch path's
    largest cost. Immutable, like the frozen dataclass it replaces."""

    __slots__ = ("_load_prev", "_prev", "key", "object", "revision", "type")

    type: EventType
    key: str
    object: Obj
    revision: int
    _prev: Obj | None
    _load_prev: Callable[[], Obj] | None

    def __init__(
        self,
        *,
        type: EventType,
        key: str,
        object: Obj,
        revision: int,
        prev: Obj | None = None,
        load_prev: Callable[[], Obj] | None = None,
    ) -> None:
        _set(self, "type", type)
        _set(self, "key", key)
        _set(self, "object", object)
        _set(self, "revision", revision)
        _set(self, "_prev", prev)
        _set(self, "_load_prev", load_prev if prev is None else None)

    @property
    def prev(self) -> Obj | None:
        load = self._load_prev
        if load is not None:
            _set(self, "_prev", load())
            _set(self, "_load_prev", None)
        return self._prev

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: WatchEvent is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: WatchEvent is immutable")

    def __eq__(self, other: Any) -> bool:  # `object` names the field here
        if not isinstance(other, WatchEvent):
            return NotImplemented
        return (self.type, self.key, self.object, self.revision, self.prev) == (
            other.type, other.key, other.object, other.revision, other.prev
        )  # fmt: skip

    __hash__ = None  # type: ignore[assignment]  # as the dataclass: equal by value, unhashable

    def __repr__(self) -> str:
        return (
            f"WatchEvent(type={self.type!r}, key={self.key!r}, object={self.object!r}, "
            f"revision={self.revision!r}, prev={self.prev!r})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ListResult:
    items: list[Obj]
    revision: int
    """The revision the list was read at; a watch from it misses nothing."""
    continue_token: str = ""
    remaining: int | None = None
    """Items left after this page, when known (``metadata.remainingItemCount``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Preconditions:
    uid: str | None = None
    resource_version: str | None = None


UpdateFunc = Callable[[Obj], Awaitable[Obj | None]]
"""Given the current object (a private copy), return the new one, or None to leave it
unchanged. Raising a StatusError aborts the update and propagates."""

DeleteCheck = Callable[[Obj], Awaitable[None]]


class Storage(Protocol):
    """Async key-value store of JSON objects with revisions and watch."""

    async def create(self, key: str, obj: Obj) -> Obj:
        """Store ``obj`` if ``key`` is absent. Returns it with its resourceVersion.
        Raises AlreadyExists when the key holds a value. ``obj`` itself is not
        modified, but the result may share its nested values: a caller that keeps
        using ``obj`` must not mutate one and expect the other unchanged."""
        ...

    async def get(self, key: str) -> Obj:
        """The current value. Raises NotFound."""
        ...

    async def guaranteed_update(
        self,
        key: str,
        update: UpdateFunc,
        *,
        preconditions: Preconditions | None = None,
        ignore_not_found: bool = False,
    ) -> Obj:
        """Read, call ``update``, compare-and-swap on the mod revision; on a lost race read
        again and call ``update`` again. Preconditions are checked against each read
        (Conflict on uid/resourceVersion mismatch). When the key is absent: NotFound,
        unless ``ignore_not_found``, in which case ``update`` receives ``{}`` and the
        result is created. If ``update`` returns None or an equal object, nothing is
        written and the current object is returned."""
        ...

    async def delete(
        self,
        key: str,
        *,
        preconditions: Preconditions | None = None,
        validate: DeleteCheck | None = None,
    ) -> Obj:
        """Remove ``key``, compare-and-swap like updates. Returns the last value with
        resourceVersion set to the delete's revision. Raises NotFound."""
        ...

    async def list(
        self,
        prefix: str,
        *,
        revision: int = 0,
        limit: int = 0,
        continue_token: str = "",
    ) -> ListResult:
        """Objects under ``prefix`` (which ends with ``/``), sorted by key, as of
        ``revision`` (0 = now). ``limit`` > 0 pages; ``continue_token`` resumes a page at
        the revision the first page was read at. A revision or token older than the
        last compaction raises Expired."""
        ...

    def watch(self, prefix: str, *, revision: int) -> AsyncIterator[WatchEvent]:
        """Every change under ``prefix`` after ``revision``, exactly once, in revision order,
        until the iterator is closed. A revision older than the last compaction raises
        Expired (on the first ``__anext__``)."""
        ...

    async def current_revision(self) -> int: ...

    async def compact(self, revision: int) -> None:
        """Forget history at and before ``revision``; current values are kept."""
        ...

    async def close(self) -> None: ...
