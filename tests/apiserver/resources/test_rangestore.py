"""Service ranges kept in storage: shared by every API server on the store, on both backends.

Two ``ServiceAllocations`` bound to one store stand for two API servers; they must never
hand out one value twice, and what one frees the other can take.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apiserver.bootstrap import bootstrap
from apiserver.registry import API, DeleteOptions
from apiserver.registry.resources.allocators import RangeAllocator, Refusal
from apiserver.registry.resources.rangestore import (
    SERVICE_IPS_KEY,
    SERVICE_NODE_PORTS_KEY,
    decode_data,
    encode_data,
)
from apiserver.registry.resources.serviceranges import ServiceAllocations
from apiserver.registry.resources.services import ServiceStrategy
from apiserver.storage import Storage, open_storage
from kube.errors import Invalid
from kube.resources import default_registry

from .helpers import ctx_for, service, store_of

SMALL_IPS = ipaddress.IPv4Network("10.0.0.0/26")  # 62 hosts, the first kept: 61 dynamic
SMALL_PORTS = (30000, 30059)


@pytest.fixture(params=["sqlite", pytest.param("etcd", marks=pytest.mark.etcd)])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "sqlite":
        store = await open_storage(data_dir=tmp_path)
    else:
        endpoint = request.getfixturevalue("etcd_endpoint")
        store = await open_storage(etcd_servers=[endpoint], key_namespace=f"/kubesim-test/{uuid.uuid4().hex}")
    try:
        yield store
    finally:
        await store.close()


def server(storage: Storage) -> ServiceAllocations:
    """One API server's view of the ranges."""
    allocations = ServiceAllocations(cluster_ip_range=SMALL_IPS, node_port_range=SMALL_PORTS)
    allocations.bind(storage=storage, prefix="/registry/services/")
    return allocations


async def test_two_servers_never_hand_out_one_value(storage: Storage) -> None:
    first, second = server(storage), server(storage)

    async def take(allocations: ServiceAllocations) -> tuple[str, int]:
        ip, port = await asyncio.gather(allocations.ips.allocate([None]), allocations.ports.allocate([None]))
        assert ip.refused is None and port.refused is None
        return ip.values[0], port.values[0]

    taken = await asyncio.gather(*(take(s) for _ in range(30) for s in (first, second)))
    ips, ports = [t[0] for t in taken], [t[1] for t in taken]
    assert len(set(ips)) == 60 and len(set(ports)) == 60
    assert "10.0.0.1" not in ips  # kept for the kubernetes Service
    # One address left; the port range is full — for both servers.
    last = await second.ips.allocate([None])
    assert last.values and last.values[0] not in ips
    assert (await first.ips.allocate([None])).refused is Refusal.FULL
    assert (await second.ports.allocate([None])).refused is Refusal.FULL
    # What one frees, the other can take, by value or dynamically.
    await first.ports.release([ports[0], ports[1]])
    assert (await second.ports.allocate([ports[0]])).values == [ports[0]]
    assert (await second.ports.allocate([ports[0]])).refused is Refusal.ALLOCATED
    assert (await first.ports.allocate([None])).values == [ports[1]]
    assert await first.held() == await second.held() == (61, 60)


async def test_a_request_is_all_or_nothing(storage: Storage) -> None:
    allocations = server(storage)
    assert (await allocations.ports.allocate([30005])).values == [30005]
    refused = await allocations.ports.allocate([None, 30006, 30005])
    assert (refused.refused, refused.index, refused.values) == (Refusal.ALLOCATED, 2, [])
    assert await allocations.held() == (0, 1)  # the dynamic one and 30006 were given back
    outside = await allocations.ports.allocate([80])
    assert (outside.refused, outside.index) == (Refusal.OUT_OF_RANGE, 0)


async def test_dry_run_and_no_op_releases_write_nothing(storage: Storage) -> None:
    allocations = server(storage)
    await allocations.ips.allocate(["10.0.0.9"])
    before = await storage.get(SERVICE_IPS_KEY)
    preview = await allocations.ips.allocate([None, "10.0.0.10"], dry_run=True)
    assert preview.refused is None and len(preview.values) == 2
    assert (await allocations.ips.allocate(["10.0.0.9"], dry_run=True)).refused is Refusal.ALLOCATED
    await allocations.ips.release(["10.0.0.20"])  # not held: nothing to write
    assert await storage.get(SERVICE_IPS_KEY) == before
    assert (await allocations.ips.allocate(["10.0.0.10"])).refused is None


