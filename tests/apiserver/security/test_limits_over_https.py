"""Quota under concurrency, request limits and the audit log, against the real server."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest

from .conftest import Cluster, wait_until

pytestmark = pytest.mark.e2e

MARKER = "TOP-SECRET-PAYLOAD-7f3a"


def test_fifty_concurrent_pod_creates_against_a_quota_of_ten(cluster: Cluster) -> None:
    with cluster.client("admin") as admin:
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "quota-race"}}
        assert admin.post("/api/v1/namespaces", json=ns).status_code == 201
        quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"pods": "10"}}}
        assert admin.post("/api/v1/namespaces/quota-race/resourcequotas", json=quota).status_code == 201
        wait_until(lambda: admin.get("/api/v1/namespaces/quota-race/resourcequotas/q").json()
                   .get("status", {}).get("used") == {"pods": "0"})

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=cluster.url, verify=cluster.context("admin"), timeout=60,
                                     limits=httpx.Limits(max_connections=50)) as client:
            def pod(i: int) -> dict:
                return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
                        "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
            return await asyncio.gather(*(client.post("/api/v1/namespaces/quota-race/pods", json=pod(i))
                                          for i in range(50)))

    responses = asyncio.run(race())
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 10 and codes.count(403) == 40, codes
    for r in responses:
        if r.status_code == 403:
            assert r.json()["message"].endswith(
                "is forbidden: exceeded quota: q, requested: pods=1, used: pods=10, limited: pods=10")
    with cluster.client("admin") as admin:
        assert admin.get("/api/v1/namespaces/quota-race/resourcequotas/q").json()["status"]["used"] == {"pods": "10"}
        assert len(admin.get("/api/v1/namespaces/quota-race/pods").json()["items"]) == 10
        # Deleting pods gives their share back (the reconciler runs every second).
        for i in range(50):
            admin.delete(f"/api/v1/namespaces/quota-race/pods/p{i}?gracePeriodSeconds=0")
        wait_until(lambda: admin.get("/api/v1/namespaces/quota-race/resourcequotas/q").json()["status"]["used"]
                   == {"pods": "0"}, timeout=15)


def test_oversized_headers_get_431_and_the_server_keeps_serving(cluster: Cluster) -> None:
    with cluster.client("admin") as admin:
        r = admin.get("/api/v1/namespaces", headers={"X-Filler": "a" * (2 << 20)})
        assert r.status_code == 431
        assert r.json()["reason"] == "RequestHeaderFieldsTooLarge"
    with cluster.client("admin") as admin:
        assert admin.get("/api/v1/namespaces").status_code == 200


def test_oversized_bodies_get_413(cluster: Cluster) -> None:
    with cluster.client("admin") as admin:
        body = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":"' + b"x" * (4 << 20) + b'"}}'
        r = admin.post("/api/v1/namespaces/default/configmaps", content=body,
                       headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_secret_payloads_are_never_logged(cluster: Cluster) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "log-check"}, "stringData": {"pw": MARKER}}
    merge = {"content-type": "application/merge-patch+json"}
    with cluster.client("admin") as admin:
        assert admin.post("/api/v1/namespaces/default/secrets", json=secret).status_code == 201
        assert admin.post("/api/v1/namespaces/default/secrets", json=secret).status_code == 409
        bad = {**secret, "metadata": {"name": "Bad_Name"}, "data": {"k": MARKER}}
        assert admin.post("/api/v1/namespaces/default/secrets", json=bad).status_code == 422
        patch = orjson.dumps({"stringData": {"pw": MARKER + "-2"}})
        assert admin.patch("/api/v1/namespaces/default/secrets/log-check", content=patch, headers=merge).status_code == 200
        assert admin.get(f"/api/v1/namespaces/default/secrets?labelSelector=x%3D{MARKER}").status_code == 200
    with cluster.client(token=cluster.tokens["robot"]) as robot:
        assert robot.post("/api/v1/namespaces/default/secrets", json=secret).status_code == 403
    audit = (cluster.tmp / "audit.log").read_text()
    assert '"objectRef":{"resource":"secrets"' in audit
    server_log = cluster.server.log()
    for text, name in ((audit, "audit log"), (server_log, "server log")):
        bodies_only = text.replace(f"x%3D{MARKER}", "")  # the label selector is in a URI, by the client's choice
        assert MARKER not in bodies_only, name
