"""Deletion: at once, gracefully, or held by finalizers — as Kubernetes decides it.

A DELETE does one of three things (genericregistry ``Store.Delete``):

- **remove now** — no finalizers, no grace period: the object leaves storage and the
  answer is the object (``return_deleted_object``) or a ``Status`` of success;
- **graceful** — the strategy grants a grace period (pods): ``deletionTimestamp`` is set
  to now + grace and ``deletionGracePeriodSeconds`` recorded; whoever finishes the work
  (the kubelet) deletes again with grace 0;
- **finalize** — the object has finalizers: it is marked (``deletionTimestamp`` now,
  grace 0) and stays until an update removes the last finalizer, which deletes it.

``propagationPolicy`` (or the older ``orphanDependents``) becomes the ``orphan`` or
``foregroundDeletion`` finalizer for the garbage collector, exactly as Kubernetes
stores it; ``preconditions`` guard against deleting a replaced object.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

from apiserver.storage.interface import Preconditions
from kube.errors import Conflict, NotFound

from .admission import Operation
from .context import Context
from .options import DeleteOptions, ListOptions, PropagationPolicy
from .strategy import GCPolicy, Obj, Strategy

if TYPE_CHECKING:
    from .store import ResourceStore

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
_GC_FINALIZERS = (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)
COLLECTION_WORKERS = 8


class _DeleteNow(Exception):
    pass


class _AlreadyDeleting(Exception):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _format(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None


def check_preconditions(*, store: ResourceStore, obj: Obj, options: DeleteOptions) -> None:
    """Fail early, with Kubernetes' words, when the object is not the one the client meant."""
    meta = obj["metadata"]
    info = store.info
    if options.precondition_uid is not None and options.precondition_uid != meta.get("uid"):
        raise Conflict.of(
            resource=info.resource,
            group=info.group,
            name=meta.get("name", ""),
            err=f"the UID in the precondition ({options.precondition_uid}) does not match the UID in record "
            f"({meta.get('uid')}). The object might have been deleted and then recreated",
        )
    rv = options.precondition_resource_version
    if rv is not None and rv != meta.get("resourceVersion"):
        raise Conflict.of(
            resource=info.resource,
            group=info.group,
            name=meta.get("name", ""),
            err=f"the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record "
            f"({meta.get('resourceVersion')}). The object might have been modified",
        )


def before_delete(
    *, strategy: Strategy, ctx: Context, obj: Obj, options: DeleteOptions
) -> tuple[bool, bool, DeleteOptions]:
    """Kubernetes' rest.BeforeDelete: (graceful, already pending, options with the grace
    period decided). Marks ``obj`` for a graceful deletion when one starts or shortens."""
    meta = obj["metadata"]
    if options.grace_period_seconds is not None and options.grace_period_seconds < 0:
        options = options.with_grace(1)  # negative means "as soon as possible but graceful"
    existing = meta.get("deletionGracePeriodSeconds")
    if existing is not None and existing < 0:
        meta["deletionGracePeriodSeconds"] = existing = 1
    if not strategy.supports_graceful_deletion:
        return False, False, options
    if meta.get("deletionTimestamp"):
        if not existing:
            return False, False, options
        requested = options.grace_period_seconds
        if requested is None:
            return False, True, options.with_grace(existing)
        if requested >= existing:
            return False, True, options
        # Only a shorter grace period is honoured: move the deadline earlier.
        started = _parse(meta["deletionTimestamp"]) or _now()
        deadline = started - dt.timedelta(seconds=existing) + dt.timedelta(seconds=requested)
        now = _now()
        if deadline < now:
            deadline = now
            if requested != 0:
                requested = 1
        meta["deletionTimestamp"] = _format(deadline)
        meta["deletionGracePeriodSeconds"] = requested
        return True, False, options.with_grace(requested)
    grace = strategy.check_graceful_delete(ctx=ctx, obj=obj, options=options)
    if grace is None:
        return False, False, options
    meta["deletionTimestamp"] = _format(_now() + dt.timedelta(seconds=grace))
    meta["deletionGracePeriodSeconds"] = grace
    if meta.get("generation", 0) > 0:
        meta["generation"] += 1
    return True, False, options.with_grace(grace)


