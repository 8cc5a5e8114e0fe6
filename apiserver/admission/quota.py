"""ResourceQuota: charge every create against the namespace's quotas, never overshooting.

Admission charges a new object's usage into each matching quota's ``status.used`` with
a compare-and-swap on the quota object, before the object is written; a charge that
would pass ``status.hard`` is refused ("exceeded quota: q, requested: pods=1, used:
pods=10, limited: pods=10"). Charges of one namespace are serialized by a lock
(the CAS still guards against any other writer of the quota), so N concurrent creates
against a quota of M yield exactly M successes.

Usage goes down again when objects go away: a reconciler (the job of Kubernetes'
resource-quota controller) recomputes each quota every ``interval`` seconds from the
watch caches, plus the charges made for objects not yet in those caches, under the
same lock, and writes ``status`` when it differs. That also fills the status of a new
quota, and gives back a charge whose object was never stored (a create that failed
after admission). Updates are not charged: pod resources cannot change after creation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from apiserver.background import BackgroundLoop
from apiserver.registry import Context, ResourceStore
from apiserver.registry.admission import Operation
from kube.errors import NotFound, StatusError
from kube.quantity import Quantity

from .chain import Base, Obj, as_dict, forbidden
from .lookup import cached_list, store_of
from .quota_usage import (
    Usage,
    add,
    format_list,
    missing_constraints,
    object_usage,
    parse_list,
    quota_matches,
)

logger = logging.getLogger(__name__)
PENDING_GRACE = 1.0
PENDING_MAX_AGE = 60.0
_LEGACY = frozenset({"services", "secrets", "configmaps", "persistentvolumeclaims", "replicationcontrollers",
                     "resourcequotas"})


@dataclass(slots=True)
class _Pending:
    """A charge whose object may not be in the watch cache yet."""

    uid: str
    namespace: str
    name: str
    store: ResourceStore
    usage: Usage
    since: float


def resources_for(hard: Usage) -> set[tuple[str, str]]:
    """The (group, resource) pairs a quota's hard limits count."""
    out: set[tuple[str, str]] = set()
    for name in hard:
        if name.startswith("count/"):
            resource, _, group = name[len("count/"):].partition(".")
            out.add((group, resource))
        elif name in _LEGACY:
            out.add(("", name))
        elif name.startswith("services."):
            out.add(("", "services"))
        else:
            out.add(("", "pods"))  # pods, cpu, memory, requests.*, limits.*
    return out


def _pretty(usage: Usage) -> str:
    return ",".join(f"{name}={q}" for name, q in sorted(usage.items()))


