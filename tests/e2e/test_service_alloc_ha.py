"""Two API servers on one etcd never hand out the same ClusterIP or NodePort.

Both ``python -m apiserver`` processes allocate through the range records in etcd
(``/registry/ranges/serviceips``, ``/registry/ranges/servicenodeports``) with
compare-and-swap, so Services created concurrently through either of them all get
distinct values, and a value freed by a delete through one server can be taken again
through the other.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.apiserver import ApiserverProcess, start_apiserver

pytestmark = [pytest.mark.e2e, pytest.mark.etcd]

SERVICES = "/api/v1/namespaces/default/services"
PER_SERVER = 20
# Small ranges, so two servers allocating on their own would collide almost surely:
# 40 node ports out of 50, 40 addresses out of 61.
FLAGS = ("--service-cluster-ip-range", "10.250.0.0/26", "--service-node-port-range", "30000-30049")


@pytest.fixture(scope="module")
def two_apiservers(
    tmp_path_factory: pytest.TempPathFactory, etcd_endpoint: str
) -> Iterator[list[ApiserverProcess]]:
    root: Path = tmp_path_factory.mktemp("alloc-ha")
    with (
        start_apiserver(root / "a", "--etcd-servers", etcd_endpoint, *FLAGS) as first,
        start_apiserver(root / "b", "--etcd-servers", etcd_endpoint, *FLAGS) as second,
    ):
        yield [first, second]


def _service(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"test": "alloc-ha"}},
        "spec": {
            "type": "NodePort",
            "selector": {"app": name},
            "ports": [{"port": 80, **spec.pop("port", {})}],
            **spec,
        },
    }


def _client(server: ApiserverProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, verify=server.ssl_context(), timeout=60.0)


async def _create_all(servers: list[ApiserverProcess], names: list[list[str]]) -> list[dict[str, Any]]:
    clients = [_client(s) for s in servers]
    try:

        async def create(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
            response = await client.post(SERVICES, json=_service(name))
            assert response.status_code == 201, response.text
            created: dict[str, Any] = response.json()
            return created

        jobs = [create(client, name) for client, group in zip(clients, names, strict=True) for name in group]
        return list(await asyncio.gather(*jobs))
    finally:
        for client in clients:
            await client.aclose()


def _values(services: list[dict[str, Any]]) -> tuple[list[str], list[int]]:
    ips = [s["spec"]["clusterIP"] for s in services if s["spec"].get("clusterIP") not in (None, "", "None")]
    ports = [p["nodePort"] for s in services for p in s["spec"].get("ports", ()) if p.get("nodePort")]
    return ips, ports


def test_concurrent_creates_through_two_servers_never_collide(two_apiservers: list[ApiserverProcess]) -> None:
    run = uuid.uuid4().hex[:6]
    names = [[f"ha-{run}-{side}-{i}" for i in range(PER_SERVER)] for side in ("a", "b")]
    created = asyncio.run(_create_all(two_apiservers, names))
    ips, ports = _values(created)
    assert len(ips) == len(ports) == 2 * PER_SERVER
    assert len(set(ips)) == len(ips), [ip for ip, n in Counter(ips).items() if n > 1]
    assert len(set(ports)) == len(ports), [p for p, n in Counter(ports).items() if n > 1]

    first, second = two_apiservers
    with first.client() as a, second.client() as b:
        # Nothing else in the cluster (the kubernetes Service, other tests') shares them either.
        everything = a.get("/api/v1/services").json()["items"]
        all_ips, all_ports = _values(everything)
        assert not [ip for ip, n in Counter(all_ips).items() if n > 1]
        assert not [p for p, n in Counter(all_ports).items() if n > 1]

        # Deletes through one server free the values for creates through the other.
        reused = created[:6]
        for index, service in enumerate(reused):
            name = service["metadata"]["name"]
            assert (a if index % 2 else b).delete(f"{SERVICES}/{name}").status_code == 200
        for index, service in enumerate(reused):
            ip, port = service["spec"]["clusterIP"], service["spec"]["ports"][0]["nodePort"]
            again = _service(f"{service['metadata']['name']}-again", clusterIP=ip, port={"nodePort": port})
            response = (b if index % 2 else a).post(SERVICES, json=again)
            assert response.status_code == 201, response.text
        # And a value still held is refused through either server.
        held = created[-1]["spec"]
        for client in (a, b):
            taken = client.post(SERVICES, json=_service(f"ha-{run}-thief", clusterIP=held["clusterIP"]))
            assert taken.status_code == 422 and "provided IP is already allocated" in taken.text
            taken = client.post(
                SERVICES, json=_service(f"ha-{run}-thief", port={"nodePort": held["ports"][0]["nodePort"]})
            )
            assert taken.status_code == 422 and "provided port is already allocated" in taken.text

        for service in a.get(f"{SERVICES}?labelSelector=test%3Dalloc-ha").json()["items"]:
            assert a.delete(f"{SERVICES}/{service['metadata']['name']}").status_code == 200
    # Both ran their start-up repair pass over the shared records without error.
    for server in two_apiservers:
        assert "service allocation repair failed" not in server.log()