def _should_orphan(strategy: Strategy, finalizers: list[str], options: DeleteOptions) -> bool:
    if strategy.gc_policy is GCPolicy.UNSUPPORTED:
        return False
    if options.orphan_dependents is not None:
        return options.orphan_dependents
    if options.propagation_policy is not None:
        return options.propagation_policy is PropagationPolicy.ORPHAN
    for f in finalizers:
        if f == ORPHAN_FINALIZER:
            return True
        if f == FOREGROUND_FINALIZER:
            return False
    return strategy.gc_policy is GCPolicy.ORPHAN


def _should_foreground(strategy: Strategy, finalizers: list[str], options: DeleteOptions) -> bool:
    if strategy.gc_policy is GCPolicy.UNSUPPORTED or options.orphan_dependents is not None:
        return False
    if options.propagation_policy is not None:
        return options.propagation_policy is PropagationPolicy.FOREGROUND
    for f in finalizers:
        if f == FOREGROUND_FINALIZER:
            return True
        if f == ORPHAN_FINALIZER:
            return False
    return False


def gc_finalizers(*, strategy: Strategy, obj: Obj, options: DeleteOptions) -> tuple[bool, list[str]]:
    """The finalizers the garbage collector needs for this deletion, and whether they
    differ from the object's (deletionFinalizersForGarbageCollection)."""
    current = list(obj["metadata"].get("finalizers") or ())
    if strategy.gc_policy is GCPolicy.UNSUPPORTED:
        return False, current
    wanted = [f for f in current if f not in _GC_FINALIZERS]
    if _should_orphan(strategy, current, options):
        wanted.append(ORPHAN_FINALIZER)
    if _should_foreground(strategy, current, options):
        wanted.append(FOREGROUND_FINALIZER)
    if set(wanted) == set(current):
        return False, current
    return True, wanted


def _mark_as_deleting(obj: Obj) -> None:
    meta = obj["metadata"]
    now = _now()
    existing = _parse(meta["deletionTimestamp"]) if meta.get("deletionTimestamp") else None
    if existing is None and meta.get("generation", 0) > 0:
        meta["generation"] += 1
    if existing is None or existing > now:
        meta["deletionTimestamp"] = _format(now)
    meta["deletionGracePeriodSeconds"] = 0


def finalized(store: ResourceStore, obj: Obj) -> Obj:
    """What a completed DELETE answers: the object, or a Status naming it."""
    if store.strategy.return_deleted_object:
        return obj
    meta = obj.get("metadata") or {}
    details: dict[str, Any] = {"name": meta.get("name", ""), "kind": store.info.resource}
    if store.info.group:
        details["group"] = store.info.group
    if meta.get("uid"):
        details["uid"] = meta["uid"]
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def _preconditions(options: DeleteOptions) -> Preconditions | None:
    if options.precondition_uid is None and options.precondition_resource_version is None:
        return None
    return Preconditions(uid=options.precondition_uid, resource_version=options.precondition_resource_version)


async def delete(store: ResourceStore, ctx: Context, *, options: DeleteOptions) -> tuple[Obj, bool]:
    key = store.key(namespace=ctx.namespace, name=ctx.name)
    info = store.info
    try:
        current = await store.storage.get(key)
    except NotFound:
        raise NotFound.of(resource=info.resource, group=info.group, name=ctx.name) from None
    check_preconditions(store=store, obj=current, options=options)
    # Admission judges deletes too (NamespaceLifecycle, NodeRestriction), with the object as ``old``.
    await store.admission.validate(ctx=ctx, operation=Operation.DELETE, obj=None, old=current)
    strategy = store.strategy
    probe = {**current, "metadata": dict(current["metadata"])}
    graceful, pending, options = before_delete(strategy=strategy, ctx=ctx, obj=probe, options=options)
    if pending:
        return finalized(store, current), False
    has_finalizers = bool(current["metadata"].get("finalizers"))
    gc_changes, _ = gc_finalizers(strategy=strategy, obj=current, options=options)
    last_existing: Obj | None = None
    ignore_not_found = False
    preconditions = _preconditions(options)
    if graceful or has_finalizers or gc_changes:
        outcome = await _mark(store, ctx, key=key, options=options, preconditions=preconditions)
        if outcome is not None:
            out, delete_now, last_existing = outcome
            if not delete_now:
                return out, False
            ignore_not_found = True
            if ctx.dry_run:
                return out, True
            if preconditions is not None and preconditions.resource_version is not None:
                preconditions = Preconditions(
                    uid=preconditions.uid, resource_version=out["metadata"].get("resourceVersion")
                )
    if ctx.dry_run:
        return finalized(store, current), True
    try:
        deleted = await store.storage.delete(key, preconditions=preconditions)
    except NotFound:
        if ignore_not_found and last_existing is not None:
            return finalized(store, last_existing), True
        raise NotFound.of(resource=info.resource, group=info.group, name=ctx.name) from None
    except Conflict:
        raise Conflict.of(resource=info.resource, group=info.group, name=ctx.name) from None
    await strategy.after_delete(ctx=ctx, obj=deleted)
    return finalized(store, deleted), True


