"""pods/eviction: a pod goes only if its PodDisruptionBudget allows the disruption."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .helpers import MERGE, PDBS, PODS, create_pod, pod, set_pod_status

RUNNING = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}


def eviction(name: str, **delete_options: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    if delete_options:
        body["deleteOptions"] = delete_options
    return body


async def running_pod(
    client: httpx.AsyncClient, name: str, *, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    created = await create_pod(client, pod(name, node="n1", labels=labels))
    await set_pod_status(client, name, RUNNING)
    return created


async def budget(
    client: httpx.AsyncClient,
    name: str,
    *,
    allowed: int,
    selector: Any = None,
    observed: int = 1,
    **status: Any,
) -> None:
    body = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {
            "minAvailable": 1,
            "selector": {"matchLabels": {"app": "web"}} if selector is None else selector,
        },
    }
    response = await client.post(PDBS, json=body)
    assert response.status_code == 201, response.text
    # No disruption controller yet: the status is whatever is written to /status.
    full = {
        "disruptionsAllowed": allowed,
        "currentHealthy": 2,
        "desiredHealthy": 1,
        "expectedPods": 2,
        "observedGeneration": observed,
        **status,
    }
    response = await client.patch(f"{PDBS}/{name}/status", json={"status": full}, headers=MERGE)
    assert response.status_code == 200, response.text


async def evict(client: httpx.AsyncClient, name: str, body: Any = None, *, query: str = "") -> httpx.Response:
    return await client.post(f"{PODS}/{name}/eviction{query}", json=eviction(name) if body is None else body)


async def test_a_pending_pod_is_simply_deleted(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p"))
    await budget(client, "pdb", allowed=0)
    response = await evict(client, "p")
    assert response.status_code == 201
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }
    assert (await client.get(f"{PODS}/p")).status_code == 404


async def test_a_running_pod_without_a_budget_is_deleted_gracefully(client: httpx.AsyncClient) -> None:
    await running_pod(client, "p")
    assert (await evict(client, "p")).status_code == 201
    stored = (await client.get(f"{PODS}/p")).json()
    assert stored["metadata"]["deletionGracePeriodSeconds"] == 30
    # The eviction's own delete options are honoured.
    await running_pod(client, "q")
    assert (await evict(client, "q", eviction("q", gracePeriodSeconds=0))).status_code == 201
    assert (await client.get(f"{PODS}/q")).status_code == 404


async def test_a_budget_with_room_is_spent(client: httpx.AsyncClient) -> None:
    await running_pod(client, "p")
    await budget(client, "pdb", allowed=1)
    assert (await evict(client, "p")).status_code == 201
    status = (await client.get(f"{PDBS}/pdb")).json()["status"]
    assert status["disruptionsAllowed"] == 0 and "p" in status["disruptedPods"]
    [condition] = status["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "DisruptionAllowed",
        "False",
        "InsufficientPods",
    )
    assert (await client.get(f"{PODS}/p")).json()["metadata"]["deletionTimestamp"]


async def test_an_exhausted_budget_answers_429(client: httpx.AsyncClient) -> None:
    created = await running_pod(client, "p")
    await budget(client, "pdb", allowed=0)
    before = (await client.get(f"{PDBS}/pdb")).json()
    response = await evict(client, "p")
    assert response.status_code == 429
    status = response.json()
    assert status["reason"] == "TooManyRequests"
    assert status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert status["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget pdb needs 1 healthy pods and has 2 currently",
        }
    ]
    pod_now = (await client.get(f"{PODS}/p")).json()
    assert (
        "deletionTimestamp" not in pod_now["metadata"]
        and pod_now["metadata"]["uid"] == created["metadata"]["uid"]
    )
    assert (await client.get(f"{PDBS}/pdb")).json()["metadata"]["resourceVersion"] == before["metadata"][
        "resourceVersion"
    ]


async def test_a_budget_its_controller_has_not_seen_answers_429(client: httpx.AsyncClient) -> None:
    await running_pod(client, "p")
    await budget(client, "pdb", allowed=5, observed=0)
    response = await evict(client, "p")
    assert response.status_code == 429
    assert response.json()["details"]["retryAfterSeconds"] == 10
    assert "is still being processed by the server" in response.json()["details"]["causes"][0]["message"]


async def test_a_negative_budget_is_forbidden(client: httpx.AsyncClient) -> None:
    await running_pod(client, "p")
    await budget(client, "pdb", allowed=-1)
    response = await evict(client, "p")
    assert response.status_code == 403 and "pdb disruptions allowed is negative" in response.json()["message"]


async def test_two_budgets_are_a_409(client: httpx.AsyncClient) -> None:
    await running_pod(client, "p")
    await budget(client, "one", allowed=1)
    await budget(client, "two", allowed=1)
    response = await evict(client, "p")
    assert response.status_code == 409
    assert response.json()["message"] == (
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
    )
    assert "deletionTimestamp" not in (await client.get(f"{PODS}/p")).json()["metadata"]
    assert (await client.get(f"{PDBS}/one")).json()["status"]["disruptionsAllowed"] == 1


async def test_budgets_that_select_nothing_are_ignored(client: httpx.AsyncClient) -> None:
    await running_pod(client, "p")
    await budget(client, "empty", allowed=0, selector={})
    await budget(client, "other", allowed=0, selector={"matchLabels": {"app": "other"}})
    assert (await evict(client, "p")).status_code == 201


async def test_an_unready_pod_spends_nothing_when_the_budget_is_met(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p", node="n1"))
    await set_pod_status(
        client, "p", {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}
    )
    await budget(client, "pdb", allowed=0, currentHealthy=2, desiredHealthy=2)
    assert (await evict(client, "p")).status_code == 201
    assert (await client.get(f"{PDBS}/pdb")).json()["status"]["disruptionsAllowed"] == 0


async def test_dry_run_evicts_nothing(client: httpx.AsyncClient) -> None:
    await running_pod(client, "p")
    await budget(client, "pdb", allowed=1)
    assert (await evict(client, "p", query="?dryRun=All")).status_code == 201
    assert (await evict(client, "p", eviction("p", dryRun=["All"]), query="?dryRun=All")).status_code == 201
    assert (await client.get(f"{PDBS}/pdb")).json()["status"]["disruptionsAllowed"] == 1
    assert "deletionTimestamp" not in (await client.get(f"{PODS}/p")).json()["metadata"]
    mismatch = await evict(client, "p", eviction("p", dryRun=["All"]))
    assert mismatch.status_code == 400 and "Non-matching dry-run options" in mismatch.json()["message"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (eviction("other"), 400, "name in URL does not match name in Eviction object"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}, 400, "not a Eviction object"),
        (eviction("p", gracePeriodSeconds="soon"), 400, "gracePeriodSeconds must be an integer"),
        (eviction("p", preconditions={"uid": "not-it"}), 409, "does not match the UID in record"),
        ("just text", 400, "must be of type Eviction"),
    ],
)
async def test_bad_evictions_change_nothing(
    client: httpx.AsyncClient, body: Any, code: int, message: str
) -> None:
    await running_pod(client, "p")
    before = (await client.get(f"{PODS}/p")).json()
    response = await evict(client, "p", body)
    assert response.status_code == code, response.text
    assert message in response.json()["message"] or message in response.text
    after = (await client.get(f"{PODS}/p")).json()
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_evicting_a_missing_pod_is_404(client: httpx.AsyncClient) -> None:
    response = await evict(client, "ghost")
    assert response.status_code == 404 and response.json()["message"] == 'pods "ghost" not found'


async def test_a_protobuf_eviction_is_understood(client: httpx.AsyncClient) -> None:
    await running_pod(client, "p")

    def varint(value: int) -> bytes:
        out = bytearray()
        while True:
            low, value = value & 0x7F, value >> 7
            out.append(low | 0x80 if value else low)
            if not value:
                return bytes(out)

    def field(number: int, payload: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    meta = field(1, field(1, b"p") + field(3, b"default"))
    delete_options = field(2, varint(1 << 3) + varint(0))  # gracePeriodSeconds: 0
    body = (
        b"k8s\x00"
        + field(1, field(1, b"policy/v1") + field(2, b"Eviction"))
        + field(2, meta + delete_options)
    )
    response = await client.post(
        f"{PODS}/p/eviction", content=body, headers={"content-type": "application/vnd.kubernetes.protobuf"}
    )
    assert response.status_code == 201, response.text
    assert (await client.get(f"{PODS}/p")).status_code == 404
