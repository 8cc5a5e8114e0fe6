"""Services: ClusterIP and NodePort allocation, never duplicated, always given back."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver.bootstrap import bootstrap
from apiserver.registry import API, DeleteOptions
from apiserver.registry.resources import ResourceOptions, configure
from apiserver.registry.resources.services import ServiceStrategy
from apiserver.storage import open_storage
from kube.errors import Invalid
from kube.resources import default_registry

from .helpers import SERVICES, ctx_for, service, store_of

RANGE = ipaddress.IPv4Network("10.96.0.0/12")


def allocations(api: API) -> ServiceStrategy:
    strategy = store_of(api, "services").strategy
    assert isinstance(strategy, ServiceStrategy)
    return strategy


async def create(client: httpx.AsyncClient, body: dict[str, Any], *, query: str = "") -> httpx.Response:
    return await client.post(SERVICES + query, json=body)


async def test_a_cluster_ip_is_allocated_from_the_range(client: httpx.AsyncClient) -> None:
    response = await create(client, service("a"))
    assert response.status_code == 201, response.text
    spec = response.json()["spec"]
    ip = ipaddress.IPv4Address(spec["clusterIP"])
    assert ip in RANGE and ip != ipaddress.IPv4Address("10.96.0.1")  # .1 is the kubernetes Service's
    assert spec["clusterIPs"] == [spec["clusterIP"]] and spec["ipFamilies"] == ["IPv4"]


async def test_a_requested_ip_is_honoured_if_free_and_in_range(client: httpx.AsyncClient) -> None:
    ok = await create(client, service("a", clusterIP="10.96.5.5"))
    assert ok.status_code == 201 and ok.json()["spec"]["clusterIP"] == "10.96.5.5"
    taken = await create(client, service("b", clusterIP="10.96.5.5"))
    assert taken.status_code == 422
    assert (
        taken.json()["message"]
        == 'Service "b" is invalid: spec.clusterIP: Invalid value: "10.96.5.5": provided IP is already allocated'
    )
    outside = await create(client, service("c", clusterIP="10.0.0.5"))
    assert outside.status_code == 422
    assert outside.json()["message"] == (
        'Service "c" is invalid: spec.clusterIP: Invalid value: "10.0.0.5": provided IP is not in the valid range. '
        "The range of valid IPs is 10.96.0.0/12"
    )
    garbage = await create(client, service("d", clusterIP="not-an-ip"))
    assert garbage.status_code == 422 and "must be a valid IP address" in garbage.json()["message"]


async def test_headless_and_external_name_services_hold_no_address(
    client: httpx.AsyncClient, api: API
) -> None:
    held = await allocations(api).allocations.held()
    headless = await create(client, service("h", clusterIP="None"))
    assert headless.status_code == 201 and headless.json()["spec"]["clusterIP"] == "None"
    external = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"type": "ExternalName", "externalName": "example.com"},
    }
    response = await create(client, external)
    assert response.status_code == 201 and "clusterIP" not in response.json()["spec"]
    assert await allocations(api).allocations.held() == held


async def test_node_ports_are_allocated_for_node_port_and_load_balancer(client: httpx.AsyncClient) -> None:
    two_ports = [{"name": "http", "port": 80}, {"name": "https", "port": 443, "nodePort": 30443}]
    response = await create(client, service("np", type_="NodePort", ports=two_ports))
    assert response.status_code == 201, response.text
    ports = response.json()["spec"]["ports"]
    assert 30000 <= ports[0]["nodePort"] <= 32767 and ports[1]["nodePort"] == 30443
    lb = await create(client, service("lb", type_="LoadBalancer", externalTrafficPolicy="Local"))
    spec = lb.json()["spec"]
    assert 30000 <= spec["ports"][0]["nodePort"] <= 32767 and 30000 <= spec["healthCheckNodePort"] <= 32767
    no_ports = await create(client, service("lb2", type_="LoadBalancer", allocateLoadBalancerNodePorts=False))
    assert "nodePort" not in no_ports.json()["spec"]["ports"][0]
    cluster_ip = await create(client, service("cip"))
    assert "nodePort" not in cluster_ip.json()["spec"]["ports"][0]


async def test_requested_node_ports_are_checked(client: httpx.AsyncClient) -> None:
    await create(client, service("a", type_="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    taken = await create(client, service("b", type_="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    assert taken.status_code == 422
    assert taken.json()["message"] == (
        'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated'
    )
    low = await create(client, service("c", type_="NodePort", ports=[{"port": 80, "nodePort": 80}]))
    assert (
        low.status_code == 422
        and "provided port is not in the valid range. The range of valid ports is 30000-32767" in low.text
    )
    # TCP and UDP of one port may share a node port.
    both = [
        {"name": "dns", "port": 53, "protocol": "UDP", "nodePort": 30053},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "nodePort": 30053},
    ]
    assert (await create(client, service("dns", type_="NodePort", ports=both))).status_code == 201


async def test_a_failed_or_dry_run_create_gives_everything_back(client: httpx.AsyncClient, api: API) -> None:
    state = allocations(api).allocations
    await create(client, service("warmup"))
    held = await state.held()
    # Invalid for a reason found after allocation (a port name the object model refuses).
    bad = service(
        "bad",
        type_="NodePort",
        clusterIP="10.96.7.7",
        ports=[{"name": "Bad_Name", "port": 80, "nodePort": 30007}],
    )
    assert (await create(client, bad)).status_code == 422
    dry = await create(client, service("dry", type_="NodePort", clusterIP="10.96.7.8"), query="?dryRun=All")
    assert dry.status_code == 201 and dry.json()["spec"]["clusterIP"] == "10.96.7.8"
    assert dry.json()["spec"]["ports"][0]["nodePort"]
    assert (await client.get(f"{SERVICES}/dry")).status_code == 404
    exists = await create(client, service("warmup", clusterIP="10.96.7.9"))
    assert exists.status_code == 409
    assert await state.held() == held
    # The addresses are really free: they can be taken now.
    again = await create(
        client,
        service("good", type_="NodePort", clusterIP="10.96.7.7", ports=[{"port": 80, "nodePort": 30007}]),
    )
    assert again.status_code == 201, again.text


async def test_fifty_concurrent_creates_get_fifty_addresses(api: API) -> None:
    services = store_of(api, "services")
    created = await asyncio.gather(
        *(services.create(ctx_for(services), service(f"c{i}", type_="NodePort")) for i in range(50))
    )
    ips = {s["spec"]["clusterIP"] for s in created}
    ports = {s["spec"]["ports"][0]["nodePort"] for s in created}
    assert len(ips) == 50 and len(ports) == 50


async def test_delete_releases_and_a_recreate_reuses(client: httpx.AsyncClient) -> None:
    first = await create(
        client, service("a", type_="NodePort", clusterIP="10.96.9.9", ports=[{"port": 80, "nodePort": 30099}])
    )
    assert first.status_code == 201
    deleted = await client.delete(f"{SERVICES}/a")
    assert deleted.status_code == 200 and deleted.json()["kind"] == "Service"
    again = await create(
        client, service("b", type_="NodePort", clusterIP="10.96.9.9", ports=[{"port": 80, "nodePort": 30099}])
    )
    assert again.status_code == 201, again.text


async def test_allocations_are_rebuilt_from_storage(tmp_path: Path) -> None:
    storage = await open_storage(data_dir=tmp_path)
    try:
        first = API(storage=storage, resources=default_registry())
        await first.start()
        await bootstrap(first)
        services = store_of(first, "services")
        held = await services.create(ctx_for(services), service("kept", type_="NodePort"))
        await first.stop()
        # A new API server over the same storage knows what the stored Services hold.
        second = API(storage=storage, resources=default_registry())
        await second.start()
        services = store_of(second, "services")
        ip, port = held["spec"]["clusterIP"], held["spec"]["ports"][0]["nodePort"]
        with pytest.raises(Invalid, match="provided IP is already allocated"):
            await services.create(ctx_for(services), service("ip", clusterIP=ip))
        with pytest.raises(Invalid, match="provided port is already allocated"):
            await services.create(
                ctx_for(services), service("port", type_="NodePort", ports=[{"port": 80, "nodePort": port}])
            )
        await second.stop()
    finally:
        await storage.close()


async def test_update_keeps_what_the_client_left_out(client: httpx.AsyncClient) -> None:
    created = (await create(client, service("a", type_="NodePort"))).json()
    body = {**created, "spec": {**created["spec"], "ports": [{"port": 80}]}}
    del body["spec"]["clusterIP"], body["spec"]["clusterIPs"]
    replaced = await client.put(f"{SERVICES}/a", json=body)
    assert replaced.status_code == 200, replaced.text
    spec = replaced.json()["spec"]
    assert spec["clusterIP"] == created["spec"]["clusterIP"]
    assert spec["ports"][0]["nodePort"] == created["spec"]["ports"][0]["nodePort"]


async def test_cluster_ip_is_immutable(client: httpx.AsyncClient, api: API) -> None:
    created = (await create(client, service("a"))).json()
    held = await allocations(api).allocations.held()
    body = {**created, "spec": {**created["spec"], "clusterIP": "10.96.3.3", "clusterIPs": ["10.96.3.3"]}}
    response = await client.put(f"{SERVICES}/a", json=body)
    assert response.status_code == 422
    assert 'spec.clusterIP: Invalid value: "10.96.3.3": field is immutable' in response.json()["message"]
    assert await allocations(api).allocations.held() == held


async def test_type_changes_allocate_and_release(client: httpx.AsyncClient) -> None:
    created = (await create(client, service("a"))).json()
    to_node_port = {**created, "spec": {**created["spec"], "type": "NodePort"}}
    response = await client.put(f"{SERVICES}/a", json=to_node_port)
    assert response.status_code == 200, response.text
    port = response.json()["spec"]["ports"][0]["nodePort"]
    back = response.json()
    back["spec"]["type"] = "ClusterIP"
    del back["spec"]["externalTrafficPolicy"]
    response = await client.put(f"{SERVICES}/a", json=back)
    assert response.status_code == 200, response.text
    assert "nodePort" not in response.json()["spec"]["ports"][0]
    # The node port is free again.
    reuse = await create(client, service("b", type_="NodePort", ports=[{"port": 80, "nodePort": port}]))
    assert reuse.status_code == 201, reuse.text
    # Becoming ExternalName gives the address back.
    ip = response.json()["spec"]["clusterIP"]
    external = {**response.json(), "spec": {"type": "ExternalName", "externalName": "example.com"}}
    assert (await client.put(f"{SERVICES}/a", json=external)).status_code == 200
    assert (await create(client, service("c", clusterIP=ip))).status_code == 201


async def test_deleting_a_service_deletes_its_endpoints(client: httpx.AsyncClient) -> None:
    await create(client, service("a"))
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "a"},
        "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}],
    }
    assert (await client.post("/api/v1/namespaces/default/endpoints", json=endpoints)).status_code == 201
    await client.delete(f"{SERVICES}/a")
    assert (await client.get("/api/v1/namespaces/default/endpoints/a")).status_code == 404


async def test_a_full_range_is_refused_with_422(api: API) -> None:
    configure(
        api,
        ResourceOptions(
            service_cluster_ip_range=ipaddress.IPv4Network("10.0.0.0/29"),
            service_node_port_range=(30000, 30001),
        ),
    )
    services = store_of(api, "services")
    # 6 hosts: .1 is kept for the kubernetes Service, so 5 dynamic addresses.
    for i in range(5):
        await services.create(ctx_for(services), service(f"s{i}"))
    with pytest.raises(Invalid, match="failed to allocate a serviceIP: range is full"):
        await services.create(ctx_for(services), service("full"))
    await services.delete(ctx_for(services, name="s0"), options=DeleteOptions())
    await services.create(ctx_for(services), service("fits"))
    await services.delete(ctx_for(services, name="s1"), options=DeleteOptions())
    three = [{"name": "a", "port": 80}, {"name": "b", "port": 81}, {"name": "c", "port": 82}]
    with pytest.raises(Invalid, match="failed to allocate a nodePort: range is full"):
        await services.create(ctx_for(services), service("np", type_="NodePort", ports=three))
    # The address that refused create took was given back.
    await services.create(ctx_for(services), service("fits-too"))