async def _mark(
    store: ResourceStore,
    ctx: Context,
    *,
    key: str,
    options: DeleteOptions,
    preconditions: Preconditions | None,
) -> tuple[Obj, bool, Obj | None] | None:
    """updateForGracefulDeletionAndFinalizers: (object now, delete it now?, last state),
    or None when the object turned out deletable at once."""
    strategy = store.strategy
    state: dict[str, Any] = {"grace": 0, "finalizers": False, "last": None}

    async def update(existing: Obj) -> Obj | None:
        graceful, pending, opts = before_delete(strategy=strategy, ctx=ctx, obj=existing, options=options)
        if pending:
            raise _AlreadyDeleting
        changed, finalizers = gc_finalizers(strategy=strategy, obj=existing, options=options)
        if changed:
            existing["metadata"]["finalizers"] = finalizers
        state["finalizers"] = bool(existing["metadata"].get("finalizers"))
        if not graceful:
            if state["finalizers"]:
                _mark_as_deleting(existing)
                return existing
            raise _DeleteNow
        state["grace"] = opts.grace_period_seconds or 0
        state["last"] = existing
        return existing

    info = store.info
    try:
        if ctx.dry_run:
            current = await store.storage.get(key)
            out = await update(current) or current
        else:
            out = await store.storage.guaranteed_update(key, update, preconditions=preconditions)
    except _DeleteNow:
        return None
    except _AlreadyDeleting:
        current = await store.storage.get(key)
        return finalized(store, current), False, None
    except NotFound:
        raise NotFound.of(resource=info.resource, group=info.group, name=ctx.name) from None
    except Conflict as err:
        if err.details.kind == info.resource:
            raise
        raise Conflict.of(resource=info.resource, group=info.group, name=ctx.name) from None
    if state["finalizers"] or state["grace"] > 0:
        return out, False, state["last"]
    return out, True, state["last"]


async def delete_emptied(store: ResourceStore, ctx: Context, obj: Obj) -> Obj:
    """An update removed the last finalizer of an object being deleted: remove it."""
    if ctx.dry_run:
        return obj
    key = store.key(namespace=ctx.namespace, name=ctx.name)
    try:
        deleted = await store.storage.delete(key)
    except NotFound:
        # Several updates may race to remove the last finalizers; one delete wins.
        return obj
    await store.strategy.after_delete(ctx=ctx, obj=deleted)
    return obj


async def delete_collection(
    store: ResourceStore, ctx: Context, *, options: DeleteOptions, list_options: ListOptions
) -> Obj:
    """Delete every object a list with ``list_options`` returns; answer that list.
    Not atomic, as in Kubernetes: a failure leaves the objects before it deleted."""
    page = await store.list(ctx, options=list_options)
    queue: asyncio.Queue[Obj] = asyncio.Queue()
    for item in page.items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            item = queue.get_nowait()
            meta = item.get("metadata") or {}
            child = ctx.child(info=store.info, namespace=meta.get("namespace") or "", name=meta.get("name") or "")
            try:
                await delete(store, child, options=options)
            except NotFound:
                pass

    await asyncio.gather(*(worker() for _ in range(min(COLLECTION_WORKERS, max(1, len(page.items))))))
    return page.as_list(store.info)
