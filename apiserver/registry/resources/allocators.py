"""The value spaces Services draw from: ClusterIPs and NodePorts as bitmaps of offsets.

Kubernetes keeps each range as a bitmap (``pkg/registry/core/service/allocator``): bit
*i* set means offset *i* of the range is held. This module is that bitmap and the two
value spaces on top of it, all synchronous and in memory. Where the bitmap is *kept* —
a ``RangeAllocation`` record in storage, updated by compare-and-swap so that any number
of API servers agree — is ``rangestore.py``; reconciling it with the stored Services is
``repair.py``.

Dynamic allocation prefers the upper part of a range and leaves the lower band to
values clients ask for by number (Kubernetes' KEP-3070/KEP-3668 static sub-ranges).
Within a band it probes random offsets (cheap while the range is sparse) and then scans
from a random start, so a freed value is not handed straight back out.
"""

from __future__ import annotations

import enum
import ipaddress
import random
import re
from collections.abc import Iterable, Iterator
from typing import Any

Obj = dict[str, Any]

DEFAULT_SERVICE_CLUSTER_IP_RANGE = ipaddress.IPv4Network("10.96.0.0/12")
DEFAULT_SERVICE_NODE_PORT_RANGE = (30000, 32767)

_RANDOM_PROBES = 8
_NOT_FULL = re.compile(rb"[^\xff]")
_NOT_EMPTY = re.compile(rb"[^\x00]")


class Refusal(enum.Enum):
    """Why a specific value could not be taken (Kubernetes' allocator errors)."""

    OUT_OF_RANGE = "out of range"
    ALLOCATED = "already allocated"
    FULL = "range is full"