class QuotaTracker:
    """The state shared by the admission plugin and the reconciler."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._pending: dict[str, _Pending] = {}

    def quotas(self, namespace: str = "") -> Sequence[Obj]:
        return cached_list(store_of(self.api, group="", resource="resourcequotas"), namespace=namespace)

    def lock(self, namespace: str) -> asyncio.Lock:
        return self._locks[namespace]

    def _store(self, group: str, resource: str) -> ResourceStore | None:
        for info in self.api.resources:
            if info.group == group and info.resource == resource and info.stored and info.preferred:
                store: ResourceStore | None = self.api.store(group=group, version=info.version, resource=resource)
                return store
        return None

    def recompute(self, quota: Obj) -> Usage:
        """Usage from the caches plus pending charges, restricted to the quota's hard keys.
        Synchronous, so nothing changes while it runs."""
        meta = as_dict(quota.get("metadata"))
        namespace = str(meta.get("namespace") or "")
        hard = parse_list(as_dict(quota.get("spec")).get("hard"))
        used: Usage = {name: _zero() for name in hard}
        seen: set[str] = set()
        for group, resource in resources_for(hard):
            store = self._store(group, resource)
            if store is None:
                continue
            for obj in cached_list(store, namespace=namespace):
                seen.add(str(as_dict(obj.get("metadata")).get("uid") or ""))
                if quota_matches(quota, resource=resource, group=group, obj=obj):
                    usage = object_usage(resource=resource, group=group, obj=obj)
                    used = add(used, {k: v for k, v in usage.items() if k in hard})
        for pending in self._pending.values():
            if pending.namespace == namespace and pending.uid not in seen:
                used = add(used, {k: v for k, v in pending.usage.items() if k in hard})
        return used

    def _quota_key(self, namespace: str, name: str) -> str:
        return store_of(self.api, group="", resource="resourcequotas").key(namespace=namespace, name=name)

    async def _write(self, key: str, transform: Any, *, dry_run: bool) -> None:
        storage = store_of(self.api, group="", resource="resourcequotas").storage
        if dry_run:
            await transform(await storage.get(key))
            return
        await storage.guaranteed_update(key, transform)

    async def charge(
        self, *, ctx: Context, obj: Obj, namespace: str, quota_names: list[str], usage: Usage, store: ResourceStore
    ) -> None:
        charged: list[tuple[str, Usage]] = []
        async with self.lock(namespace):
            try:
                for name in quota_names:
                    relevant = await self._charge_one(ctx=ctx, obj=obj, namespace=namespace, name=name, usage=usage)
                    if relevant:
                        charged.append((name, relevant))
            except BaseException:
                if not ctx.dry_run:
                    for name, relevant in charged:
                        await self._refund(namespace, name, relevant)
                raise
            meta = as_dict(obj.get("metadata"))
            uid = str(meta.get("uid") or "")
            if charged and uid and not ctx.dry_run:
                self._pending[uid] = _Pending(
                    uid=uid, namespace=namespace, name=str(meta.get("name") or ""), store=store,
                    usage=usage, since=time.monotonic(),
                )

    async def _charge_one(self, *, ctx: Context, obj: Obj, namespace: str, name: str, usage: Usage) -> Usage:
        requested: dict[str, Usage] = {}

        async def transform(current: Obj) -> Obj | None:
            if not current:
                return None
            hard = parse_list(as_dict(current.get("spec")).get("hard"))
            relevant = {k: v for k, v in usage.items() if k in hard}
            requested["usage"] = relevant
            if not relevant:
                return None
            status = as_dict(current.get("status"))
            if parse_list(status.get("hard")) != hard or "used" not in status:
                used = self.recompute(current)
            else:
                used = parse_list(status.get("used"))
            new_used = add(used, relevant)
            exceeded = [k for k in relevant if new_used[k] > hard[k]]
            if exceeded:
                raise forbidden(
                    ctx,
                    obj,
                    f"exceeded quota: {name}, requested: {_pretty({k: relevant[k] for k in exceeded})}, "
                    f"used: {_pretty({k: used.get(k, _zero()) for k in exceeded})}, "
                    f"limited: {_pretty({k: hard[k] for k in exceeded})}",
                )
            return {**current, "status": {"hard": format_list(hard), "used": format_list({**used, **new_used})}}

        try:
            await self._write(self._quota_key(namespace, name), transform, dry_run=ctx.dry_run)
        except NotFound:
            return {}  # the quota went away meanwhile: nothing to charge
        return requested.get("usage", {})

    async def _refund(self, namespace: str, name: str, usage: Usage) -> None:
        async def transform(current: Obj) -> Obj | None:
            if not current:
                return None
            status = as_dict(current.get("status"))
            used = add(parse_list(status.get("used")), usage, sign=-1)
            used = {k: (v if v.as_decimal() > 0 else _zero()) for k, v in used.items()}
            return {**current, "status": {**status, "used": format_list(used)}}

        with contextlib.suppress(NotFound):
            await self._write(self._quota_key(namespace, name), transform, dry_run=False)

    # -- the reconciler ----------------------------------------------------------------

    async def _sweep(self) -> None:
        now = time.monotonic()
        for uid, pending in list(self._pending.items()):
            store = pending.store
            cached_obj = None
            if store.cacher is not None:
                with contextlib.suppress(StatusError):
                    cached_obj = store.cacher.get(store.key(namespace=pending.namespace, name=pending.name))
            if cached_obj is not None and as_dict(cached_obj.get("metadata")).get("uid") == uid:
                self._pending.pop(uid, None)  # the cache counts it now
                continue
            age = now - pending.since
            if age < PENDING_GRACE:
                continue
            try:
                stored = await store.storage.get(store.key(namespace=pending.namespace, name=pending.name))
                exists = as_dict(stored.get("metadata")).get("uid") == uid
            except NotFound:
                exists = False
            if not exists or age > PENDING_MAX_AGE:
                self._pending.pop(uid, None)

    async def reconcile_once(self) -> int:
        """Bring every quota's status in line with what exists; returns how many changed."""
        await self._sweep()
        changed = 0
        for quota in self.quotas():
            meta = quota["metadata"]
            namespace, name = meta.get("namespace") or "", meta["name"]
            async with self.lock(namespace):

                async def transform(current: Obj) -> Obj | None:
                    if not current:
                        return None
                    hard = parse_list(as_dict(current.get("spec")).get("hard"))
                    status = {"hard": format_list(hard), "used": format_list(self.recompute(current))}
                    return None if current.get("status") == status else {**current, "status": status}

                before = quota.get("status")
                try:
                    after = await store_of(self.api, group="", resource="resourcequotas").storage.guaranteed_update(
                        self._quota_key(namespace, name), transform
                    )
                except NotFound:
                    continue
                changed += after.get("status") != before
        return changed


