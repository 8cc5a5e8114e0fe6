"""Hostile bodies to every endpoint added here: always a Status below 500, nothing changed."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from .helpers import MERGE, PODS, SERVICES, create_pod, pod

JUNK: list[Any] = [
    None,
    [],
    "text",
    7,
    True,
    {},
    {"metadata": 5},
    {"metadata": {"name": 5, "namespace": []}},
    {"metadata": {"name": "p", "uid": 3, "resourceVersion": {}}},
    {"spec": []},
    {"spec": {"replicas": None}},
    {"spec": {"replicas": 1.5}},
    {"spec": {"replicas": 2**40}},
    {"target": "n1"},
    {"target": {"name": 3}},
    {"metadata": {"name": "p"}, "deleteOptions": 5},
    {"metadata": {"name": "p"}, "deleteOptions": {"dryRun": "All"}},
    {"metadata": {"name": "p"}, "deleteOptions": {"preconditions": []}},
    {"metadata": {"name": "p"}, "deleteOptions": {"propagationPolicy": "Sideways"}},
    {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": "s"},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": "x"}]},
    },
    {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": "s"},
        "spec": {"clusterIP": 5, "ports": "all"},
    },
    {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": "s"},
        "spec": {
            "type": "LoadBalancer",
            "externalTrafficPolicy": "Local",
            "healthCheckNodePort": -3,
            "ports": [{"port": 80, "nodePort": True}],
        },
    },
    {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": "s"},
        "spec": {"clusterIPs": [7], "ports": [{"port": 80}]},
    },
]
RAW = [b"", b"{", b"\xff\xfe", b"k8s\x00\x01\x02", b"- a\n- b"]
TARGETS = [
    ("POST", f"{PODS}/p/binding"),
    ("POST", "/api/v1/namespaces/default/bindings"),
    ("POST", f"{PODS}/p/eviction"),
    ("PUT", "/apis/apps/v1/namespaces/default/deployments/d/scale"),
    ("PATCH", "/apis/apps/v1/namespaces/default/deployments/d/scale"),
    ("PUT", "/api/v1/namespaces/x/finalize"),
    ("POST", SERVICES),
    ("PUT", f"{SERVICES}/existing"),
]


@pytest.fixture
async def world(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p", node="n1"))
    await client.patch(f"{PODS}/p/status", json={"status": {"phase": "Running"}}, headers=MERGE)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    assert (
        await client.post("/apis/apps/v1/namespaces/default/deployments", json=deployment)
    ).status_code == 201
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}
    assert (await client.post("/api/v1/namespaces", json=namespace)).status_code == 201
    existing = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "existing"},
        "spec": {"ports": [{"port": 80}]},
    }
    assert (await client.post(SERVICES, json=existing)).status_code == 201


async def revision(client: httpx.AsyncClient) -> str:
    return str((await client.get("/api/v1/namespaces")).json()["metadata"]["resourceVersion"])


@pytest.mark.parametrize(("method", "path"), TARGETS)
async def test_junk_is_refused_with_a_status(
    client: httpx.AsyncClient, world: None, method: str, path: str
) -> None:
    bodies = [orjson.dumps(j) for j in JUNK] + RAW
    for body in bodies:
        for content_type in (
            "application/json",
            "application/merge-patch+json",
            "application/vnd.kubernetes.protobuf",
        ):
            before = await revision(client)
            response = await client.request(
                method, path, content=body, headers={"content-type": content_type}
            )
            label = f"{method} {path} {content_type} {body[:80]!r}"
            assert response.status_code < 500, f"{label}: {response.text}"
            if response.status_code >= 400:
                assert response.json()["kind"] == "Status", label
                assert await revision(client) == before, f"{label} failed but changed storage"


@pytest.mark.parametrize(
    "query",
    [
        "tailLines=1e3",
        "limitBytes=-0",
        "sinceSeconds=",
        "container=%00",
        "follow=1&previous=t&timestamps=T",
        "sinceTime=2025-13-45T99:99:99Z",
        "tailLines=99999999999999999999999",
    ],
)
async def test_junk_log_options(client: httpx.AsyncClient, world: None, query: str) -> None:
    response = await client.get(f"{PODS}/p/log?{query}")
    assert response.status_code < 500 and response.headers["content-type"].startswith("application/json"), (
        response.text
    )
