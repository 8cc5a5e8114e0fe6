"""Reconcile the range records with the stored Services, as Kubernetes' repair loops do.

The records (``rangestore.py``) are the authority for what is free, but they can drift
from the Services: an API server that crashes between allocating and storing a Service
leaves a bit set that nothing holds (a leak); values written around the allocator (an
operator editing storage, a restore from backup) can be held by two Services or by
none. kube-apiserver's ``ipallocator`` and ``portallocator`` repair controllers
(``pkg/registry/core/service/*/controller/repair.go``) fix this at start and every
three minutes; so does this module, with the same rules:

1. Read the record *before* listing the Services. Any allocation after the read changes
   the record's resourceVersion, so the final compare-and-swap fails and the pass is
   retried; any allocation before it is in the read.
2. Rebuild the bitmap from the Services. A value held by two Services is reported
   (``ClusterIPAlreadyAllocated`` / ``PortAlreadyAllocated``: the later one should be
   recreated); one outside the range, or not marked in the record, is reported and
   (when in range) marked.
3. A bit set in the record that no Service holds may belong to a create still in
   flight, so it is only *flagged*; it is freed on the third pass that still finds it
   unheld (``numRepairsBeforeLeakCleanup``).
4. Write the rebuilt bitmap with compare-and-swap on the resourceVersion read in step 1
   (nothing is written when nothing changed).

Findings are logged and recorded as Warning Events on the Service, with the reasons and
messages Kubernetes uses. Each is recorded once per process, not on every pass.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from apiserver.background import BackgroundLoop
from kube.errors import Conflict, StatusError
from kube.model import FieldValidation

from ..context import Context
from .allocators import Refusal, allocated_ip, node_ports
from .serviceranges import ServiceAllocations

if TYPE_CHECKING:
    from ..store import ResourceStore
    from .rangestore import StoredRange

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
REPAIR_INTERVAL = 180.0
"""Kubernetes' interval for both repair loops."""
LEAK_PASSES = 3
"""Passes that must find a bit unheld before it is freed (numRepairsBeforeLeakCleanup)."""
_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a pass found wrong with one Service's value."""

    reason: str
    message: str
    service: Obj


@dataclass(frozen=True, slots=True)
class _Words:
    """How one range's findings are worded (Kubernetes' repair controllers)."""

    component: str
    duplicate: str
    out_of_range: str
    not_allocated: str
    invalid: str
    thing: str


IP_WORDS = _Words(
    component="ipallocator-repair-controller",
    duplicate="ClusterIPAlreadyAllocated:Cluster IP [IPv4]:{value} was assigned to multiple services; "
    "please recreate service",
    out_of_range="ClusterIPOutOfRange:Cluster IP [IPv4]:{value} is not within the configured Service CIDR "
    "{range}; please recreate service",
    not_allocated="ClusterIPNotAllocated:Cluster IP [IPv4]:{value} is not allocated; repairing",
    invalid="ClusterIPNotValid:Cluster IP {value} is not a valid IP; please recreate service",
    thing="cluster IP",
)
PORT_WORDS = _Words(
    component="portallocator-repair-controller",
    duplicate="PortAlreadyAllocated:Port {value} was assigned to multiple services; please recreate service",
    out_of_range="PortOutOfRange:Port {value} is not within the port range {range}; please recreate service",
    not_allocated="PortNotAllocated:Port {value} is not allocated; repairing",
    invalid="PortNotValid:Port {value} is not a valid port; please recreate service",
    thing="node port",
)


