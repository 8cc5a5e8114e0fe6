"""The scale subresource of deployments and replicasets, as kubectl scale and the HPA use it."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
REPLICASETS = "/apis/apps/v1/namespaces/default/replicasets"
MERGE = {"content-type": "application/merge-patch+json"}


def workload(kind: str, name: str, replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {
                "matchLabels": {"app": name},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
            },
            "template": {
                "metadata": {"labels": {"app": name, "tier": "a"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


@pytest.fixture
async def deployment(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post(DEPLOYMENTS, json=workload("Deployment", "d"))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    status = await client.patch(f"{DEPLOYMENTS}/d/status", json={"status": {"replicas": 2}}, headers=MERGE)
    assert status.status_code == 200
    return created


async def test_get_scale(client: httpx.AsyncClient, deployment: dict[str, Any]) -> None:
    response = await client.get(f"{DEPLOYMENTS}/d/scale")
    assert response.status_code == 200
    scale = response.json()
    meta = deployment["metadata"]
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["metadata"]["name"] == "d" and scale["metadata"]["namespace"] == "default"
    assert (
        scale["metadata"]["uid"] == meta["uid"]
        and scale["metadata"]["creationTimestamp"] == meta["creationTimestamp"]
    )
    current = (await client.get(f"{DEPLOYMENTS}/d")).json()
    assert scale["metadata"]["resourceVersion"] == current["metadata"]["resourceVersion"]
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 2, "selector": "app=d,tier in (a,b)"}
    assert (await client.get(f"{DEPLOYMENTS}/nope/scale")).json()[
        "message"
    ] == 'deployments.apps "nope" not found'


async def test_merge_patch_scales_and_bumps_the_generation(
    client: httpx.AsyncClient, deployment: dict[str, Any]
) -> None:
    response = await client.patch(f"{DEPLOYMENTS}/d/scale", content=b'{"spec":{"replicas":3}}', headers=MERGE)
    assert response.status_code == 200, response.text
    assert response.json()["spec"] == {"replicas": 3} and response.json()["status"]["replicas"] == 2
    parent = (await client.get(f"{DEPLOYMENTS}/d")).json()
    assert parent["spec"]["replicas"] == 3
    assert parent["metadata"]["generation"] == deployment["metadata"]["generation"] + 1
    assert parent["status"]["replicas"] == 2  # the status is untouched
    assert any(m.get("subresource") == "scale" for m in parent["metadata"]["managedFields"])


async def test_put_without_content_type_with_a_resource_version(
    client: httpx.AsyncClient, deployment: dict[str, Any]
) -> None:
    scale = (await client.get(f"{DEPLOYMENTS}/d/scale")).json()
    scale["spec"]["replicas"] = 5
    # kubectl scale --current-replicas: GET, then PUT with no Content-Type at all.
    request = client.build_request("PUT", f"{DEPLOYMENTS}/d/scale", content=orjson.dumps(scale))
    assert "content-type" not in request.headers
    response = await client.send(request)
    assert response.status_code == 200, response.text
    assert response.json()["spec"]["replicas"] == 5
    # The resourceVersion it sent is now stale: a precondition that fails with 409.
    stale = await client.put(f"{DEPLOYMENTS}/d/scale", json=scale)
    assert stale.status_code == 409
    assert stale.json()["message"].startswith('Operation cannot be fulfilled on deployments.apps "d"')
    # Without a resourceVersion the write is unconditional.
    del scale["metadata"]["resourceVersion"]
    scale["spec"]["replicas"] = 0
    response = await client.put(f"{DEPLOYMENTS}/d/scale", json=scale)
    assert (
        response.status_code == 200 and response.json()["spec"] == {}
    )  # 0 is omitted, as Kubernetes encodes it
    assert (await client.get(f"{DEPLOYMENTS}/d")).json()["spec"]["replicas"] == 0


async def test_patch_with_a_stale_resource_version_conflicts(
    client: httpx.AsyncClient, deployment: dict[str, Any]
) -> None:
    patch = {
        "metadata": {"resourceVersion": deployment["metadata"]["resourceVersion"]},
        "spec": {"replicas": 4},
    }
    response = await client.patch(f"{DEPLOYMENTS}/d/scale", json=patch, headers=MERGE)
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"spec": {"replicas": -1}},
            422,
            'Scale.autoscaling "d" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
        ),
        ({"spec": {"replicas": "three"}}, 400, "cannot be handled as a Scale"),
        ({"metadata": {"name": "other"}, "spec": {"replicas": 1}}, 400, "does not match the name on the URL"),
        ({"kind": "Deployment", "spec": {"replicas": 1}}, 400, "cannot be handled as a Scale"),
        (
            {"metadata": {"uid": "not-it"}, "spec": {"replicas": 1}},
            409,
            "Precondition failed: UID in precondition: not-it",
        ),
    ],
)
async def test_bad_scales_change_nothing(
    client: httpx.AsyncClient, deployment: dict[str, Any], body: dict[str, Any], code: int, message: str
) -> None:
    before = (await client.get(f"{DEPLOYMENTS}/d")).json()
    response = await client.put(f"{DEPLOYMENTS}/d/scale", json=body)
    assert response.status_code == code and message in response.json()["message"], response.text
    after = (await client.get(f"{DEPLOYMENTS}/d")).json()
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_json_and_strategic_patches(client: httpx.AsyncClient, deployment: dict[str, Any]) -> None:
    json_patch = [{"op": "replace", "path": "/spec/replicas", "value": 6}]
    response = await client.patch(
        f"{DEPLOYMENTS}/d/scale", json=json_patch, headers={"content-type": "application/json-patch+json"}
    )
    assert response.status_code == 200 and response.json()["spec"]["replicas"] == 6
    response = await client.patch(
        f"{DEPLOYMENTS}/d/scale",
        json={"spec": {"replicas": 7}},
        headers={"content-type": "application/strategic-merge-patch+json"},
    )
    assert response.status_code == 200 and response.json()["spec"]["replicas"] == 7
    apply = await client.patch(
        f"{DEPLOYMENTS}/d/scale?fieldManager=me",
        content=b"spec: {replicas: 1}",
        headers={"content-type": "application/apply-patch+yaml"},
    )
    assert apply.status_code == 415


async def test_replicasets_scale_too(client: httpx.AsyncClient) -> None:
    created = await client.post(REPLICASETS, json=workload("ReplicaSet", "rs", replicas=1))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == {"replicas": 0}  # the Go zero status, as Kubernetes writes it
    response = await client.patch(f"{REPLICASETS}/rs/scale", json={"spec": {"replicas": 2}}, headers=MERGE)
    assert response.status_code == 200, response.text
    assert response.json()["spec"]["replicas"] == 2 and response.json()["status"]["replicas"] == 0
    parent = (await client.get(f"{REPLICASETS}/rs")).json()
    assert parent["spec"]["replicas"] == 2 and parent["metadata"]["generation"] == 2
    assert (await client.delete(f"{REPLICASETS}/rs/scale")).status_code == 405


async def test_daemonsets_can_be_created(client: httpx.AsyncClient) -> None:
    body = workload("DaemonSet", "ds")
    del body["spec"]["replicas"]
    created = await client.post("/apis/apps/v1/namespaces/default/daemonsets", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["status"]["desiredNumberScheduled"] == 0
