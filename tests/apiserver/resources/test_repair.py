"""The repair pass: leaks are freed on the third pass, duplicates and strays reported."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.registry import API
from apiserver.registry.resources import service_repair
from apiserver.registry.resources.repair import LEAK_PASSES, ServiceAllocationRepair
from apiserver.registry.resources.services import ServiceStrategy
from kube.errors import Invalid

from .helpers import ctx_for, service, store_of


def repair_of(api: API) -> ServiceAllocationRepair:
    loop = service_repair(api)
    assert loop is not None
    return loop.repair


def strategy_of(api: API) -> ServiceStrategy:
    strategy = store_of(api, "services").strategy
    assert isinstance(strategy, ServiceStrategy)
    return strategy


async def store_behind_the_allocator(api: API, name: str, **spec: Any) -> None:
    """A Service written straight to storage, as a restore from backup or an operator would."""
    services = store_of(api, "services")
    body = service(name, **spec)
    body["metadata"].update(namespace="default", uid=f"uid-{name}", creationTimestamp="2026-01-01T00:00:00Z")
    await api.storage.create(services.key(namespace="default", name=name), body)


async def test_a_leak_is_freed_on_the_third_pass(api: API) -> None:
    allocations = strategy_of(api).allocations
    # As if an API server crashed between allocating and storing the Service.
    leaked_ip = (await allocations.ips.allocate(["10.96.44.44"])).values[0]
    leaked_port = (await allocations.ports.allocate([31234])).values[0]
    repair = repair_of(api)
    services = store_of(api, "services")
    for _ in range(LEAK_PASSES - 1):
        assert await repair.run_once() == []
        assert await allocations.held() == (1, 1)  # flagged, kept: a create may be in flight
    await repair.run_once()
    assert await allocations.held() == (0, 0)
    await services.create(ctx_for(services), service("ip", clusterIP=leaked_ip))
    await services.create(
        ctx_for(services), service("port", type_="NodePort", ports=[{"port": 80, "nodePort": leaked_port}])
    )


async def test_a_held_value_is_never_freed_and_a_missing_one_is_marked(api: API) -> None:
    services = store_of(api, "services")
    kept = await services.create(ctx_for(services), service("kept", type_="NodePort"))
    await store_behind_the_allocator(
        api, "stray", type_="NodePort", clusterIP="10.96.50.50", ports=[{"port": 80, "nodePort": 31500}]
    )
    repair = repair_of(api)
    findings = await repair.run_once()
    assert [(f.reason, f.message) for f in findings] == [
        ("ClusterIPNotAllocated", "Cluster IP [IPv4]:10.96.50.50 is not allocated; repairing"),
        ("PortNotAllocated", "Port 31500 is not allocated; repairing"),
    ]
    for _ in range(LEAK_PASSES):
        await repair.run_once()
    # The repaired address stays marked, and so does the one a Service always held.
    for ip in ("10.96.50.50", kept["spec"]["clusterIP"]):
        with pytest.raises(Invalid, match="provided IP is already allocated"):
            await services.create(ctx_for(services), service("thief", clusterIP=ip))


async def test_duplicates_are_reported_once_as_events(api: API) -> None:
    services = store_of(api, "services")
    first = await services.create(ctx_for(services), service("first", type_="NodePort"))
    ip, port = first["spec"]["clusterIP"], first["spec"]["ports"][0]["nodePort"]
    await store_behind_the_allocator(
        api, "second", type_="NodePort", clusterIP=ip, ports=[{"port": 80, "nodePort": port}]
    )
    await store_behind_the_allocator(api, "outside", clusterIP="192.0.2.7")
    repair = repair_of(api)
    findings = await repair.run_once()
    assert {(f.reason, f.service["metadata"]["name"], f.message) for f in findings} == {
        (
            "ClusterIPAlreadyAllocated",
            "second",
            f"Cluster IP [IPv4]:{ip} was assigned to multiple services; please recreate service",
        ),
        (
            "PortAlreadyAllocated",
            "second",
            f"Port {port} was assigned to multiple services; please recreate service",
        ),
        (
            "ClusterIPOutOfRange",
            "outside",
            "Cluster IP [IPv4]:192.0.2.7 is not within the configured Service CIDR 10.96.0.0/12; "
            "please recreate service",
        ),
    }
    await repair.run_once()  # the same findings again: no second event
    events = store_of(api, "events")
    listed = await api.storage.list(events.prefix())
    recorded = sorted(
        (e["reason"], e["involvedObject"]["name"], e["source"]["component"]) for e in listed.items
    )
    assert recorded == [
        ("ClusterIPAlreadyAllocated", "second", "ipallocator-repair-controller"),
        ("ClusterIPOutOfRange", "outside", "ipallocator-repair-controller"),
        ("PortAlreadyAllocated", "second", "portallocator-repair-controller"),
    ]
    assert all(e["type"] == "Warning" and e["involvedObject"]["kind"] == "Service" for e in listed.items)
