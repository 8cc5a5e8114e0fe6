"""``apiserver.metrics`` counts in plain numbers but must print exactly what
prometheus-client's own Counter, Gauge and Histogram would."""

from __future__ import annotations

import random
import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from apiserver import metrics as m
from apiserver.metrics import Metrics


class Reference:
    """The same metrics kept with prometheus-client's classes."""

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
            buckets=m._REQUEST_BUCKETS,
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
            buckets=m._STORAGE_BUCKETS,
            registry=self.registry,
        )
        self.inflight.labels("readOnly")
        self.inflight.labels("mutating")

    def kind(self, verb: str) -> Gauge:
        return self.inflight.labels("mutating" if verb in m._MUTATING else "readOnly")


def _without_created_times(text: bytes) -> str:
    return re.sub(r"(_created\{[^}]*\}) \S+", r"\1 T", text.decode())


def test_exposition_matches_prometheus_client() -> None:
    ours, ref = Metrics(), Reference()
    rng = random.Random(7)
    for i in range(2000):
        verb = rng.choice(["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"])
        resource = rng.choice(["pods", "nodes", "events"])
        ours.begin(verb)
        ref.kind(verb).inc()
        if i % 5:  # some stay in flight
            code = rng.choice([200, 201, 404, 409, 500])
            seconds = rng.random() * rng.choice([0.001, 0.1, 1, 100])
            seconds = rng.choice([seconds, 0.005, 60.0])  # exactly on a bound, too
            ours.end(verb=verb, resource=resource, code=code, seconds=seconds)
            ref.kind(verb).dec()
            ref.requests.labels(verb.upper(), resource, str(code)).inc()
            if verb != "watch":
                ref.duration.labels(verb.upper(), resource).observe(seconds)
        key = rng.choice(["/registry/pods/default/a", "/registry/nodes/n1", "/registry/", "odd"])
        op = rng.choice(["get", "create", "update", "list"])
        seconds = rng.random() * rng.choice([0.001, 1, 20])
        ours.observe_storage(op, key, seconds)
        resource = key.split("/", 3)[2] if key.count("/") >= 2 else key
        ref.storage.labels(op, resource).observe(seconds)
    for _ in range(3):
        ours.watch_opened()
        ref.watchers.inc()
    ours.watch_closed()
    ref.watchers.dec()
    assert _without_created_times(ours.expose()) == _without_created_times(generate_latest(ref.registry))


def test_a_fresh_server_exposes_the_families() -> None:
    text = Metrics().expose().decode()
    for name in (
        "apiserver_request_total",
        "apiserver_request_duration_seconds",
        "apiserver_current_inflight_requests",
        "apiserver_registered_watchers",
        "etcd_request_duration_seconds",
    ):
        assert f"# TYPE {name} " in text
    assert 'apiserver_current_inflight_requests{request_kind="readOnly"} 0.0' in text