def _zero() -> Quantity:
    return Quantity(0)


class ResourceQuotaAdmission(Base):
    name: ClassVar[str] = "ResourceQuota"
    resources: ClassVar[frozenset[tuple[str, str]]] = frozenset({("*", "*")})

    def __init__(self) -> None:
        super().__init__()
        self.tracker: QuotaTracker | None = None

    def bind(self, api: Any) -> None:
        super().bind(api)
        self.tracker = QuotaTracker(api)

    async def validate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        info = ctx.info
        if operation is not Operation.CREATE or ctx.subresource or not info.namespaced or not isinstance(obj, dict):
            return
        tracker = self.tracker
        assert tracker is not None
        namespace = ctx.namespace or str(as_dict(obj.get("metadata")).get("namespace") or "")
        quotas = tracker.quotas(namespace)
        if not quotas:
            return
        usage = object_usage(resource=info.resource, group=info.group, obj=obj)
        if not usage:
            return
        names: list[str] = []
        for quota in sorted(quotas, key=lambda q: q["metadata"]["name"]):
            hard = parse_list(as_dict(quota.get("spec")).get("hard"))
            if not quota_matches(quota, resource=info.resource, group=info.group, obj=obj):
                continue
            if info.group == "" and info.resource == "pods":
                missing = missing_constraints(obj, hard)
                if missing:
                    raise forbidden(ctx, obj, f"failed quota: {quota['metadata']['name']}: must specify {'; '.join(missing)}")
            if any(k in hard for k in usage):
                names.append(quota["metadata"]["name"])
        if names:
            store = self.api.store_for(info)
            await tracker.charge(ctx=ctx, obj=obj, namespace=namespace, quota_names=names, usage=usage, store=store)


class QuotaReconciler(BackgroundLoop):
    """Runs ``reconcile_once`` every ``interval`` seconds."""

    task_name = "resourcequota-status"

    def __init__(self, tracker: QuotaTracker, *, interval: float = 1.0) -> None:
        self.tracker = tracker
        self.interval = interval
        super().__init__()

    async def _run(self) -> None:
        while True:
            try:
                await self.tracker.reconcile_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("resource quota status reconciliation failed")
            await asyncio.sleep(self.interval)
