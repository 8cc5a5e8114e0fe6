"""The debug endpoint's routes (the HTTPS serving itself is covered end to end)."""

from __future__ import annotations

import orjson

from scheduler.debugserver import DebugServer
from scheduler.explain import DecisionRecord, DecisionStore


def test_routes() -> None:
    store = DecisionStore()
    store.add(
        DecisionRecord(
            pod="ns/a", uid="1", profile="default-scheduler", attempt=1, result="Scheduled", node="n1"
        )
    )
    store.add(
        DecisionRecord(pod="ns/b", uid="2", profile="default-scheduler", attempt=3, result="Unschedulable")
    )
    server = DebugServer(decisions=store, metrics=lambda: b"scheduler_x 1\n")
    assert server.route("/healthz") == (200, "text/plain; charset=utf-8", b"ok")
    status, ctype, body = server.route("/metrics")
    assert (status, body) == (200, b"scheduler_x 1\n") and ctype.startswith("text/plain")
    status, _, body = server.route("/debug/decisions?limit=1")
    listing = orjson.loads(body)
    assert status == 200 and listing["total"] == 2 and [d["pod"] for d in listing["items"]] == ["ns/b"]
    status, _, body = server.route("/debug/decisions/ns/a")
    assert status == 200 and orjson.loads(body)["node"] == "n1"
    assert server.route("/debug/decisions/ns/zzz")[0] == 404
    assert server.route("/nope")[0] == 404
    assert server.route("/debug/decisions?limit=x")[0] == 400
