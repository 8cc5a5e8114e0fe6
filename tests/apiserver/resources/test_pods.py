"""Pods: graceful deletion as the kubelet finishes it, and binding to a node."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from apiserver.registry import API, DeleteOptions, ListOptions
from kube import meta as kmeta
from kube.errors import Conflict, NotFound

from .helpers import MERGE, PODS, create_pod, ctx_for, pod, set_pod_status, store_of

# -- graceful deletion -------------------------------------------------------------------


async def test_a_bound_pod_is_marked_not_removed(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p", node="n1"))
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    response = await client.delete(f"{PODS}/p")
    assert response.status_code == 200
    marked = response.json()
    assert (
        marked["metadata"]["deletionGracePeriodSeconds"] == 30
    )  # spec.terminationGracePeriodSeconds default
    deadline = kmeta.parse_time(marked["metadata"]["deletionTimestamp"])
    assert before + dt.timedelta(seconds=29) <= deadline <= before + dt.timedelta(seconds=32)
    stored = (await client.get(f"{PODS}/p")).json()
    assert stored["metadata"]["deletionTimestamp"] == marked["metadata"]["deletionTimestamp"]


async def test_grace_comes_from_options_then_from_the_spec(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("short", node="n1", terminationGracePeriodSeconds=7))
    marked = (await client.delete(f"{PODS}/short")).json()
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 7
    await create_pod(client, pod("asked", node="n1"))
    marked = (await client.request("DELETE", f"{PODS}/asked", json={"gracePeriodSeconds": 12})).json()
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 12


async def test_the_kubelet_finishes_with_grace_zero(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p", node="n1"))
    await client.delete(f"{PODS}/p")
    # Another DELETE without a shorter grace changes nothing...
    again = await client.delete(f"{PODS}/p")
    assert again.status_code == 200 and again.json()["metadata"]["deletionGracePeriodSeconds"] == 30
    # ...a shorter one moves the deadline earlier...
    shorter = (await client.request("DELETE", f"{PODS}/p", json={"gracePeriodSeconds": 5})).json()
    assert shorter["metadata"]["deletionGracePeriodSeconds"] == 5
    # ...and grace 0 removes it.
    done = await client.request("DELETE", f"{PODS}/p", json={"gracePeriodSeconds": 0})
    assert done.status_code == 200
    assert (await client.get(f"{PODS}/p")).status_code == 404


async def test_unscheduled_and_finished_pods_go_at_once(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("pending"))
    assert (await client.delete(f"{PODS}/pending")).status_code == 200
    assert (await client.get(f"{PODS}/pending")).status_code == 404
    for phase in ("Succeeded", "Failed"):
        name = phase.lower()
        await create_pod(client, pod(name, node="n1"))
        await set_pod_status(client, name, {"phase": phase})
        assert (await client.delete(f"{PODS}/{name}")).status_code == 200
        assert (await client.get(f"{PODS}/{name}")).status_code == 404


async def test_dry_run_delete_of_a_bound_pod_changes_nothing(client: httpx.AsyncClient) -> None:
    created = await create_pod(client, pod("p", node="n1"))
    response = await client.delete(f"{PODS}/p?dryRun=All")
    assert response.status_code == 200 and response.json()["metadata"]["deletionTimestamp"]
    stored = (await client.get(f"{PODS}/p")).json()
    assert "deletionTimestamp" not in stored["metadata"]
    assert stored["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_a_watch_sees_the_mark_then_the_removal(api: API) -> None:
    pods = store_of(api, "pods")
    created = await pods.create(ctx_for(pods), pod("w", node="n1"))
    stream = await pods.watch(
        ctx_for(pods),
        options=ListOptions(resource_version=created["metadata"]["resourceVersion"], timeout_seconds=5),
    )
    await pods.delete(ctx_for(pods, name="w"), options=DeleteOptions())
    await pods.delete(ctx_for(pods, name="w"), options=DeleteOptions(grace_period_seconds=0))
    seen = []
    async for event in stream:
        seen.append((str(event.type), event.object["metadata"].get("deletionGracePeriodSeconds")))
        if event.type == "DELETED":
            break
    # Marked with 30 s, shortened to 0 (as Kubernetes stores it), then gone.
    assert seen == [("MODIFIED", 30), ("MODIFIED", 0), ("DELETED", 0)]


# -- binding ----------------------------------------------------------------------------


def binding(name: str, node: str, **meta: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name, **meta},
        "target": {"kind": "Node", "name": node},
    }


async def test_binding_sets_the_node_once_and_marks_scheduled(client: httpx.AsyncClient) -> None:
    created = await create_pod(client, pod("p"))
    response = await client.post(f"{PODS}/p/binding", json=binding("p", "n0"))
    assert response.status_code == 201
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }
    bound = (await client.get(f"{PODS}/p")).json()
    assert bound["spec"]["nodeName"] == "n0"
    [condition] = bound["status"]["conditions"]
    assert (
        condition["type"] == "PodScheduled"
        and condition["status"] == "True"
        and condition["lastTransitionTime"]
    )
    assert bound["status"]["phase"] == "Pending"
    assert bound["metadata"]["generation"] == created["metadata"]["generation"]

    again = await client.post(f"{PODS}/p/binding", json=binding("p", "n1"))
    assert again.status_code == 409
    assert again.json()["message"] == (
        'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "n0"'
    )
    assert again.json()["details"] == {"name": "p", "kind": "pods/binding"}
    assert (await client.get(f"{PODS}/p")).json()["spec"]["nodeName"] == "n0"


async def test_binding_replaces_an_unschedulable_condition(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p"))
    unschedulable = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": "0/3 nodes",
    }
    await set_pod_status(client, "p", {"conditions": [unschedulable]})
    await client.post(f"{PODS}/p/binding", json=binding("p", "n0"))
    [condition] = (await client.get(f"{PODS}/p")).json()["status"]["conditions"]
    assert condition["status"] == "True" and "reason" not in condition


async def test_binding_copies_its_annotations(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p"))
    await client.post(f"{PODS}/p/binding", json=binding("p", "n0", annotations={"scheduled-by": "me"}))
    assert (await client.get(f"{PODS}/p")).json()["metadata"]["annotations"] == {"scheduled-by": "me"}


async def test_a_pod_being_deleted_cannot_be_bound(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p", finalizers=None))
    await client.patch(f"{PODS}/p", json={"metadata": {"finalizers": ["example.com/hold"]}}, headers=MERGE)
    await client.delete(f"{PODS}/p")
    response = await client.post(f"{PODS}/p/binding", json=binding("p", "n0"))
    assert response.status_code == 409
    assert response.json()["message"].endswith("pod p is being deleted, cannot be assigned to a host")


async def test_a_gated_pod_cannot_be_bound(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p", schedulingGates=[{"name": "example.com/wait"}]))
    response = await client.post(f"{PODS}/p/binding", json=binding("p", "n0"))
    assert response.status_code == 409 and "non-empty .spec.schedulingGates" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (binding("other", "n0"), 400, "name in URL does not match name in Binding object"),
        (
            {**binding("p", "n0"), "target": {"kind": "Pod", "name": "n0"}},
            422,
            'target.kind: Unsupported value: "Pod"',
        ),
        ({**binding("p", "n0"), "target": {}}, 422, "target.name: Required value"),
        ({**binding("p", "n0"), "kind": "Pod"}, 400, "not a Binding object"),
        ([1, 2], 400, "must be of type Binding"),
    ],
)
async def test_bad_bindings_change_nothing(
    client: httpx.AsyncClient, body: object, code: int, message: str
) -> None:
    created = await create_pod(client, pod("p"))
    response = await client.post(f"{PODS}/p/binding", json=body)
    assert response.status_code == code and message in response.json()["message"], response.text
    stored = (await client.get(f"{PODS}/p")).json()
    assert stored["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_binding_a_missing_pod_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{PODS}/nope/binding", json=binding("nope", "n0"))
    assert response.status_code == 404 and response.json()["message"] == 'pods "nope" not found'


async def test_binding_preconditions(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p"))
    stale_uid = await client.post(f"{PODS}/p/binding", json=binding("p", "n0", uid="not-the-uid"))
    assert (
        stale_uid.status_code == 409
        and "Precondition failed: UID in precondition: not-the-uid" in stale_uid.text
    )
    stale_rv = await client.post(f"{PODS}/p/binding", json=binding("p", "n0", resourceVersion="1"))
    assert stale_rv.status_code == 409


async def test_dry_run_binding_stores_nothing(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p"))
    assert (await client.post(f"{PODS}/p/binding?dryRun=All", json=binding("p", "n0"))).status_code == 201
    assert "nodeName" not in (await client.get(f"{PODS}/p")).json()["spec"]


async def test_the_bindings_resource_binds_the_named_pod(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p"))
    response = await client.post("/api/v1/namespaces/default/bindings", json=binding("p", "n2"))
    assert response.status_code == 201 and response.json()["status"] == "Success"
    assert (await client.get(f"{PODS}/p")).json()["spec"]["nodeName"] == "n2"
    wrong_ns = await client.post(
        "/api/v1/namespaces/default/bindings", json=binding("p", "n2", namespace="other")
    )
    assert wrong_ns.status_code == 400


async def test_racing_schedulers_bind_once(api: API) -> None:
    from apiserver.registry.resources.pods import bind

    pods = store_of(api, "pods")
    await pods.create(ctx_for(pods), pod("raced"))
    ctx = ctx_for(pods, name="raced", subresource="binding")
    results = await asyncio.gather(
        *(bind(pods=pods, ctx=ctx, binding=binding("raced", f"n{i}")) for i in range(10)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, dict)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, dict))
    assert (await pods.get(ctx_for(pods, name="raced")))["spec"]["nodeName"] == winners[0]["spec"]["nodeName"]
    with pytest.raises(NotFound):
        await bind(pods=pods, ctx=ctx_for(pods, name="gone"), binding=binding("gone", "n0"))


async def test_a_bound_pod_can_still_be_updated(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p"))
    await client.post(f"{PODS}/p/binding", json=binding("p", "n0"))
    labelled = await client.patch(f"{PODS}/p", json={"metadata": {"labels": {"x": "y"}}}, headers=MERGE)
    assert labelled.status_code == 200, labelled.text
    running = await client.patch(f"{PODS}/p/status", json={"status": {"phase": "Running"}}, headers=MERGE)
    assert running.status_code == 200, running.text
    assert running.json()["status"]["conditions"][0]["type"] == "PodScheduled"
    moved = await client.patch(f"{PODS}/p", json={"spec": {"nodeName": "n9"}}, headers=MERGE)
    assert moved.status_code == 422  # only a binding sets the node
