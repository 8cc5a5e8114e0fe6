"""Who holds which service ClusterIP and NodePort, so no two Services ever share one.

Kubernetes keeps each range as a bitmap in a ``RangeAllocation`` object in etcd, updated
with compare-and-swap on every allocation, plus a repair loop that reconciles the bitmap
with the Services. kubesim derives the state from the Services themselves instead: the
first allocation (or release) lists every stored Service and marks what they use, and
from then on the service strategy reserves before a write and releases after a delete.
There is nothing else to keep consistent — the Services are the only record, so a
restart simply rebuilds the same state, and a crash between reserve and write loses
nothing (the reservation lived only in memory).

The price is that the state lives in one process: two API servers sharing one etcd
could hand out the same address. kubesim runs one API server per store; running more
would need Kubernetes' RangeAllocation objects.

Within the process, allocation and release are plain synchronous set operations, so
under asyncio they are atomic: concurrent creates never receive the same value.
Dynamic allocation prefers the upper part of a range and leaves the lower band to
addresses clients ask for by value (Kubernetes' KEP-3070/KEP-3668 static sub-ranges).
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import random
from collections.abc import Iterable
from typing import Any

from apiserver.storage.interface import Storage

Obj = dict[str, Any]

DEFAULT_SERVICE_CLUSTER_IP_RANGE = ipaddress.IPv4Network("10.96.0.0/12")
DEFAULT_SERVICE_NODE_PORT_RANGE = (30000, 32767)


class Refusal(enum.Enum):
    """Why a specific value could not be reserved."""

    OUT_OF_RANGE = "out of range"
    ALLOCATED = "already allocated"
    FULL = "range is full"


class RangeAllocator:
    """Offsets ``0 .. size-1``: a set of the taken ones and a random scan for a free one."""

    def __init__(
        self, *, size: int, static_band: int, reserved: Iterable[int] = (), seed: int | None = None
    ) -> None:
        self.size = size
        self._static_band = min(static_band, size)
        self._reserved = frozenset(reserved)
        """Never handed out dynamically, but allowed when asked for by value."""
        self._taken: set[int] = set()
        self._random = random.Random(seed)

    def __contains__(self, offset: int) -> bool:
        return offset in self._taken

    def __len__(self) -> int:
        return len(self._taken)

    def take(self, offset: int) -> Refusal | None:
        if not 0 <= offset < self.size:
            return Refusal.OUT_OF_RANGE
        if offset in self._taken:
            return Refusal.ALLOCATED
        self._taken.add(offset)
        return None

    def take_next(self) -> int | None:
        """A free offset, from the dynamic band first; None when the range is full."""
        for low, high in ((self._static_band, self.size), (0, self._static_band)):
            found = self._scan(low, high)
            if found is not None:
                self._taken.add(found)
                return found
        return None

    def _scan(self, low: int, high: int) -> int | None:
        if high <= low:
            return None
        width = high - low
        start = self._random.randrange(width)
        for step in range(width):
            candidate = low + (start + step) % width
            if candidate not in self._taken and candidate not in self._reserved:
                return candidate
        return None

    def release(self, offset: int) -> None:
        self._taken.discard(offset)

    def clear(self) -> None:
        self._taken.clear()


class ClusterIPRange:
    """Host addresses of ``--service-cluster-ip-range`` as offsets; the first one is
    kept for the ``kubernetes`` Service, as in Kubernetes."""

    def __init__(self, network: ipaddress.IPv4Network) -> None:
        self.network = network
        self._base = int(network.network_address) + 1
        size = max(network.num_addresses - 2, 0)
        self.allocator = RangeAllocator(size=size, static_band=min(max(16, size // 16), 256), reserved=(0,))

    def offset(self, address: str) -> int | None:
        try:
            ip = ipaddress.IPv4Address(address)
        except ValueError:
            return None
        return int(ip) - self._base

    def address(self, offset: int) -> str:
        return str(ipaddress.IPv4Address(self._base + offset))

    def take(self, address: str) -> Refusal | None:
        offset = self.offset(address)
        return Refusal.OUT_OF_RANGE if offset is None else self.allocator.take(offset)

    def take_next(self) -> str | None:
        offset = self.allocator.take_next()
        return None if offset is None else self.address(offset)

    def release(self, address: str) -> None:
        offset = self.offset(address)
        if offset is not None:
            self.allocator.release(offset)

    def holds(self, address: str) -> bool:
        offset = self.offset(address)
        return offset is not None and offset in self.allocator


class NodePortRange:
    """``--service-node-port-range`` (30000-32767 by default)."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        size = high - low + 1
        self.allocator = RangeAllocator(size=size, static_band=min(max(16, size // 32), 128))

    def take(self, port: int) -> Refusal | None:
        return self.allocator.take(port - self.low)

    def take_next(self) -> int | None:
        offset = self.allocator.take_next()
        return None if offset is None else self.low + offset

    def release(self, port: int) -> None:
        self.allocator.release(port - self.low)

    def holds(self, port: int) -> bool:
        return (port - self.low) in self.allocator


def needs_cluster_ip(spec: Obj) -> bool:
    return spec.get("type", "ClusterIP") != "ExternalName"


def allocated_ip(spec: Obj) -> str | None:
    """The address a stored Service holds, if any ("None" is headless: no address)."""
    ip = spec.get("clusterIP")
    if not needs_cluster_ip(spec) or not isinstance(ip, str) or ip in ("", "None"):
        return None
    return ip


def needs_node_ports(spec: Obj) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def auto_node_ports(spec: Obj) -> bool:
    """Whether ports without a nodePort get one (a LoadBalancer may opt out)."""
    if spec.get("type") == "LoadBalancer":
        return spec.get("allocateLoadBalancerNodePorts") is not False
    return spec.get("type") == "NodePort"


def needs_health_check_port(spec: Obj) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def _port_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def node_ports(spec: Obj) -> set[int]:
    """Every node port a stored Service holds (its ports' and its health check's)."""
    held: set[int] = set()
    if needs_node_ports(spec):
        for port in spec.get("ports") or ():
            number = _port_number(port.get("nodePort")) if isinstance(port, dict) else None
            if number is not None:
                held.add(number)
    if needs_health_check_port(spec):
        number = _port_number(spec.get("healthCheckNodePort"))
        if number is not None:
            held.add(number)
    return held


class ServiceAllocations:
    """Both ranges of one API server, rebuilt from the stored Services on first use."""

    def __init__(
        self,
        *,
        storage: Storage | None = None,
        prefix: str = "/registry/services/",
        cluster_ip_range: ipaddress.IPv4Network = DEFAULT_SERVICE_CLUSTER_IP_RANGE,
        node_port_range: tuple[int, int] = DEFAULT_SERVICE_NODE_PORT_RANGE,
    ) -> None:
        self.storage = storage
        self.prefix = prefix
        self.ips = ClusterIPRange(cluster_ip_range)
        self.ports = NodePortRange(*node_port_range)
        self._loaded = False
        self._lock = asyncio.Lock()

    def configure(self, *, cluster_ip_range: ipaddress.IPv4Network, node_port_range: tuple[int, int]) -> None:
        """Set the ranges (the flags); what is held is read again from storage on next use."""
        self.ips = ClusterIPRange(cluster_ip_range)
        self.ports = NodePortRange(*node_port_range)
        self._loaded = False

    async def load(self) -> None:
        """Mark what the stored Services hold, once. Values outside the ranges (the
        flags changed since they were allocated) are left alone, as Kubernetes does."""
        if self._loaded:
            return
        async with self._lock:
            if self._loaded or self.storage is None:
                self._loaded = True
                return
            listed = await self.storage.list(self.prefix)
            self.ips.allocator.clear()
            self.ports.allocator.clear()
            for service in listed.items:
                spec = service.get("spec")
                if not isinstance(spec, dict):
                    continue
                ip = allocated_ip(spec)
                if ip is not None:
                    self.ips.take(ip)
                for port in node_ports(spec):
                    self.ports.take(port)
            self._loaded = True

    def release_service(self, spec: Obj) -> None:
        ip = allocated_ip(spec)
        if ip is not None:
            self.ips.release(ip)
        for port in node_ports(spec):
            self.ports.release(port)


class Reservation:
    """What one create or update reserved, to give back if its write does not happen."""

    def __init__(self, allocations: ServiceAllocations) -> None:
        self._allocations = allocations
        self.ips: list[str] = []
        self.ports: list[int] = []

    def ip(self, address: str) -> Refusal | None:
        refusal = self._allocations.ips.take(address)
        if refusal is None:
            self.ips.append(address)
        return refusal

    def next_ip(self) -> str | None:
        address = self._allocations.ips.take_next()
        if address is not None:
            self.ips.append(address)
        return address

    def port(self, number: int) -> Refusal | None:
        if number in self.ports:
            return None  # the same node port for TCP and UDP of one Service
        refusal = self._allocations.ports.take(number)
        if refusal is None:
            self.ports.append(number)
        return refusal

    def next_port(self) -> int | None:
        number = self._allocations.ports.take_next()
        if number is not None:
            self.ports.append(number)
        return number

    def revert(self) -> None:
        for address in self.ips:
            self._allocations.ips.release(address)
        for number in self.ports:
            self._allocations.ports.release(number)
        self.ips.clear()
        self.ports.clear()
