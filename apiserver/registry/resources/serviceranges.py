"""The two ranges Services draw from — ClusterIPs and NodePorts — kept in storage.

Both are ``StoredRange`` records (``/registry/ranges/serviceips`` and
``/registry/ranges/servicenodeports``, as in Kubernetes), so the API servers sharing a
store share the allocation. What the stored Services hold is read only to rebuild a
record that is missing or names another range, and by the repair loop (``repair.py``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from apiserver.storage.interface import Storage

from .allocators import (
    DEFAULT_SERVICE_CLUSTER_IP_RANGE,
    DEFAULT_SERVICE_NODE_PORT_RANGE,
    ClusterIPRange,
    NodePortRange,
    Obj,
    allocated_ip,
    node_ports,
)
from .rangestore import SERVICE_IPS_KEY, SERVICE_NODE_PORTS_KEY, StoredRange

SERVICES_PREFIX = "/registry/services/"


class ServiceAllocations:
    """Both ranges of the Services; ``bind`` gives them the store, ``configure`` the flags."""

    def __init__(
        self,
        *,
        storage: Storage | None = None,
        prefix: str = SERVICES_PREFIX,
        cluster_ip_range: ipaddress.IPv4Network = DEFAULT_SERVICE_CLUSTER_IP_RANGE,
        node_port_range: tuple[int, int] = DEFAULT_SERVICE_NODE_PORT_RANGE,
    ) -> None:
        self.storage = storage
        self.prefix = prefix
        self.ip_space = ClusterIPRange(cluster_ip_range)
        self.port_space = NodePortRange(*node_port_range)
        self.ips, self.ports = self._ranges()

    def bind(self, *, storage: Storage, prefix: str) -> None:
        """The store holding the Services (at ``prefix``) and the range records."""
        self.storage, self.prefix = storage, prefix
        self.ips, self.ports = self._ranges()  # nothing cached from another store

    def configure(self, *, cluster_ip_range: ipaddress.IPv4Network, node_port_range: tuple[int, int]) -> None:
        """Set the ranges (the flags). A stored record for another range is rebuilt on
        its next use."""
        self.ip_space = ClusterIPRange(cluster_ip_range)
        self.port_space = NodePortRange(*node_port_range)
        self.ips, self.ports = self._ranges()

    def _ranges(self) -> tuple[StoredRange[str], StoredRange[int]]:
        ips = StoredRange(
            storage=self.storage,
            key=SERVICE_IPS_KEY,
            space=self.ip_space,
            parse_space=ClusterIPRange.parse,
            held_by_services=self._held_ips,
        )
        ports = StoredRange(
            storage=self.storage,
            key=SERVICE_NODE_PORTS_KEY,
            space=self.port_space,
            parse_space=NodePortRange.parse,
            held_by_services=self._held_ports,
        )
        return ips, ports

    async def services(self) -> list[Obj]:
        """Every stored Service, read from storage (not a cache: the repair must see
        what other API servers wrote)."""
        if self.storage is None:
            return []
        listed = await self.storage.list(self.prefix)
        return listed.items

    async def held(self) -> tuple[int, int]:
        """How many addresses and node ports the records hold (for tests and metrics)."""
        ips, ports = await self.ips.read(), await self.ports.read()
        return len(ips.allocator), len(ports.allocator)

    async def _held_ips(self) -> Iterable[object]:
        return [ip for ip in (allocated_ip(s) for s in _specs(await self.services())) if ip is not None]

    async def _held_ports(self) -> Iterable[object]:
        return [port for spec in _specs(await self.services()) for port in node_ports(spec)]


def _specs(services: list[Obj]) -> list[Obj]:
    return [s["spec"] for s in services if isinstance(s.get("spec"), dict)]
