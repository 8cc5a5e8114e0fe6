"""Prometheus metrics of the API server, named as kube-apiserver names them.

Dashboards and alerts written for Kubernetes read ``apiserver_request_total``,
``apiserver_request_duration_seconds``, ``apiserver_current_inflight_requests``,
``apiserver_registered_watchers`` and ``etcd_request_duration_seconds``, so we export
those (the storage histogram keeps the etcd name whichever backend serves it). Each
server gets its own CollectorRegistry, so tests can run several in one process.

The request path touches metrics on every call, so it counts in plain Python numbers on
the event loop's thread (a few dictionary lookups per request, where prometheus-client's
children take a lock and validate per update), and a collector renders them when
``/metrics`` is scraped.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import AsyncIterator, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

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
_REQUEST_BUCKETS = (
    0.005,
    0.025,
    0.05,
    0.1,
    0.2,
    0.4,
    0.6,
    0.8,
    1.0,
    1.25,
    1.5,
    2,
    3,
    4,
    5,
    6,
    8,
    10,
    15,
    20,
    30,
    45,
    60,
)
_STORAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_MUTATING = frozenset({"create", "update", "patch", "delete", "deletecollection"})


class _Histogram:
    """One label combination of a histogram: a count per bucket (the last is +Inf) and the sum."""

    __slots__ = ("counts", "created", "sum")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size
        self.sum = 0.0
        self.created = time.time()


class _Family:
    """A histogram's children by label values, with its bounds (+Inf appended)."""

    def __init__(
        self, name: str, documentation: str, labels: tuple[str, ...], buckets: tuple[float, ...]
    ) -> None:
        self.name, self.documentation, self.labels = name, documentation, labels
        self.bounds = (*(float(b) for b in buckets), math.inf)
        self.children: dict[tuple[str, ...], _Histogram] = {}

    def child(self, values: tuple[str, ...]) -> _Histogram:
        found = self.children.get(values)
        if found is None:
            found = self.children[values] = _Histogram(len(self.bounds))
        return found

    def observe(self, child: _Histogram, seconds: float) -> None:
        # The first bucket whose upper bound is >= the value, as prometheus-client counts.
        child.counts[bisect_left(self.bounds, seconds)] += 1
        child.sum += seconds

    def metric(self) -> Metric:
        out = Metric(self.name, self.documentation, "histogram")
        les = [floatToGoString(b) for b in self.bounds]
        for values, child in self.children.items():
            labels = dict(zip(self.labels, values, strict=True))
            total = 0.0
            for le, count in zip(les, child.counts, strict=True):
                total += count
                out.add_sample(self.name + "_bucket", {**labels, "le": le}, total)
            out.add_sample(self.name + "_count", labels, total)
            out.add_sample(self.name + "_sum", labels, child.sum)
            out.add_sample(self.name + "_created", labels, child.created)
        return out


class _Collector(Collector):
    """Exposes what the request path counted in plain Python numbers."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        m = self._metrics
        requests = CounterMetricFamily(
            "apiserver_request_total",
            "Counter of apiserver requests broken out by verb, resource and HTTP response code.",
            labels=("verb", "resource", "code"),
        )
        for (verb, resource, code), (count, created) in m.request_counts.items():
            requests.add_metric((verb.upper(), resource, str(code)), count, created=created)
        yield requests
        yield m.request_durations.metric()
        inflight = GaugeMetricFamily(
            "apiserver_current_inflight_requests",
            "Requests currently being served, by kind (readOnly or mutating).",
            labels=("request_kind",),
        )
        inflight.add_metric(("readOnly",), m.inflight[0])
        inflight.add_metric(("mutating",), m.inflight[1])
        yield inflight
        yield GaugeMetricFamily(
            "apiserver_registered_watchers", "Number of currently open watch streams.", value=m.watchers
        )
        yield m.storage_durations.metric()


class Metrics:
    """The API server's metrics. The request path updates plain counters (no locks, no
    label validation: every update happens on the event loop's thread), and a collector
    turns them into Prometheus families when ``/metrics`` is read; the output is what
    prometheus-client's Counter, Gauge and Histogram would print."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.request_counts: dict[tuple[str, str, int], list[Any]] = {}
        """(verb, resource, code) → [count, created]."""
        self.request_durations = _Family(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb and resource (watches excluded).",
            ("verb", "resource"),
            _REQUEST_BUCKETS,
        )
        self.inflight = [0, 0]  # readOnly, mutating
        self.watchers = 0
        self.storage_durations = _Family(
            "etcd_request_duration_seconds",
            "Storage request latency in seconds by operation and resource (SQLite or etcd).",
            ("operation", "type"),
            _STORAGE_BUCKETS,
        )
        self.registry.register(_Collector(self))
        self._durations: dict[tuple[str, str], _Histogram] = {}
        self._storage_children: dict[tuple[str, str], _Histogram] = {}

    def begin(self, verb: str) -> None:
        self.inflight[1 if verb in _MUTATING else 0] += 1

    def end(self, *, verb: str, resource: str, code: int, seconds: float) -> None:
        self.inflight[1 if verb in _MUTATING else 0] -= 1
        key = (verb, resource, code)
        counter = self.request_counts.get(key)
        if counter is None:
            self.request_counts[key] = [1, time.time()]
        else:
            counter[0] += 1
        if verb == "watch":
            return
        dkey = (verb, resource)
        histogram = self._durations.get(dkey)
        if histogram is None:
            histogram = self._durations[dkey] = self.request_durations.child((verb.upper(), resource))
        self.request_durations.observe(histogram, seconds)

    def watch_opened(self) -> None:
        self.watchers += 1

    def watch_closed(self) -> None:
        self.watchers -= 1

    def observe_storage(self, operation: str, key: str, seconds: float) -> None:
        # "/registry/pods/ns/name" → "pods"
        resource = key.split("/", 3)[2] if key.count("/") >= 2 else key
        child_key = (operation, resource)
        child = self._storage_children.get(child_key)
        if child is None:
            child = self._storage_children[child_key] = self.storage_durations.child(child_key)
        self.storage_durations.observe(child, seconds)

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

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, continue_token: str = ""
    ) -> ListResult:
        start = time.perf_counter()
        try:
            return await self.inner.list(
                prefix, revision=revision, limit=limit, continue_token=continue_token
            )
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
