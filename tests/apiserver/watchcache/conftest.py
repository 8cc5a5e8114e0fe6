"""Fixtures for the watch cache tests.

``storage`` is the real SQLite backend. Tests that must break the storage watch on cue
use ``memory_storage``: ``MemoryStorage``, a small in-memory store that follows
``apiserver.storage.interface.Storage`` exactly (revisions, prev objects, compaction →
Expired) and can end every open watch stream with an error when told to.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import kube.fields
import kube.labels
from apiserver.storage import open_storage
from apiserver.storage.interface import (
    DeleteCheck,
    EventType,
    ListResult,
    Obj,
    Preconditions,
    Storage,
    UpdateFunc,
    WatchEvent,
)
from apiserver.watchcache import CacheEvent, Cacher, Watcher
from kube.errors import AlreadyExists, Conflict, Expired, NotFound
from kube.fields import object_fields


class MemoryStorage:
    """An in-memory Storage: a dict of current values plus a log of every change."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[Obj, int]] = {}
        self._log: list[WatchEvent] = []
        self._revision = 1
        self._compacted = 0
        self._streams: set[asyncio.Queue[WatchEvent | BaseException]] = set()

    def _out(self, obj: Obj, revision: int) -> Obj:
        out = copy.deepcopy(obj)
        out.setdefault("metadata", {})["resourceVersion"] = str(revision)
        return out

    def _commit(self, *, type: EventType, key: str, obj: Obj, prev: Obj | None) -> int:
        self._revision += 1
        rev = self._revision
        stored = copy.deepcopy(obj)
        stored.get("metadata", {}).pop("resourceVersion", None)
        if type == EventType.DELETED:
            self._data.pop(key, None)
        else:
            self._data[key] = (stored, rev)
        event = WatchEvent(type=type, key=key, object=self._out(stored, rev), revision=rev, prev=prev)
        self._log.append(event)
        for queue in self._streams:
            queue.put_nowait(event)
        return rev

    async def create(self, key: str, obj: Obj) -> Obj:
        if key in self._data:
            raise AlreadyExists.of(resource="x", name=key)
        rev = self._commit(type=EventType.ADDED, key=key, obj=obj, prev=None)
        return self._out(self._data[key][0], rev)

    async def get(self, key: str) -> Obj:
        if key not in self._data:
            raise NotFound.of(resource="x", name=key)
        obj, rev = self._data[key]
        return self._out(obj, rev)

    async def guaranteed_update(
        self,
        key: str,
        update: UpdateFunc,
        *,
        preconditions: Preconditions | None = None,
        ignore_not_found: bool = False,
    ) -> Obj:
        current = self._data.get(key)
        if current is None and not ignore_not_found:
            raise NotFound.of(resource="x", name=key)
        prev = self._out(*current) if current else None
        if preconditions and preconditions.resource_version and prev:
            if prev["metadata"]["resourceVersion"] != preconditions.resource_version:
                raise Conflict.of(resource="x", name=key)
        new = await update(copy.deepcopy(prev) if prev else {})
        if new is None:
            assert prev is not None
            return prev
        new = copy.deepcopy(new)
        new.get("metadata", {}).pop("resourceVersion", None)
        if current is not None and new == current[0]:
            return self._out(*current)
        kind = EventType.MODIFIED if current else EventType.ADDED
        rev = self._commit(type=kind, key=key, obj=new, prev=prev)
        return self._out(new, rev)

    async def delete(
        self, key: str, *, preconditions: Preconditions | None = None, validate: DeleteCheck | None = None
    ) -> Obj:
        current = self._data.get(key)
        if current is None:
            raise NotFound.of(resource="x", name=key)
        prev = self._out(*current)
        if validate is not None:
            await validate(copy.deepcopy(prev))
        rev = self._commit(type=EventType.DELETED, key=key, obj=current[0], prev=prev)
        return self._out(current[0], rev)

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, continue_token: str = ""
    ) -> ListResult:
        if revision and revision < self._compacted:
            raise Expired.too_old(requested=revision, oldest=self._compacted)
        items = [self._out(obj, rev) for key, (obj, rev) in sorted(self._data.items()) if key.startswith(prefix)]
        return ListResult(items=items, revision=self._revision)

    def watch(self, prefix: str, *, revision: int) -> AsyncIterator[WatchEvent]:
        return self._watch(prefix, revision)

    async def _watch(self, prefix: str, revision: int) -> AsyncIterator[WatchEvent]:
        if revision < self._compacted:
            raise Expired.too_old(requested=revision, oldest=self._compacted)
        queue: asyncio.Queue[WatchEvent | BaseException] = asyncio.Queue()
        backlog = [e for e in self._log if e.revision > revision]
        self._streams.add(queue)
        try:
            for event in backlog:
                if event.key.startswith(prefix):
                    yield event
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                if item.key.startswith(prefix):
                    yield item
        finally:
            self._streams.discard(queue)

    async def current_revision(self) -> int:
        return self._revision

    async def compact(self, revision: int) -> None:
        self._compacted = max(self._compacted, revision)
        self._log = [e for e in self._log if e.revision > revision]

    async def close(self) -> None:
        self.break_watches(ConnectionError("storage closed"))

    # -- test controls -----------------------------------------------------------------

    def break_watches(self, error: BaseException) -> None:
        """End every open watch stream with ``error`` (a restart, a compaction)."""
        for queue in list(self._streams):
            queue.put_nowait(error)

    @property
    def open_watches(self) -> int:
        return len(self._streams)


