"""What ``kubectl get -o json`` shows as the status of a workload right after create.

Kubernetes' strategies reset a new object's status to the Go zero value of its status
struct, and JSON-encode it: the plain integer fields (no ``omitempty``) appear as 0,
everything else is left out. So a fresh ReplicaSet reads ``{"replicas": 0}``, a
DaemonSet and a PodDisruptionBudget their four counters, a Deployment ``{}``
(``pkg/registry/apps/replicaset/strategy.go`` and the ``apps/v1``, ``policy/v1`` types).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

APPS = "/apis/apps/v1/namespaces/default"
PDBS = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"
MERGE = {"content-type": "application/merge-patch+json"}
DAEMONSET_ZERO = {
    "currentNumberScheduled": 0,
    "numberMisscheduled": 0,
    "desiredNumberScheduled": 0,
    "numberReady": 0,
}
PDB_ZERO = {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}


def workload(kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        },
    }
    if kind != "DaemonSet":
        spec["replicas"] = 2
    # A client-sent status is dropped on create, whatever it says.
    status = {"replicas": 5, "readyReplicas": 5} if kind != "DaemonSet" else {"numberReady": 3}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec, "status": status}


def budget(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": name}}},
        "status": {"disruptionsAllowed": 9},
    }


CASES = [
    (f"{APPS}/replicasets", workload("ReplicaSet", "rs"), {"replicas": 0}),
    (f"{APPS}/daemonsets", workload("DaemonSet", "ds"), DAEMONSET_ZERO),
    (PDBS, budget("pdb"), PDB_ZERO),
    (f"{APPS}/deployments", workload("Deployment", "d"), {}),
]


@pytest.mark.parametrize(
    ("path", "body", "status"), CASES, ids=["replicaset", "daemonset", "pdb", "deployment"]
)
async def test_a_new_object_reads_back_with_the_go_zero_status(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], status: dict[str, Any]
) -> None:
    created = await client.post(path, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == status
    name = body["metadata"]["name"]
    assert (await client.get(f"{path}/{name}")).json()["status"] == status
    # An update of the object keeps the stored status and is not refused for it.
    relabel = await client.patch(f"{path}/{name}", json={"metadata": {"labels": {"x": "y"}}}, headers=MERGE)
    assert relabel.status_code == 200, relabel.text
    assert relabel.json()["status"] == status


async def test_dry_run_create_shows_the_same_status(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{APPS}/replicasets?dryRun=All", json=workload("ReplicaSet", "dry"))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == {"replicas": 0}


async def test_a_status_write_without_the_counters_reads_them_as_zero(client: httpx.AsyncClient) -> None:
    """Go decodes an absent plain integer as 0, so a controller's status PUT that
    leaves a counter out is accepted and the counter reads back as 0."""
    path = f"{APPS}/replicasets"
    assert (await client.post(path, json=workload("ReplicaSet", "w"))).status_code == 201
    current = (await client.get(f"{path}/w")).json()
    current["status"] = {"readyReplicas": 1, "observedGeneration": 1}
    written = await client.put(f"{path}/w/status", json=current)
    assert written.status_code == 200, written.text
    assert written.json()["status"] == {"readyReplicas": 1, "observedGeneration": 1, "replicas": 0}
    budget_path = f"{PDBS}/b"
    assert (await client.post(PDBS, json=budget("b"))).status_code == 201
    patched = await client.patch(
        f"{budget_path}/status", json={"status": {"currentHealthy": None}}, headers=MERGE
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == PDB_ZERO


async def test_a_wrongly_typed_counter_is_still_refused(client: httpx.AsyncClient) -> None:
    path = f"{APPS}/replicasets"
    assert (await client.post(path, json=workload("ReplicaSet", "t"))).status_code == 201
    current = (await client.get(f"{path}/t")).json()
    current["status"] = {"replicas": "many"}
    written = await client.put(f"{path}/t/status", json=current)
    assert written.status_code == 422, written.text
    assert "status.replicas" in written.json()["message"]