class RangeAllocator:
    """Offsets ``0 .. size-1`` as a bitmap: bit ``i % 8`` of byte ``i // 8`` is offset ``i``."""

    def __init__(
        self, *, size: int, static_band: int, reserved: Iterable[int] = (), seed: int | None = None
    ) -> None:
        self.size = size
        self._static_band = min(static_band, size)
        self._reserved = frozenset(reserved)
        """Never handed out dynamically, but allowed when asked for by value."""
        self._bits = bytearray((size + 7) // 8)
        self._random = random.Random(seed)

    def __contains__(self, offset: int) -> bool:
        return 0 <= offset < self.size and bool(self._bits[offset >> 3] >> (offset & 7) & 1)

    def __len__(self) -> int:
        return int.from_bytes(self._bits, "little").bit_count()

    def take(self, offset: int) -> Refusal | None:
        if not 0 <= offset < self.size:
            return Refusal.OUT_OF_RANGE
        if offset in self:
            return Refusal.ALLOCATED
        self._bits[offset >> 3] |= 1 << (offset & 7)
        return None

    def take_next(self) -> int | None:
        """A free offset, from the dynamic band first; None when the range is full."""
        for low, high in ((self._static_band, self.size), (0, self._static_band)):
            found = self._scan(low, high)
            if found is not None:
                self._bits[found >> 3] |= 1 << (found & 7)
                return found
        return None

    def release(self, offset: int) -> None:
        if 0 <= offset < self.size:
            self._bits[offset >> 3] &= ~(1 << (offset & 7)) & 0xFF

    def clear(self) -> None:
        self._bits = bytearray(len(self._bits))

    def offsets(self) -> Iterator[int]:
        """Every held offset, ascending."""
        for match in _NOT_EMPTY.finditer(self._bits):
            index = match.start()
            value = self._bits[index]
            for bit in range(8):
                if value >> bit & 1:
                    yield index * 8 + bit

    def snapshot(self) -> bytes:
        return bytes(self._bits)

    def restore(self, data: bytes) -> None:
        """Load a snapshot of the same size (shorter data is zero-filled, bits past the
        end are dropped): what a stored record holds."""
        bits = bytearray(data[: len(self._bits)])
        bits.extend(bytes(len(self._bits) - len(bits)))
        if self.size % 8 and bits:
            bits[-1] &= (1 << (self.size % 8)) - 1
        self._bits = bits

    def _scan(self, low: int, high: int) -> int | None:
        if high <= low:
            return None
        width = high - low
        for _ in range(_RANDOM_PROBES):
            candidate = low + self._random.randrange(width)
            if candidate not in self and candidate not in self._reserved:
                return candidate
        start = low + self._random.randrange(width)
        found = self._first_free(start, high)
        return found if found is not None else self._first_free(low, start)

    def _first_free(self, low: int, high: int) -> int | None:
        # The regex finds the next byte with a free bit at C speed; a near-full range of
        # a million addresses is then scanned in microseconds, not a Python loop per bit.
        pos, end = low >> 3, (high + 7) >> 3
        while pos < end:
            match = _NOT_FULL.search(self._bits, pos, end)
            if match is None:
                return None
            index = match.start()
            value = self._bits[index]
            for bit in range(8):
                offset = index * 8 + bit
                if low <= offset < high and not value >> bit & 1 and offset not in self._reserved:
                    return offset
            pos = index + 1
        return None


class ClusterIPRange:
    """Host addresses of ``--service-cluster-ip-range`` as offsets; the first one is
    kept for the ``kubernetes`` Service, as in Kubernetes."""

    def __init__(self, network: ipaddress.IPv4Network) -> None:
        self.network = network
        self.spec = str(network)
        """How the stored record names the range (Kubernetes' ``RangeAllocation.range``)."""
        self._base = int(network.network_address) + 1
        self.allocator = self.new_allocator()

    @classmethod
    def parse(cls, spec: str) -> ClusterIPRange | None:
        """The range a stored record names, or None if it names none we can read."""
        try:
            return cls(ipaddress.IPv4Network(spec))
        except ValueError:
            return None

    def new_allocator(self) -> RangeAllocator:
        size = max(self.network.num_addresses - 2, 0)
        return RangeAllocator(size=size, static_band=min(max(16, size // 16), 256), reserved=(0,))

    def offset(self, address: object) -> int | None:
        """None when ``address`` is not an IPv4 address at all."""
        if not isinstance(address, str):
            return None
        try:
            ip = ipaddress.IPv4Address(address)
        except ValueError:
            return None
        return int(ip) - self._base

    def value(self, offset: int) -> str:
        return str(ipaddress.IPv4Address(self._base + offset))

    def take(self, address: str) -> Refusal | None:
        offset = self.offset(address)
        return Refusal.OUT_OF_RANGE if offset is None else self.allocator.take(offset)

    def take_next(self) -> str | None:
        offset = self.allocator.take_next()
        return None if offset is None else self.value(offset)

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
        self.spec = f"{low}-{high}"
        self.allocator = self.new_allocator()

    @classmethod
    def parse(cls, spec: str) -> NodePortRange | None:
        low, sep, high = spec.partition("-")
        if not (sep and low.isdigit() and high.isdigit() and int(low) <= int(high)):
            return None
        return cls(int(low), int(high))

    def new_allocator(self) -> RangeAllocator:
        size = self.high - self.low + 1
        return RangeAllocator(size=size, static_band=min(max(16, size // 32), 128))

    def offset(self, port: object) -> int | None:
        if not isinstance(port, int) or isinstance(port, bool):
            return None
        return port - self.low

    def value(self, offset: int) -> int:
        return self.low + offset

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


def port_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def node_ports(spec: Obj) -> set[int]:
    """Every node port a stored Service holds (its ports' and its health check's)."""
    held: set[int] = set()
    if needs_node_ports(spec):
        for port in spec.get("ports") or ():
            number = port_number(port.get("nodePort")) if isinstance(port, dict) else None
            if number is not None:
                held.add(number)
    if needs_health_check_port(spec):
        number = port_number(spec.get("healthCheckNodePort"))
        if number is not None:
            held.add(number)
    return held