@pytest.fixture
async def memory_storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    real = await open_storage(data_dir=tmp_path / "data")
    try:
        yield real
    finally:
        await real.close()


def pod_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    return object_fields("pods", obj)


class Kit:
    """Helpers the tests share (a fixture, because test modules cannot import each other
    under pytest's importlib mode)."""

    prefix = "/registry/pods/"

    @staticmethod
    def pod(
        name: str,
        *,
        namespace: str = "default",
        node: str = "",
        labels: dict[str, str] | None = None,
        phase: str = "Pending",
    ) -> Obj:
        obj: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": phase},
        }
        if node:
            obj["spec"]["nodeName"] = node
        return obj

    @staticmethod
    def key(name: str, namespace: str = "default") -> str:
        return f"/registry/pods/{namespace}/{name}"

    @staticmethod
    def cacher(storage: Storage, **kwargs: Any) -> Cacher:
        return Cacher(storage=storage, resource="pods", prefix=Kit.prefix, fields_of=pod_fields, **kwargs)

    @staticmethod
    def labels(text: str) -> kube.labels.Selector:
        return kube.labels.parse(text)

    @staticmethod
    def fields(text: str) -> kube.fields.FieldSelector:
        return kube.fields.parse(text)

    @staticmethod
    async def relabel(storage: Storage, key: str, **changes: Any) -> Obj:
        """Update a pod's labels (``labels=``), node (``node=``) or phase (``phase=``)."""

        async def update(obj: Obj) -> Obj:
            if "labels" in changes:
                obj["metadata"]["labels"] = changes["labels"]
            if "node" in changes:
                obj["spec"]["nodeName"] = changes["node"]
            if "phase" in changes:
                obj["status"]["phase"] = changes["phase"]
            return obj

        return await storage.guaranteed_update(key, update)


    @staticmethod
    async def take(watcher: Watcher, count: int) -> list[CacheEvent]:
        """The next ``count`` events (the timeout only guards against a hang)."""
        return [await asyncio.wait_for(anext(watcher), 5) for _ in range(count)]

    @staticmethod
    async def drain(watcher: Watcher) -> list[CacheEvent]:
        """Everything until the watcher ends (the timeout only guards against a hang)."""

        async def collect() -> list[CacheEvent]:
            return [event async for event in watcher]

        return await asyncio.wait_for(collect(), 5)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit


@pytest.fixture
async def cacher(storage: Storage) -> AsyncIterator[Cacher]:
    c = Kit.cacher(storage)
    await c.start()
    try:
        yield c
    finally:
        await c.stop()
