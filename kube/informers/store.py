"""The informer's cache: objects by key, plus indexes (client-go's ``ThreadSafeStore``/``Indexer``).

Controllers read from this instead of asking the API server, and they read it by more
than one question: "the pods of namespace x", "the pods bound to node y". An index is a
function from an object to the values it is filed under; the store keeps, per index,
value → set of keys, and updates it on every write, so ``by_index`` costs as much as
the answer rather than a scan of every object (the scheduler and kubelet ask "pods on
node y" of tens of thousands of pods).

Objects are stored as given, not copied: everyone who reads the cache shares them, so
readers must treat them as read-only (copy before changing), as with client-go's
listers. A lock makes every operation atomic, so threads (a kubelet's pod workers, a
metrics endpoint) may read while the informer writes from the event loop.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kube import meta

Obj = dict[str, Any]
KeyFunc = Callable[[Any], str]
IndexFunc = Callable[[Obj], Iterable[str]]

NAMESPACE_INDEX = "namespace"


@dataclass(frozen=True, slots=True)
class DeletedFinalStateUnknown:
    """A delete the informer inferred rather than saw: a relist found ``key`` gone.

    The watch that would have carried the DELETED event was lost, so ``obj`` is the last
    state the cache had, possibly stale. Delete handlers receive this instead of an object
    and usually only need the key.
    """

    key: str
    obj: Obj


def object_key(obj: Any) -> str:
    """``namespace/name`` (or ``name``); a tombstone's own key (client-go's
    ``DeletionHandlingMetaNamespaceKeyFunc``)."""
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    return meta.key(obj)


def namespace_index(obj: Obj) -> list[str]:
    return [meta.namespace(obj)]


def field_index(path: str) -> IndexFunc:
    """An index on one dotted field, e.g. ``field_index("spec.nodeName")``; objects where
    the field is unset or empty are not filed (an unscheduled pod is on no node)."""
    parts = path.split(".")

    def index(obj: Obj) -> list[str]:
        value: Any = obj
        for part in parts:
            if not isinstance(value, Mapping):
                return []
            value = value.get(part)
        return [str(value)] if value not in (None, "") else []

    index.__name__ = f"field_index[{path}]"
    return index


class Store:
    def __init__(
        self, *, key_func: KeyFunc = object_key, indexers: Mapping[str, IndexFunc] | None = None
    ) -> None:
        self._key_func = key_func
        self._lock = threading.RLock()
        self._items: dict[str, Obj] = {}
        self._indexers: dict[str, IndexFunc] = dict(indexers or {})
        self._indices: dict[str, dict[str, set[str]]] = {name: {} for name in self._indexers}

    # --- writes ---------------------------------------------------------------------------

    def add(self, obj: Obj) -> None:
        self._put(self._key_func(obj), obj)

    def update(self, obj: Obj) -> None:
        self._put(self._key_func(obj), obj)

    def delete(self, obj: Any) -> None:
        key = self._key_func(obj)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._unindex(key, old)

    def replace(self, objs: Iterable[Obj]) -> None:
        """Make the store hold exactly ``objs`` (a relist)."""
        with self._lock:
            self._items = {self._key_func(obj): obj for obj in objs}
            self._indices = {name: {} for name in self._indexers}
            for key, obj in self._items.items():
                self._index(key, obj)

    def _put(self, key: str, obj: Obj) -> None:
        with self._lock:
            old = self._items.get(key)
            if old is not None:
                self._unindex(key, old)
            self._items[key] = obj
            self._index(key, obj)

    def _index(self, key: str, obj: Obj) -> None:
        for name, func in self._indexers.items():
            index = self._indices[name]
            for value in func(obj):
                index.setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: Obj) -> None:
        for name, func in self._indexers.items():
            index = self._indices[name]
            for value in func(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]  # keep an index of churning values from growing forever

    # --- reads ----------------------------------------------------------------------------

    def get(self, obj: Any) -> Obj | None:
        return self.get_by_key(self._key_func(obj))

    def get_by_key(self, key: str) -> Obj | None:
        with self._lock:
            return self._items.get(key)

    def list(self) -> list[Obj]:
        with self._lock:
            return list(self._items.values())

    def list_keys(self) -> builtins.list[str]:
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def by_index(self, index_name: str, value: str) -> builtins.list[Obj]:
        """Every object filed under ``value`` in index ``index_name``."""
        with self._lock:
            keys = self._index_named(index_name).get(value, ())
            return [self._items[k] for k in keys]

    def index_keys(self, index_name: str, value: str) -> builtins.list[str]:
        with self._lock:
            return list(self._index_named(index_name).get(value, ()))

    def index_values(self, index_name: str) -> builtins.list[str]:
        """The values index ``index_name`` currently files anything under."""
        with self._lock:
            return list(self._index_named(index_name))

    def index(self, index_name: str, obj: Obj) -> builtins.list[Obj]:
        """Objects sharing any of ``obj``'s values in index ``index_name``."""
        with self._lock:
            func = self._indexers.get(index_name)
            if func is None:
                raise KeyError(f'index "{index_name}" does not exist')
            index = self._indices[index_name]
            keys: set[str] = set()
            for value in func(obj):
                keys |= index.get(value, set())
            return [self._items[k] for k in keys]

    def _index_named(self, index_name: str) -> dict[str, set[str]]:
        index = self._indices.get(index_name)
        if index is None:
            raise KeyError(f'index "{index_name}" does not exist')
        return index

    # --- indexers -------------------------------------------------------------------------

    def indexers(self) -> dict[str, IndexFunc]:
        with self._lock:
            return dict(self._indexers)

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        """Register more indexes; objects already stored are indexed at once."""
        with self._lock:
            clash = set(indexers) & set(self._indexers)
            if clash:
                raise ValueError(f"indexer conflict: {', '.join(sorted(clash))}")
            for name, func in indexers.items():
                self._indexers[name] = func
                index: dict[str, set[str]] = {}
                for key, obj in self._items.items():
                    for value in func(obj):
                        index.setdefault(value, set()).add(key)
                self._indices[name] = index
