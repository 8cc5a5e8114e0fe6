"""The cache's current objects, indexed so a filtered LIST touches only candidates.

A kubelet lists "my pods" (``spec.nodeName=<node>``) and a namespaced client lists one
namespace; scanning 30,000 pods to return 30 of them would make those lists cost as
much as a full one. So besides key → entry the store keeps two secondary indexes:
by namespace and by the index field (``spec.nodeName`` for pods). A LIST picks the
narrowest one its request pins, then applies the full filter to what remains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from apiserver.watchcache.events import Entry, Obj

FieldsOf = Callable[[Obj], Mapping[str, str]]


class Store:
    """Key → entry with namespace and index-field indexes. Not thread-safe: it lives on
    the cacher's event loop like everything else."""

    def __init__(self, *, fields_of: FieldsOf, index_field: str | None) -> None:
        self._fields_of = fields_of
        self._index_field = index_field
        self._entries: dict[str, Entry] = {}
        self._by_namespace: dict[str, dict[str, Entry]] = {}
        self._by_index: dict[str, dict[str, Entry]] = {}
        # Full lists are served in key order; keeping the sorted keys until the key set
        # changes makes repeated full lists O(n) instead of O(n log n). Updates of
        # existing keys, the common event, leave it valid.
        self._sorted_keys: list[str] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def index_field(self) -> str | None:
        return self._index_field

    def entry(self, *, key: str, obj: Obj, revision: int) -> Entry:
        """Examine ``obj`` once: labels, fields and index value, kept beside it."""
        meta = obj.get("metadata") or {}
        fields = self._fields_of(obj)
        index_value = fields.get(self._index_field) if self._index_field else None
        return Entry(
            key=key,
            obj=obj,
            revision=revision,
            labels=meta.get("labels") or {},
            fields=fields,
            namespace=meta.get("namespace") or "",
            index_value=index_value or None,
        )

    def get(self, key: str) -> Entry | None:
        return self._entries.get(key)

    def put(self, entry: Entry) -> Entry | None:
        """Insert or replace; returns the entry replaced."""
        key = entry.key
        old = self._entries.get(key)
        if old is not None:
            self._unindex(old)
        else:
            self._sorted_keys = None
        self._entries[key] = entry
        self._by_namespace.setdefault(entry.namespace, {})[key] = entry
        if entry.index_value is not None:
            self._by_index.setdefault(entry.index_value, {})[key] = entry
        return old

    def delete(self, key: str) -> Entry | None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._unindex(old)
            self._sorted_keys = None
        return old

    def replace(self, entries: Iterable[Entry]) -> None:
        """Swap in a fresh listing (after a relist)."""
        self._entries.clear()
        self._by_namespace.clear()
        self._by_index.clear()
        self._sorted_keys = None
        for entry in entries:
            self.put(entry)

    def candidates(self, *, namespace: str = "", index_value: str | None = None) -> list[Entry]:
        """Entries that may match, sorted by key: the smallest index bucket the request
        pins (index value, then namespace), else everything. Callers still filter."""
        if index_value is not None:
            bucket = self._by_index.get(index_value)
            if not bucket:
                return []
            return [bucket[k] for k in sorted(bucket)]
        if namespace:
            bucket = self._by_namespace.get(namespace)
            if not bucket:
                return []
            return [bucket[k] for k in sorted(bucket)]
        if self._sorted_keys is None:
            self._sorted_keys = sorted(self._entries)
        entries = self._entries
        return [entries[k] for k in self._sorted_keys]

    def _unindex(self, entry: Entry) -> None:
        key = entry.key
        bucket = self._by_namespace.get(entry.namespace)
        if bucket is not None:
            bucket.pop(key, None)
            if not bucket:
                del self._by_namespace[entry.namespace]
        if entry.index_value is not None:
            bucket = self._by_index.get(entry.index_value)
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del self._by_index[entry.index_value]
