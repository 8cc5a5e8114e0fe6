"""Services: a ClusterIP and NodePorts allocated around every write, released after delete.

Kubernetes' service registry (``pkg/registry/core/service/storage``) allocates in
``beginCreate``/``beginUpdate`` and hands the store a finish function that commits the
allocation when the write landed and reverts it when validation, admission, a lost race
or dry-run stopped it. We do the same through the strategy's ``begin_*`` hooks, so a
failed create never leaks an address and a dry-run shows the address it would get
(read from the stored range, nothing written).

The ranges live in storage (``serviceranges.py``, ``rangestore.py``): an allocation is
a compare-and-swap on the range's record, so API servers sharing a store never hand
out one value twice. The address and the node ports of one write are allocated
concurrently (two records, two swaps). Giving values back is best effort: if storage
fails then, the value stays marked until the repair loop (``repair.py``) reclaims it.

On update, values a client left out are carried over first (Kubernetes'
``patchAllocatedValues``: a PUT without ``clusterIP`` or without a port's ``nodePort``
keeps them), and values that no longer apply after a type change are dropped
(``dropTypeDependentFields``); what the old object held and the new one does not is
released only once the update is stored. A changed ``clusterIP`` is refused by the
object model's update validation ("field is immutable"), so it is never allocated here.

Deleting a Service also deletes its Endpoints, as Kubernetes' ``afterDelete`` does, so a
new Service of the same name never inherits stale endpoints.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from kube.errors import FieldError, Invalid, NotFound, invalid
from kube.model import defaults as model_defaults
from kube.resources import ResourceInfo

from .. import strategies
from ..context import Context
from ..options import DeleteOptions
from ..store import copy_obj
from ..strategy import FinishFunc, Obj
from .allocators import (
    Refusal,
    allocated_ip,
    auto_node_ports,
    needs_cluster_ip,
    needs_health_check_port,
    needs_node_ports,
    node_ports,
    port_number,
)
from .rangestore import Allocation
from .serviceranges import ServiceAllocations

if TYPE_CHECKING:
    from ..store import ResourceStore

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class _IPPlan:
    want: str | None
    """The address asked for, or None for any free one."""


@dataclass(slots=True)
class _PortPlan:
    wants: list[int | None] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    targets: list[tuple[Obj, str]] = field(default_factory=list)
    """Where each dynamically allocated port is written (the port dict or the spec, and its key)."""


@dataclass(slots=True)
class _Held:
    """What one write allocated, to give back if the write does not happen."""

    ips: list[str] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)


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
        dry_run = ctx.dry_run
        wants_ip = needs_cluster_ip(spec)
        if not dry_run and _allocates(spec, ip=wants_ip, held_ports=set()):
            self._prevalidate_create(ctx, obj)
        held = await self._allocate(obj, spec, ip=wants_ip, held_ports=set(), dry_run=dry_run)

        async def finish(stored: bool) -> None:
            if not stored and not dry_run:
                await self._give_back(held.ips, held.ports)

        return finish

    # -- update ---------------------------------------------------------------------

    async def begin_update(self, *, ctx: Context, obj: Obj, old: Obj) -> FinishFunc | None:
        spec, old_spec = obj.get("spec"), old.get("spec")
        if not isinstance(spec, dict) or not isinstance(old_spec, dict):
            return None
        # patchAllocatedValues: what the client omitted keeps its allocated value.
        model_defaults.apply_update_defaults(obj, old=old)
        _drop_type_dependent_fields(spec, old_spec)
        dry_run = ctx.dry_run
        held_ports = node_ports(old_spec)
        wants_ip = needs_cluster_ip(spec) and not needs_cluster_ip(old_spec)
        if not dry_run and _allocates(spec, ip=wants_ip, held_ports=held_ports):
            self._prevalidate_update(ctx, obj, old)
        held = await self._allocate(obj, spec, ip=wants_ip, held_ports=held_ports, dry_run=dry_run)
        old_ip = allocated_ip(old_spec)

        async def finish(stored: bool) -> None:
            if dry_run:
                return
            if not stored:
                await self._give_back(held.ips, held.ports)
                return
            dropped_ip = [old_ip] if old_ip is not None and allocated_ip(spec) != old_ip else []
            await self._give_back(dropped_ip, sorted(held_ports - node_ports(spec)))

        return finish

    # -- delete ---------------------------------------------------------------------

    async def after_delete(self, *, ctx: Context, obj: Obj) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            ip = allocated_ip(spec)
            await self._give_back([ip] if ip is not None else [], sorted(node_ports(spec)))
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

    # -- allocating -----------------------------------------------------------------

    # Allocating writes the range records, so an object validation would refuse is
    # checked first, on a copy: bad input changes nothing in storage. (Kubernetes
    # allocates before validating and reverts; the store calls validation again after
    # this hook, on the object with its values filled in.)

    def _prevalidate_create(self, ctx: Context, obj: Obj) -> None:
        trial = copy_obj(obj)
        self.prepare_for_create(ctx=ctx, obj=trial)
        self.validate(ctx=ctx, obj=trial)

    def _prevalidate_update(self, ctx: Context, obj: Obj, old: Obj) -> None:
        trial = copy_obj(obj)
        self.prepare_for_update(ctx=ctx, obj=trial, old=old)
        self.validate_update(ctx=ctx, obj=trial, old=old)

    async def _allocate(self, obj: Obj, spec: Obj, *, ip: bool, held_ports: set[int], dry_run: bool) -> _Held:
        """Allocate what ``spec`` asks for and write the values into it; on any refusal
        give back what was taken and raise Invalid."""
        allocations = self.allocations
        ip_plan = self._plan_ip(obj, spec) if ip else None
        port_plan = _plan_ports(spec, held=held_ports)
        ip_job = allocations.ips.allocate([ip_plan.want], dry_run=dry_run) if ip_plan else None
        port_job = allocations.ports.allocate(port_plan.wants, dry_run=dry_run) if port_plan.wants else None
        ip_result, port_result = await asyncio.gather(
            _optional(ip_job), _optional(port_job), return_exceptions=True
        )
        held = _Held()
        if isinstance(ip_result, Allocation) and ip_result.refused is None:
            held.ips = ip_result.values
        if isinstance(port_result, Allocation) and port_result.refused is None:
            held.ports = port_result.values
        try:
            for result in (ip_result, port_result):
                if isinstance(result, BaseException):
                    raise result
            if isinstance(ip_result, Allocation) and ip_plan is not None:
                self._check_ip(obj, ip_plan, ip_result)
            if isinstance(port_result, Allocation):
                self._check_ports(obj, port_plan, port_result)
        except BaseException:
            if not dry_run:
                await self._give_back(held.ips, held.ports)
            raise
        if held.ips:
            spec["clusterIP"] = held.ips[0]
            if not spec.get("clusterIPs"):
                spec["clusterIPs"] = [held.ips[0]]
        for (target, key), want, value in zip(port_plan.targets, port_plan.wants, held.ports, strict=False):
            if want is None:
                target[key] = value
        return held

    async def _give_back(self, ips: list[str], ports: list[int]) -> None:
        jobs = []
        if ips:
            jobs.append(self.allocations.ips.release(ips))
        if ports:
            jobs.append(self.allocations.ports.release(ports))
        for outcome in await asyncio.gather(*jobs, return_exceptions=True):
            if isinstance(outcome, Exception):
                # Kept marked until the repair loop sees no Service holds them.
                logger.warning("could not release service allocations %s %s: %s", ips, ports, outcome)

    def _plan_ip(self, obj: Obj, spec: Obj) -> _IPPlan | None:
        requested = spec.get("clusterIP")
        if requested in (None, ""):
            listed = spec.get("clusterIPs")
            if isinstance(listed, list) and listed and isinstance(listed[0], str):
                requested = listed[0]
        if requested == "None":
            return None  # headless
        if requested in (None, ""):
            return _IPPlan(want=None)
        if not isinstance(requested, str) or self.allocations.ip_space.offset(requested) is None:
            return None  # not an IP at all: validation says so in its own words
        spec["clusterIP"] = requested
        return _IPPlan(want=requested)

    def _check_ip(self, obj: Obj, plan: _IPPlan, result: Allocation[str]) -> None:
        if result.refused is None:
            return
        network = self.allocations.ip_space.network
        if plan.want is None:
            detail = f"failed to allocate a serviceIP: range is full ({network})"
            raise self._invalid(obj, invalid("spec.clusterIP", "", detail))
        if result.refused is Refusal.OUT_OF_RANGE:
            detail = f"provided IP is not in the valid range. The range of valid IPs is {network}"
            raise self._invalid(obj, invalid("spec.clusterIP", plan.want, detail))
        raise self._invalid(obj, invalid("spec.clusterIP", plan.want, "provided IP is already allocated"))

    def _check_ports(self, obj: Obj, plan: _PortPlan, result: Allocation[int]) -> None:
        if result.refused is None:
            return
        space = self.allocations.port_space
        path, want = plan.paths[result.index], plan.wants[result.index]
        if want is None:
            detail = f"failed to allocate a nodePort: range is full ({space.spec})"
            raise self._invalid(obj, invalid(path, 0, detail))
        if result.refused is Refusal.OUT_OF_RANGE:
            detail = f"provided port is not in the valid range. The range of valid ports is {space.spec}"
            raise self._invalid(obj, invalid(path, want, detail))
        raise self._invalid(obj, invalid(path, want, "provided port is already allocated"))

    def _invalid(self, obj: Obj, error: FieldError) -> Invalid:
        name = str((obj.get("metadata") or {}).get("name") or "")
        return Invalid.of(kind=self.info.kind, name=name, errors=[error])


def _allocates(spec: Obj, *, ip: bool, held_ports: set[int]) -> bool:
    """Whether a write of ``spec`` will allocate anything (a headless Service whose
    ports need no node port does not)."""
    return (ip and spec.get("clusterIP") != "None") or bool(_plan_ports(spec, held=held_ports).wants)


def _plan_ports(spec: Obj, *, held: set[int]) -> _PortPlan:
    """The node ports ``spec`` needs that it does not already hold. A number asked for
    twice (TCP and UDP of one port) is one allocation."""
    plan = _PortPlan()
    asked: set[int] = set()

    def want(target: Obj, key: str, path: str, *, auto: bool) -> None:
        value = target.get(key)
        if value in (None, 0):
            if auto:
                plan.wants.append(None)
                plan.paths.append(path)
                plan.targets.append((target, key))
            return
        number = port_number(value)
        if number is None or number in held or number in asked:
            return  # validation refuses a bad value; a held or shared one needs nothing
        asked.add(number)
        plan.wants.append(number)
        plan.paths.append(path)
        plan.targets.append((target, key))

    if needs_node_ports(spec):
        auto = auto_node_ports(spec)
        ports = spec.get("ports")
        for index, port in enumerate(ports if isinstance(ports, list) else ()):
            if isinstance(port, dict):
                want(port, "nodePort", f"spec.ports[{index}].nodePort", auto=auto)
    if needs_health_check_port(spec):
        want(spec, "healthCheckNodePort", "spec.healthCheckNodePort", auto=True)
    return plan


async def _optional(job: Awaitable[T] | None) -> T | None:
    return None if job is None else await job


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