async def test_the_record_is_a_range_allocation(storage: Storage) -> None:
    allocations = server(storage)
    await allocations.ports.allocate([30001, 30059])
    record = await storage.get(SERVICE_NODE_PORTS_KEY)
    assert record["kind"] == "RangeAllocation" and record["apiVersion"] == "v1"
    assert record["range"] == "30000-30059" and record["metadata"]["name"] == "servicenodeports"
    bits = decode_data(record["data"])
    assert bits is not None and bits[0] == 0b10 and bits[59 // 8] == 1 << (59 % 8)


async def test_a_cancelled_request_gives_its_values_back(storage: Storage) -> None:
    allocations = server(storage)
    waiting = [asyncio.create_task(allocations.ports.allocate([None])) for _ in range(5)]
    await asyncio.sleep(0)
    waiting[2].cancel()
    done = await asyncio.gather(*waiting, return_exceptions=True)
    assert isinstance(done[2], asyncio.CancelledError)
    for _ in range(20):  # the give-back is one more swap, queued behind the batch
        if await allocations.held() == (0, 4):
            break
        await asyncio.sleep(0.05)
    assert await allocations.held() == (0, 4)


def test_the_bitmap_round_trips_and_finds_the_last_free_offset() -> None:
    allocator = RangeAllocator(size=(1 << 20) - 2, static_band=256, reserved=(0,), seed=3)
    # Full but for one offset (and the reserved first one).
    full = bytearray(b"\xff" * len(allocator.snapshot()))
    full[777_777 // 8] &= ~(1 << (777_777 % 8)) & 0xFF
    full[0] &= 0xFE
    allocator.restore(bytes(full))
    assert allocator.take_next() == 777_777
    assert allocator.take_next() is None  # offset 0 is never handed out dynamically
    assert allocator.take(0) is None
    copy = RangeAllocator(size=allocator.size, static_band=256)
    restored = decode_data(encode_data(allocator.snapshot()))
    assert restored is not None
    copy.restore(restored)
    assert len(copy) == allocator.size and list(RangeAllocator(size=20, static_band=0).offsets()) == []
    small = RangeAllocator(size=20, static_band=0)
    for offset in (0, 9, 19):
        small.take(offset)
    assert list(small.offsets()) == [0, 9, 19]
    assert decode_data("not base64!") is None and decode_data(None) is None


# -- through the registry -------------------------------------------------------------


@pytest.fixture
async def two_apis(storage: Storage) -> AsyncIterator[tuple[API, API]]:
    apis = (
        API(storage=storage, resources=default_registry()),
        API(storage=storage, resources=default_registry()),
    )
    for api in apis:
        await api.start()
    await bootstrap(apis[0])
    try:
        yield apis
    finally:
        for api in apis:
            await api.stop()


async def test_a_missing_record_is_rebuilt_from_the_services(two_apis: tuple[API, API]) -> None:
    first, second = two_apis
    services = store_of(first, "services")
    held = await services.create(ctx_for(services), service("kept", type_="NodePort"))
    ip, port = held["spec"]["clusterIP"], held["spec"]["ports"][0]["nodePort"]
    # As after an upgrade from a store without records: only the Services say what is held.
    await first.storage.delete(SERVICE_IPS_KEY)
    await first.storage.delete(SERVICE_NODE_PORTS_KEY)
    other = store_of(second, "services")
    with pytest.raises(Invalid, match="provided IP is already allocated"):
        await other.create(ctx_for(other), service("ip", clusterIP=ip))
    with pytest.raises(Invalid, match="provided port is already allocated"):
        await other.create(
            ctx_for(other), service("port", type_="NodePort", ports=[{"port": 80, "nodePort": port}])
        )


async def test_a_changed_range_keeps_what_is_held(two_apis: tuple[API, API]) -> None:
    api = two_apis[0]
    services = store_of(api, "services")
    await services.create(ctx_for(services), service("a", clusterIP="10.96.0.10"))
    strategy = services.strategy
    assert isinstance(strategy, ServiceStrategy)
    strategy.allocations.configure(
        cluster_ip_range=ipaddress.IPv4Network("10.96.0.0/24"), node_port_range=(30000, 30100)
    )
    with pytest.raises(Invalid, match="provided IP is already allocated"):
        await services.create(ctx_for(services), service("b", clusterIP="10.96.0.10"))
    record = await api.storage.get(SERVICE_IPS_KEY)
    assert record["range"] == "10.96.0.0/24"
    await services.delete(ctx_for(services, name="a"), options=DeleteOptions())
    await services.create(ctx_for(services), service("b", clusterIP="10.96.0.10"))
