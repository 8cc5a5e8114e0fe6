"""Namespaces: DELETE begins termination; /finalize ends it; system namespaces stay."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

NAMESPACES = "/api/v1/namespaces"


async def make(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await client.post(
        NAMESPACES, json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def finalize(client: httpx.AsyncClient, name: str, finalizers: list[str]) -> httpx.Response:
    current = (await client.get(f"{NAMESPACES}/{name}")).json()
    current["spec"]["finalizers"] = finalizers
    return await client.put(f"{NAMESPACES}/{name}/finalize", json=current)


async def test_delete_marks_the_namespace_terminating(client: httpx.AsyncClient) -> None:
    await make(client, "x")
    response = await client.delete(f"{NAMESPACES}/x")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "Namespace" and body["status"]["phase"] == "Terminating"
    assert body["metadata"]["deletionTimestamp"] and "deletionGracePeriodSeconds" not in body["metadata"]
    assert body["spec"]["finalizers"] == ["kubernetes"]
    stored = (await client.get(f"{NAMESPACES}/x")).json()
    assert stored["status"]["phase"] == "Terminating"
    # Deleting again while the finalizer is there changes nothing.
    again = await client.delete(f"{NAMESPACES}/x")
    assert (
        again.status_code == 200
        and again.json()["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    )


async def test_nothing_new_is_created_in_a_terminating_namespace(client: httpx.AsyncClient) -> None:
    await make(client, "x")
    await client.post("/api/v1/namespaces/x/configmaps", json={"metadata": {"name": "before"}})
    await client.delete(f"{NAMESPACES}/x")
    response = await client.post("/api/v1/namespaces/x/configmaps", json={"metadata": {"name": "after"}})
    assert response.status_code == 403
    assert response.json()["message"] == (
        'configmaps "after" is forbidden: unable to create new content in namespace x because it is being terminated'
    )
    # What is already there can still be read, changed and deleted (the controller's job).
    patched = await client.patch(
        "/api/v1/namespaces/x/configmaps/before",
        json={"data": {"a": "b"}},
        headers={"content-type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200
    assert (await client.delete("/api/v1/namespaces/x/configmaps/before")).status_code == 200


async def test_finalize_removes_a_terminating_namespace(client: httpx.AsyncClient) -> None:
    await make(client, "x")
    await client.delete(f"{NAMESPACES}/x")
    response = await finalize(client, "x", [])
    assert response.status_code == 200
    assert (await client.get(f"{NAMESPACES}/x")).status_code == 404
    # The name is free for a new namespace.
    await make(client, "x")


async def test_finalize_before_delete_only_updates(client: httpx.AsyncClient) -> None:
    await make(client, "x")
    response = await finalize(client, "x", [])
    assert response.status_code == 200 and response.json()["spec"].get("finalizers", []) == []
    # The first DELETE still only marks it (as Kubernetes does); the next one removes it.
    assert (await client.delete(f"{NAMESPACES}/x")).json()["status"]["phase"] == "Terminating"
    assert (await client.get(f"{NAMESPACES}/x")).status_code == 200
    assert (await client.delete(f"{NAMESPACES}/x")).status_code == 200
    assert (await client.get(f"{NAMESPACES}/x")).status_code == 404


async def test_metadata_finalizers_still_hold_after_finalize(client: httpx.AsyncClient) -> None:
    await make(client, "x")
    await client.patch(
        f"{NAMESPACES}/x",
        json={"metadata": {"finalizers": ["example.com/hold"]}},
        headers={"content-type": "application/merge-patch+json"},
    )
    await client.delete(f"{NAMESPACES}/x")
    await finalize(client, "x", [])
    assert (await client.get(f"{NAMESPACES}/x")).status_code == 200
    await client.patch(
        f"{NAMESPACES}/x",
        json={"metadata": {"finalizers": None}},
        headers={"content-type": "application/merge-patch+json"},
    )
    assert (await client.get(f"{NAMESPACES}/x")).status_code == 404


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public", "kube-node-lease"])
async def test_system_namespaces_may_not_be_deleted(client: httpx.AsyncClient, name: str) -> None:
    response = await client.delete(f"{NAMESPACES}/{name}")
    assert response.status_code == 403
    assert (
        response.json()["message"] == f'namespaces "{name}" is forbidden: this namespace may not be deleted'
    )
    assert "deletionTimestamp" not in (await client.get(f"{NAMESPACES}/{name}")).json()["metadata"]


async def test_dry_run_and_preconditions(client: httpx.AsyncClient) -> None:
    created = await make(client, "x")
    dry = await client.delete(f"{NAMESPACES}/x?dryRun=All")
    assert dry.status_code == 200 and dry.json()["status"]["phase"] == "Terminating"
    assert (await client.get(f"{NAMESPACES}/x")).json()["status"]["phase"] == "Active"
    wrong_uid = await client.request("DELETE", f"{NAMESPACES}/x", json={"preconditions": {"uid": "nope"}})
    assert wrong_uid.status_code == 409 and "Precondition failed: UID in precondition: nope" in wrong_uid.text
    wrong_rv = await client.request(
        "DELETE", f"{NAMESPACES}/x", json={"preconditions": {"resourceVersion": "1"}}
    )
    assert wrong_rv.status_code == 409
    assert (await client.get(f"{NAMESPACES}/x")).json()["metadata"]["uid"] == created["metadata"]["uid"]
    assert (await client.delete(f"{NAMESPACES}/missing")).status_code == 404


async def test_orphan_propagation_adds_the_finalizer(client: httpx.AsyncClient) -> None:
    await make(client, "x")
    marked = (await client.request("DELETE", f"{NAMESPACES}/x", json={"propagationPolicy": "Orphan"})).json()
    assert marked["metadata"]["finalizers"] == ["orphan"]