class ServiceAllocationRepair:
    """One pass over both ranges (``run_once``); the loop is ``RepairLoop``."""

    def __init__(self, *, allocations: ServiceAllocations, events: ResourceStore | None = None) -> None:
        self.allocations = allocations
        self.events = events
        self._leaks: dict[str, dict[int, int]] = {"ips": {}, "ports": {}}
        """Per range: offset → passes left before a flagged leak is freed."""
        self._reported: set[tuple[str, str, str]] = set()

    async def run_once(self) -> list[Finding]:
        allocations = self.allocations
        findings = await self._repair(
            name="ips",
            stored=allocations.ips,
            values_of=lambda spec: [ip] if (ip := allocated_ip(spec)) is not None else [],
            words=IP_WORDS,
        )
        findings += await self._repair(
            name="ports",
            stored=allocations.ports,
            values_of=lambda spec: sorted(node_ports(spec)),
            words=PORT_WORDS,
        )
        for finding in findings:
            await self._report(finding)
        return findings

    async def _repair(
        self,
        *,
        name: str,
        stored: StoredRange[Any],
        values_of: Callable[[Obj], list[Any]],
        words: _Words,
    ) -> list[Finding]:
        for _ in range(_ATTEMPTS):
            snapshot = await stored.read()  # before the list: see the module docstring
            services = await self.allocations.services()
            space = stored.space
            record = snapshot.allocator
            original = record.snapshot()
            rebuilt = space.new_allocator()
            findings: list[Finding] = []
            leaks = dict(self._leaks[name])
            for service in services:
                spec = service.get("spec")
                for value in values_of(spec) if isinstance(spec, dict) else ():
                    offset = space.offset(value)
                    if offset is None:
                        findings.append(
                            _finding(words.invalid, value=value, range_=space.spec, service=service)
                        )
                        continue
                    refused = rebuilt.take(offset)
                    if refused is None:
                        if offset in record:
                            record.release(offset)  # what is left in `record` at the end is unheld
                        else:
                            findings.append(
                                _finding(words.not_allocated, value=value, range_=space.spec, service=service)
                            )
                        leaks.pop(offset, None)
                    elif refused is Refusal.ALLOCATED:
                        findings.append(
                            _finding(words.duplicate, value=value, range_=space.spec, service=service)
                        )
                    else:
                        findings.append(
                            _finding(words.out_of_range, value=value, range_=space.spec, service=service)
                        )
            for offset in list(record.offsets()):
                value = space.value(offset)
                left = leaks.get(offset)
                if left is None:
                    logger.warning(
                        "the %s %s may have leaked: flagging for later clean up", words.thing, value
                    )
                    left = LEAK_PASSES - 1
                if left > 0:
                    leaks[offset] = left - 1
                    rebuilt.take(offset)
                else:
                    logger.warning("the %s %s appears to have leaked: cleaning up", words.thing, value)
                    leaks.pop(offset, None)
            unchanged = (
                snapshot.resource_version and snapshot.range == space.spec and rebuilt.snapshot() == original
            )
            if not unchanged:
                try:
                    await stored.replace(rebuilt, resource_version=snapshot.resource_version)
                except Conflict:
                    continue  # an allocation landed meanwhile: read again
            self._leaks[name] = {o: n for o, n in leaks.items() if o in rebuilt}
            return findings
        logger.warning("service %s repair gave up after %d conflicting passes", name, _ATTEMPTS)
        return []

    async def _report(self, finding: Finding) -> None:
        meta = finding.service.get("metadata") or {}
        key = (finding.reason, str(meta.get("uid") or ""), finding.message)
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        logger.warning("service %s/%s: %s", namespace, name, finding.message)
        if key in self._reported or self.events is None:
            return
        self._reported.add(key)
        component = IP_WORDS.component if finding.reason.startswith("ClusterIP") else PORT_WORDS.component
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event: Obj = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{name}.{time.time_ns():x}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Service",
                "namespace": namespace,
                "name": name,
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "reason": finding.reason,
            "message": finding.message,
            "type": "Warning",
            "source": {"component": component},
            "reportingComponent": component,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        ctx = Context(
            info=self.events.info,
            namespace=namespace,
            field_manager=component,
            field_validation=FieldValidation.STRICT,
        )
        try:
            await self.events.create(ctx, event)
        except StatusError as err:
            logger.warning(
                "could not record event %s for service %s/%s: %s", finding.reason, namespace, name, err
            )


class RepairLoop(BackgroundLoop):
    """A pass at start, then one every ``interval`` seconds."""

    task_name: ClassVar[str] = "service-allocation-repair"

    def __init__(self, repair: ServiceAllocationRepair, *, interval: float = REPAIR_INTERVAL) -> None:
        self.repair = repair
        self.interval = interval
        super().__init__()

    async def _run(self) -> None:
        while True:
            try:
                await self.repair.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("service allocation repair failed")
            await asyncio.sleep(self.interval)


def _finding(template: str, *, value: object, range_: str, service: Obj) -> Finding:
    reason, _, message = template.partition(":")
    return Finding(reason=reason, message=message.format(value=value, range=range_), service=service)
