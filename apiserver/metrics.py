"""Prometheus metrics of the API server, named as kube-apiserver names them.

Dashboards and alerts written for Kubernetes read ``apiserver_request_total``,
``apiserver_request_duration_seconds``, ``apiserver_current_inflight_requests``,
``apiserver_registered_watchers`` and ``etcd_request_duration_seconds``, so we export
those (the storage histogram keeps the etcd name whichever backend serves it). Each
server gets its own CollectorRegistry, so tests can run several in one process.

The request path touches metrics on every call; label children are cached so a request
costs two dictionary lookups rather than prometheus-client's locked label resolution.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from apiserver.storage.interface import (
    DeleteCheck,
    ListResult,
    Obj,
    Preconditions,
    Storage,
    UpdateFunc,
    WatchEvent,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# kube-apiserver's buckets for request latency (seconds).
_REQUEST_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60)
_STORAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_MUTATING = frozenset({"create", "update", "patch", "delete", "deletecollection"})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "apiserver_request_total",
            "Counter of apiserver requests broken out by verb, resource and HTTP response code.",
            ["verb", "resource", "code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb and resource (watches excluded).",
            ["verb", "resource"],
            buckets=_REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.inflight = Gauge(
            "apiserver_current_inflight_requests",
            "Requests currently being served, by kind (readOnly or mutating).",
            ["request_kind"],
            registry=self.registry,
        )
        self.watchers = Gauge(
            "apiserver_registered_watchers", "Number of currently open watch streams.", registry=self.registry
        )
        self.storage = Histogram(
            "etcd_request_duration_seconds",
            "Storage request latency in seconds by operation and resource (SQLite or etcd).",
            ["operation", "type"],
            buckets=_STORAGE_BUCKETS,
            registry=self.registry,
        )
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._durations: dict[tuple[str, str], Any] = {}
        self._readonly = self.inflight.labels("readOnly")
        self._mutating = self.inflight.labels("mutating")
        self._storage_children: dict[tuple[str, str], Any] = {}

    def begin(self, verb: str) -> None:
        (self._mutating if verb in _MUTATING else self._readonly).inc()

    def end(self, *, verb: str, resource: str, code: int, seconds: float) -> None:
        (self._mutating if verb in _MUTATING else self._readonly).dec()
        key = (verb, resource, code)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.requests.labels(verb.upper(), resource, str(code))
        counter.inc()
        if verb == "watch":
            return
        dkey = (verb, resource)
        histogram = self._durations.get(dkey)
        if histogram is None:
            histogram = self._durations[dkey] = self.duration.labels(verb.upper(), resource)
        histogram.observe(seconds)

    def watch_opened(self) -> None:
        self.watchers.inc()

    def watch_closed(self) -> None:
        self.watchers.dec()

    def observe_storage(self, operation: str, key: str, seconds: float) -> None:
        # "/registry/pods/ns/name" → "pods"
        resource = key.split("/", 3)[2] if key.count("/") >= 2 else key
        child_key = (operation, resource)
        child = self._storage_children.get(child_key)
        if child is None:
            child = self._storage_children[child_key] = self.storage.labels(operation, resource)
        child.observe(seconds)

    def expose(self) -> bytes:
        return generate_latest(self.registry)


class InstrumentedStorage:
    """A Storage that times every call into ``etcd_request_duration_seconds``."""

    def __init__(self, storage: Storage, *, metrics: Metrics) -> None:
        self.inner = storage
        self._metrics = metrics

    async def create(self, key: str, obj: Obj) -> Obj:
        start = time.perf_counter()
        try:
            return await self.inner.create(key, obj)
        finally:
            self._metrics.observe_storage("create", key, time.perf_counter() - start)

    async def get(self, key: str) -> Obj:
        start = time.perf_counter()
        try:
            return await self.inner.get(key)
        finally:
            self._metrics.observe_storage("get", key, time.perf_counter() - start)

    async def guaranteed_update(
        self,
        key: str,
        update: UpdateFunc,
        *,
        preconditions: Preconditions | None = None,
        ignore_not_found: bool = False,
    ) -> Obj:
        start = time.perf_counter()
        try:
            return await self.inner.guaranteed_update(
                key, update, preconditions=preconditions, ignore_not_found=ignore_not_found
            )
        finally:
            self._metrics.observe_storage("update", key, time.perf_counter() - start)

    async def delete(
        self, key: str, *, preconditions: Preconditions | None = None, validate: DeleteCheck | None = None
    ) -> Obj:
        start = time.perf_counter()
        try:
            return await self.inner.delete(key, preconditions=preconditions, validate=validate)
        finally:
            self._metrics.observe_storage("delete", key, time.perf_counter() - start)

    async def list(self, prefix: str, *, revision: int = 0, limit: int = 0, continue_token: str = "") -> ListResult:
        start = time.perf_counter()
        try:
            return await self.inner.list(prefix, revision=revision, limit=limit, continue_token=continue_token)
        finally:
            self._metrics.observe_storage("list", prefix, time.perf_counter() - start)

    def watch(self, prefix: str, *, revision: int) -> AsyncIterator[WatchEvent]:
        return self.inner.watch(prefix, revision=revision)

    async def current_revision(self) -> int:
        return await self.inner.current_revision()

    async def compact(self, revision: int) -> None:
        await self.inner.compact(revision)

    async def close(self) -> None:
        await self.inner.close()
