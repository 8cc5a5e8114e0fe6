"""Services: a ClusterIP and NodePorts reserved around every write, released after delete.

Kubernetes' service registry (``pkg/registry/core/service/storage``) allocates in
``beginCreate``/``beginUpdate`` and hands the store a finish function that commits the
allocation when the write landed and reverts it when validation, admission, a lost race
or dry-run stopped it. We do the same through the strategy's ``begin_*`` hooks, so a
failed create never leaks an address and a dry-run shows the address it would get.

On update, values a client left out are carried over first (Kubernetes'
``patchAllocatedValues``: a PUT without ``clusterIP`` or without a port's ``nodePort``
keeps them), and values that no longer apply after a type change are dropped
(``dropTypeDependentFields``); what the old object held and the new one does not is
released only once the update is stored. A changed ``clusterIP`` is refused by the
object model's update validation ("field is immutable"), so it is never reserved here.

Deleting a Service also deletes its Endpoints, as Kubernetes' ``afterDelete`` does, so a
new Service of the same name never inherits stale endpoints.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kube.errors import FieldError, Invalid, NotFound, invalid
from kube.model import defaults as model_defaults
from kube.resources import ResourceInfo

from .. import strategies
from ..context import Context
from ..options import DeleteOptions
from ..strategy import FinishFunc, Obj
from .allocators import (
    Refusal,
    Reservation,
    ServiceAllocations,
    allocated_ip,
    auto_node_ports,
    needs_cluster_ip,
    needs_health_check_port,
    needs_node_ports,
    node_ports,
)

if TYPE_CHECKING:
    from ..store import ResourceStore

logger = logging.getLogger(__name__)


class ServiceStrategy(strategies.ServiceStrategy):
    def __init__(self, info: ResourceInfo) -> None:
        super().__init__(info)
        self.allocations = ServiceAllocations()
        self.endpoints: ResourceStore | None = None
        """Set by ``resources.install``: deleting a Service deletes its Endpoints."""

    # -- create ---------------------------------------------------------------------

    async def begin_create(self, *, ctx: Context, obj: Obj) -> FinishFunc | None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return None  # validation refuses it
        await self.allocations.load()
        reservation = Reservation(self.allocations)
        try:
            if needs_cluster_ip(spec):
                self._reserve_ip(obj, spec, reservation)
            self._reserve_node_ports(obj, spec, reservation, held=set())
        except BaseException:
            reservation.revert()
            raise

        async def finish(stored: bool) -> None:
            if not stored:
                reservation.revert()

        return finish

    # -- update ---------------------------------------------------------------------

    async def begin_update(self, *, ctx: Context, obj: Obj, old: Obj) -> FinishFunc | None:
        spec, old_spec = obj.get("spec"), old.get("spec")
        if not isinstance(spec, dict) or not isinstance(old_spec, dict):
            return None
        # patchAllocatedValues: what the client omitted keeps its allocated value.
        model_defaults.apply_update_defaults(obj, old=old)
        _drop_type_dependent_fields(spec, old_spec)
        await self.allocations.load()
        reservation = Reservation(self.allocations)
        held_ports = node_ports(old_spec)
        try:
            if needs_cluster_ip(spec) and not needs_cluster_ip(old_spec):
                self._reserve_ip(obj, spec, reservation)
            self._reserve_node_ports(obj, spec, reservation, held=held_ports)
        except BaseException:
            reservation.revert()
            raise
        old_ip = allocated_ip(old_spec)

        async def finish(stored: bool) -> None:
            if not stored:
                reservation.revert()
                return
            if old_ip is not None and allocated_ip(spec) != old_ip:
                self.allocations.ips.release(old_ip)
            for port in held_ports - node_ports(spec):
                self.allocations.ports.release(port)

        return finish

    # -- delete ---------------------------------------------------------------------

    async def after_delete(self, *, ctx: Context, obj: Obj) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            # Loading first: a load that listed storage just before this delete would
            # otherwise mark the Service's values after we released them.
            await self.allocations.load()
            self.allocations.release_service(spec)
        await self._delete_endpoints(ctx, obj)

    async def _delete_endpoints(self, ctx: Context, obj: Obj) -> None:
        endpoints = self.endpoints
        meta = obj.get("metadata") or {}
        if endpoints is None or not meta.get("name"):
            return
        child = ctx.child(info=endpoints.info, namespace=meta.get("namespace") or "", name=meta["name"])
        try:
            await endpoints.delete(child, options=DeleteOptions())
        except NotFound:
            pass
        except Exception:
            # The Service is gone either way; stale Endpoints are the lesser harm.
            logger.exception("deleting the endpoints of service %s/%s", meta.get("namespace"), meta["name"])

    # -- reserving ------------------------------------------------------------------

    def _reserve_ip(self, obj: Obj, spec: Obj, reservation: Reservation) -> None:
        requested = spec.get("clusterIP")
        if requested in (None, ""):
            listed = spec.get("clusterIPs")
            if isinstance(listed, list) and listed and isinstance(listed[0], str):
                requested = listed[0]
        if requested == "None":
            return  # headless
        if requested in (None, ""):
            address = reservation.next_ip()
            if address is None:
                network = self.allocations.ips.network
                raise self._invalid(
                    obj,
                    invalid(
                        "spec.clusterIP", "", f"failed to allocate a serviceIP: range is full ({network})"
                    ),
                )
            spec["clusterIP"] = address
            if not spec.get("clusterIPs"):
                spec["clusterIPs"] = [address]
            return
        if not isinstance(requested, str):
            return  # validation refuses it
        refusal = reservation.ip(requested)
        if refusal is Refusal.OUT_OF_RANGE:
            if self.allocations.ips.offset(requested) is None:
                return  # not an IP at all: validation says so in its own words
            network = self.allocations.ips.network
            raise self._invalid(
                obj,
                invalid(
                    "spec.clusterIP",
                    requested,
                    f"provided IP is not in the valid range. The range of valid IPs is {network}",
                ),
            )
        if refusal is Refusal.ALLOCATED:
            raise self._invalid(obj, invalid("spec.clusterIP", requested, "provided IP is already allocated"))
        spec["clusterIP"] = requested

    def _reserve_node_ports(self, obj: Obj, spec: Obj, reservation: Reservation, *, held: set[int]) -> None:
        if needs_node_ports(spec):
            auto = auto_node_ports(spec)
            ports = spec.get("ports")
            for index, port in enumerate(ports if isinstance(ports, list) else ()):
                if not isinstance(port, dict):
                    continue
                path = f"spec.ports[{index}].nodePort"
                number = port.get("nodePort")
                if number in (None, 0) and auto:
                    port["nodePort"] = self._next_port(obj, reservation, path)
                elif (
                    isinstance(number, int)
                    and not isinstance(number, bool)
                    and number > 0
                    and number not in held
                ):
                    self._take_port(obj, reservation, path, number)
        if needs_health_check_port(spec):
            path = "spec.healthCheckNodePort"
            number = spec.get("healthCheckNodePort")
            if number in (None, 0):
                spec["healthCheckNodePort"] = self._next_port(obj, reservation, path)
            elif (
                isinstance(number, int) and not isinstance(number, bool) and number > 0 and number not in held
            ):
                self._take_port(obj, reservation, path, number)

    def _next_port(self, obj: Obj, reservation: Reservation, path: str) -> int:
        number = reservation.next_port()
        if number is None:
            ports = self.allocations.ports
            raise self._invalid(
                obj,
                invalid(path, 0, f"failed to allocate a nodePort: range is full ({ports.low}-{ports.high})"),
            )
        return number

    def _take_port(self, obj: Obj, reservation: Reservation, path: str, number: int) -> None:
        refusal = reservation.port(number)
        if refusal is Refusal.OUT_OF_RANGE:
            ports = self.allocations.ports
            detail = f"provided port is not in the valid range. The range of valid ports is {ports.low}-{ports.high}"
            raise self._invalid(obj, invalid(path, number, detail))
        if refusal is Refusal.ALLOCATED:
            raise self._invalid(obj, invalid(path, number, "provided port is already allocated"))

    def _invalid(self, obj: Obj, error: FieldError) -> Invalid:
        name = str((obj.get("metadata") or {}).get("name") or "")
        return Invalid.of(kind=self.info.kind, name=name, errors=[error])


def _drop_type_dependent_fields(spec: Obj, old_spec: Obj) -> None:
    """Values the old type needed and the new one does not, when the client left them
    as they were: they are released once the update is stored."""
    if needs_cluster_ip(old_spec) and not needs_cluster_ip(spec):
        if spec.get("clusterIP") == old_spec.get("clusterIP"):
            spec.pop("clusterIP", None)
        if spec.get("clusterIPs") == old_spec.get("clusterIPs"):
            spec.pop("clusterIPs", None)
        if spec.get("ipFamilies") == old_spec.get("ipFamilies"):
            spec.pop("ipFamilies", None)
        if spec.get("ipFamilyPolicy") == old_spec.get("ipFamilyPolicy"):
            spec.pop("ipFamilyPolicy", None)
    if needs_node_ports(old_spec) and not needs_node_ports(spec):
        old_numbers = [p.get("nodePort") for p in old_spec.get("ports") or () if isinstance(p, dict)]
        new_ports = [p for p in spec.get("ports") or () if isinstance(p, dict)]
        if [p.get("nodePort") for p in new_ports] == old_numbers:
            for port in new_ports:
                port.pop("nodePort", None)
    if needs_health_check_port(old_spec) and not needs_health_check_port(spec):
        if spec.get("healthCheckNodePort") == old_spec.get("healthCheckNodePort"):
            spec.pop("healthCheckNodePort", None)
