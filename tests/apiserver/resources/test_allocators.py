"""The range allocators alone: dynamic values prefer the upper band, nothing is handed out twice."""

from __future__ import annotations

import ipaddress

from apiserver.registry.resources.allocators import ClusterIPRange, NodePortRange, RangeAllocator, Refusal


def test_dynamic_values_fill_the_upper_band_first_and_skip_reserved() -> None:
    allocator = RangeAllocator(size=32, static_band=16, reserved=(20,), seed=1)
    taken = [allocator.take_next() for _ in range(15)]
    assert sorted(t for t in taken if t is not None) == [o for o in range(16, 32) if o != 20]
    # Then the lower band, and then nothing — but a reserved value may still be asked for.
    rest = [allocator.take_next() for _ in range(16)]
    assert sorted(r for r in rest if r is not None) == list(range(16))
    assert allocator.take_next() is None
    assert allocator.take(20) is None and allocator.take(20) is Refusal.ALLOCATED
    assert allocator.take(32) is Refusal.OUT_OF_RANGE and allocator.take(-1) is Refusal.OUT_OF_RANGE
    allocator.release(5)
    assert allocator.take_next() == 5


def test_cluster_ip_range_maps_host_addresses() -> None:
    ips = ClusterIPRange(ipaddress.IPv4Network("10.0.0.0/29"))
    assert ips.allocator.size == 6  # .1 to .6: no network or broadcast address
    assert ips.take("10.0.0.0") is Refusal.OUT_OF_RANGE and ips.take("10.0.0.7") is Refusal.OUT_OF_RANGE
    assert ips.take("192.0.2.1") is Refusal.OUT_OF_RANGE and ips.take("nonsense") is Refusal.OUT_OF_RANGE
    dynamic = {ips.take_next() for _ in range(5)}
    assert dynamic == {f"10.0.0.{i}" for i in range(2, 7)}  # never .1: the kubernetes Service's
    assert ips.take_next() is None and ips.take("10.0.0.1") is None and ips.holds("10.0.0.1")


def test_node_port_range() -> None:
    ports = NodePortRange(30000, 30002)
    assert ports.take(29999) is Refusal.OUT_OF_RANGE and ports.take(30003) is Refusal.OUT_OF_RANGE
    assert {ports.take_next() for _ in range(3)} == {30000, 30001, 30002}
    assert ports.take_next() is None
    ports.release(30001)
    assert not ports.holds(30001) and ports.take(30001) is None
