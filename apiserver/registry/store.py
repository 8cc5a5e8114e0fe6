"""The generic store: create, get, update and patch of one resource over the storage.

This is Kubernetes' ``genericregistry.Store`` in Python. Every stored resource gets one,
parameterised by a ``Strategy``; the store owns what must be the same for all of them:

- create fills the server-owned metadata, retries generated names that collide, runs the
  strategy's prepare/validate hooks and admission, records managedFields, and writes;
- every update (PUT, PATCH, ``/status``, a subresource's own transform) is one
  ``guaranteed_update``: read, transform, check the resourceVersion the client sent,
  prepare, validate, write if changed — inside the storage's compare-and-swap loop, so
  concurrent writers never lose each other's changes;
- an update that clears the last finalizer of an object being deleted deletes it;
- ``dryRun`` runs all of it and stores nothing.

Deletion lives in ``deletion.py`` and list/watch in ``reading.py``; both are reached
through methods here so callers see one object per resource.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from apiserver import negotiation
from apiserver.storage import key_for, prefix_for
from apiserver.storage.interface import Storage
from kube import patch as kpatch
from kube.errors import AlreadyExists, BadRequest, Conflict, Invalid, NotFound, StatusError, invalid
from kube.resources import ResourceInfo

from . import deletion, objectmeta, patching, reading
from .admission import Admission, AdmitAll, Operation
from .context import Context
from .options import DeleteOptions, ListOptions
from .strategy import FinishFunc, Obj, Strategy

if TYPE_CHECKING:
    from apiserver.watchcache import Cacher

NamespaceGate = Callable[[Context, Obj], Awaitable[None]]
"""Refuses a create in a namespace that is missing or terminating."""

Transform = Callable[[Obj | None], Awaitable[Obj]]
"""Given the stored object (None when absent), the object the client wants stored."""

Finishes = list[FinishFunc]
Warnings = list[str]

# Kubernetes retries a create whose generated name collided (RetryGenerateName).
GENERATE_NAME_ATTEMPTS = 8
MANAGER_OPERATION_UPDATE = "Update"


def copy_obj(obj: Obj) -> Obj:
    """A deep copy of a JSON object; orjson round-trips faster than copy.deepcopy."""
    result: Obj = orjson.loads(orjson.dumps(obj))
    return result


class _EmptiedFinalizers(Exception):
    """Raised out of the update function: the update finished a pending deletion."""

    def __init__(self, obj: Obj) -> None:
        super().__init__("emptied finalizers")
        self.obj = obj


class ResourceStore:
    """Every verb of one resource. Methods take a ``Context`` naming the namespace and
    object; the handlers build it from the URL."""

    def __init__(
        self,
        *,
        info: ResourceInfo,
        strategy: Strategy,
        storage: Storage,
        cacher: Cacher | None,
        storage_resource: str | None = None,
        namespace_gate: NamespaceGate | None = None,
        admission: Admission | None = None,
    ) -> None:
        self.info = info
        self.strategy = strategy
        self.storage = storage
        self.cacher = cacher
        self.storage_resource = storage_resource or info.resource
        """The key segment: the plural for built-in kinds, ``<group>/<plural>`` for
        custom resources (as Kubernetes keys them), so two groups never collide."""
        self.namespace_gate = namespace_gate
        self.admission: Admission = admission or AdmitAll()

    # -- keys ---------------------------------------------------------------------------

    def key(self, *, namespace: str, name: str) -> str:
        return key_for(self.storage_resource, namespace if self.info.namespaced else "", name)

    def prefix(self, *, namespace: str = "") -> str:
        return prefix_for(self.storage_resource, namespace if self.info.namespaced else "")

    def _rewrite(self, err: StatusError, name: str) -> StatusError:
        # Storage errors name the resource from the key; ours carry the API group too.
        info = self.info
        if isinstance(err, NotFound):
            return NotFound.of(resource=info.resource, group=info.group, name=name)
        if isinstance(err, AlreadyExists):
            return AlreadyExists.of(resource=info.resource, group=info.group, name=name)
        # Only the storage's own conflicts (named after the key); others, such as
        # server-side apply's field conflicts, carry their message unchanged.
        if type(err) is Conflict and err.details.kind and err.details.kind != info.resource:
            return Conflict.of(resource=info.resource, group=info.group, name=name)
        return err

    # -- reads --------------------------------------------------------------------------

    async def get(self, ctx: Context) -> Obj:
        try:
            return await self.storage.get(self.key(namespace=ctx.namespace, name=ctx.name))
        except NotFound as err:
            raise self._rewrite(err, ctx.name) from None

    async def list(self, ctx: Context, *, options: ListOptions) -> reading.ListPage:
        return await reading.list_objects(self, ctx=ctx, options=options)

    async def watch(self, ctx: Context, *, options: ListOptions) -> reading.EventStream:
        return await reading.watch_objects(self, ctx=ctx, options=options)

    # -- create -------------------------------------------------------------------------

    async def create(self, ctx: Context, obj: Any) -> Obj:
        """Store a new object; the body as decoded (this call owns and mutates it)."""
        info = self.info
        obj = objectmeta.check_kind(info=info, obj=obj)
        objectmeta.match_namespace(info=info, obj=obj, namespace=ctx.namespace)
        meta = obj["metadata"]
        if meta.pop("resourceVersion", None):
            raise BadRequest("resourceVersion should not be set on objects to be created")
        await self._gate_namespace(ctx, obj)
        await self.admission.mutate(ctx=ctx, operation=Operation.CREATE, obj=obj, old=None)
        if not (meta.get("generateName") and not meta.get("name")):
            return await self._create_once(ctx, obj)
        pristine = copy_obj(obj)
        for attempt in range(GENERATE_NAME_ATTEMPTS):
            candidate = obj if attempt == 0 else copy_obj(pristine)
            try:
                return await self._create_once(ctx, candidate)
            except AlreadyExists:
                if attempt == GENERATE_NAME_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _create_once(self, ctx: Context, obj: Obj) -> Obj:
        meta = obj["metadata"]
        objectmeta.fill_system_fields(meta)
        objectmeta.generate_name(meta)
        name = objectmeta.check_name(info=self.info, obj=obj)
        key = self.key(namespace=meta.get("namespace") or "", name=name)
        stored = False
        finish = await self.strategy.begin_create(ctx=ctx, obj=obj)
        try:
            warnings = self._prepare_create(ctx, obj, self.strategy)
            await self.admission.validate(ctx=ctx, operation=Operation.CREATE, obj=obj, old=None)
            if ctx.dry_run:
                await self._refuse_existing(key, name)
                result = obj
            else:
                try:
                    result = await self.storage.create(key, obj)
                except AlreadyExists:
                    raise await self._already_exists(key, name) from None
                stored = True
        finally:
            if finish is not None:
                await finish(stored)
        for warning in warnings:
            ctx.warn(warning)
        if stored:
            await self.strategy.after_create(ctx=ctx, obj=result)
        return result

    def _prepare_create(self, ctx: Context, obj: Obj, strategy: Strategy) -> Warnings:
        strategy.prepare_for_create(ctx=ctx, obj=obj)
        warnings = strategy.validate(ctx=ctx, obj=obj)
        strategy.canonicalize(obj=obj)
        kpatch.update_managed_fields(
            None,
            obj,
            manager=ctx.field_manager,
            operation=MANAGER_OPERATION_UPDATE,
            subresource=ctx.subresource,
            api_version=self.info.api_version,
        )
        return warnings

    async def _refuse_existing(self, key: str, name: str) -> None:
        try:
            await self.storage.get(key)
        except NotFound:
            return
        raise await self._already_exists(key, name)

    async def _already_exists(self, key: str, name: str) -> AlreadyExists:
        err = AlreadyExists.of(resource=self.info.resource, group=self.info.group, name=name)
        try:
            existing = await self.storage.get(key)
        except NotFound:
            return err
        if existing.get("metadata", {}).get("deletionTimestamp"):
            err = AlreadyExists(f"object is being deleted: {err.message}", details=err.details)
        return err

    async def _gate_namespace(self, ctx: Context, obj: Obj) -> None:
        if self.info.namespaced and self.namespace_gate is not None:
            await self.namespace_gate(ctx, obj)

    # -- update -------------------------------------------------------------------------

    async def update(self, ctx: Context, obj: Any, *, strategy: Strategy | None = None) -> tuple[Obj, bool]:
        """PUT: replace the object named by ``ctx`` with ``obj``. Returns (object, created)."""
        info = self.info
        obj = objectmeta.check_kind(info=info, obj=obj)
        objectmeta.match_name(obj=obj, name=ctx.name)
        objectmeta.match_namespace(info=info, obj=obj, namespace=ctx.namespace)
        # The pipeline mutates what it is given; a retry needs the body as sent.
        pristine = copy_obj(obj)
        first = True

        async def transform(current: Obj | None) -> Obj:
            nonlocal first
            body = obj if first else copy_obj(pristine)
            first = False
            return body

        return await self.guaranteed_update(ctx, transform, strategy=strategy)

    async def patch(
        self,
        ctx: Context,
        *,
        patch_type: str,
        patch: Any,
        force: bool = False,
        strategy: Strategy | None = None,
    ) -> tuple[Obj, bool]:
        """PATCH: apply ``patch`` (decoded) to the stored object, inside the
        compare-and-swap loop. Apply patches create absent objects."""
        strategy = strategy or self.strategy
        transform = patching.transform(
            info=self.info, ctx=ctx, strategy=strategy, patch_type=patch_type, patch=patch, force=force
        )
        applying = patch_type == negotiation.APPLY_PATCH
        return await self.guaranteed_update(
            ctx, transform, strategy=strategy, force_allow_create=applying, track_managed_fields=not applying
        )

    async def guaranteed_update(
        self,
        ctx: Context,
        transform: Transform,
        *,
        strategy: Strategy | None = None,
        force_allow_create: bool = False,
        track_managed_fields: bool = True,
    ) -> tuple[Obj, bool]:
        """The one update path. ``transform`` may run more than once (on a lost race);
        it must build its result from the object it is given. Returns (object, created).
        Subresource handlers call this with their own transform and strategy."""
        strategy = strategy or self.strategy
        key = self.key(namespace=ctx.namespace, name=ctx.name)
        allow_create = strategy.allow_create_on_update or force_allow_create
        finishes: Finishes = []
        outcome: dict[str, Any] = {"creating": False, "warnings": []}

        async def attempt(current: Obj) -> Obj | None:
            for stale in finishes:
                await stale(False)
            finishes.clear()
            outcome["creating"] = False
            if not current:
                if not allow_create:
                    raise NotFound.of(resource=self.info.resource, group=self.info.group, name=ctx.name)
                new = await transform(None)
                outcome["creating"] = True
                outcome["warnings"] = await self._create_via_update(ctx, new, strategy, finishes, track_managed_fields)
                return new
            new = await transform(current)
            result = await self._update_existing(ctx, new, current, strategy, finishes, track_managed_fields)
            outcome["warnings"] = result[1]
            return result[0]

        stored = False
        try:
            if ctx.dry_run:
                result = await self._dry_run_update(key, attempt, allow_create=allow_create)
            else:
                result = await self.storage.guaranteed_update(key, attempt, ignore_not_found=allow_create)
                stored = True
        except _EmptiedFinalizers as done:
            for finish in finishes:
                await finish(False)
            return await deletion.delete_emptied(self, ctx, done.obj), False
        except (NotFound, AlreadyExists, Conflict) as err:
            raise self._rewrite(err, ctx.name) from None
        finally:
            for finish in finishes:
                await finish(stored)
            finishes.clear()
        for warning in outcome["warnings"]:
            ctx.warn(warning)
        creating: bool = outcome["creating"]
        if stored:
            if creating:
                await strategy.after_create(ctx=ctx, obj=result)
            else:
                await strategy.after_update(ctx=ctx, obj=result)
        return result, creating

    async def _create_via_update(
        self, ctx: Context, obj: Obj, strategy: Strategy, finishes: Finishes, track_fields: bool
    ) -> Warnings:
        meta = obj["metadata"]
        meta.pop("resourceVersion", None)
        for field in ("creationTimestamp", "uid", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(field, None)
        objectmeta.fill_system_fields(meta)
        objectmeta.check_name(info=self.info, obj=obj)
        await self._gate_namespace(ctx, obj)
        await self.admission.mutate(ctx=ctx, operation=Operation.CREATE, obj=obj, old=None)
        finish = await strategy.begin_create(ctx=ctx, obj=obj)
        if finish is not None:
            finishes.append(finish)
        strategy.prepare_for_create(ctx=ctx, obj=obj)
        warnings = strategy.validate(ctx=ctx, obj=obj)
        strategy.canonicalize(obj=obj)
        await self.admission.validate(ctx=ctx, operation=Operation.CREATE, obj=obj, old=None)
        if track_fields:
            kpatch.update_managed_fields(
                None,
                obj,
                manager=ctx.field_manager,
                operation=MANAGER_OPERATION_UPDATE,
                subresource=ctx.subresource,
                api_version=self.info.api_version,
            )
        return warnings

    async def _update_existing(
        self,
        ctx: Context,
        new: Obj,
        current: Obj,
        strategy: Strategy,
        finishes: Finishes,
        track_fields: bool,
    ) -> tuple[Obj | None, Warnings]:
        info = self.info
        meta, old_meta = new["metadata"], current["metadata"]
        sent_rv = meta.get("resourceVersion")
        if sent_rv:
            if str(sent_rv) != str(old_meta.get("resourceVersion")):
                raise Conflict.of(resource=info.resource, group=info.group, name=ctx.name)
        elif not strategy.allow_unconditional_update:
            raise Invalid.of(
                kind=info.resource,
                group=info.group,
                name=ctx.name,
                errors=[invalid("metadata.resourceVersion", 0, "must be specified for an update")],
            )
        else:
            # Last write wins: the update is made against what is stored now.
            meta["resourceVersion"] = old_meta.get("resourceVersion")
        await self.admission.mutate(ctx=ctx, operation=Operation.UPDATE, obj=new, old=current)
        objectmeta.carry_over(meta=meta, old_meta=old_meta)
        finish = await strategy.begin_update(ctx=ctx, obj=new, old=current)
        if finish is not None:
            finishes.append(finish)
        strategy.prepare_for_update(ctx=ctx, obj=new, old=current)
        meta = new["metadata"]
        errors = objectmeta.update_errors(meta=meta, old_meta=old_meta)
        if errors:
            raise Invalid.of(kind=info.kind, group=info.group, name=ctx.name, errors=errors)
        warnings = strategy.validate_update(ctx=ctx, obj=new, old=current)
        strategy.canonicalize(obj=new)
        await self.admission.validate(ctx=ctx, operation=Operation.UPDATE, obj=new, old=current)
        if objectmeta.same_ignoring_bookkeeping(new, current):
            return None, warnings
        if track_fields:
            kpatch.update_managed_fields(
                current,
                new,
                manager=ctx.field_manager,
                operation=MANAGER_OPERATION_UPDATE,
                subresource=ctx.subresource,
                api_version=info.api_version,
            )
        if objectmeta.should_delete_during_update(obj=new, old=current) and strategy.should_delete_during_update(
            obj=new, old=current
        ):
            raise _EmptiedFinalizers(new)
        return new, warnings

    async def _dry_run_update(
        self, key: str, attempt: Callable[[Obj], Awaitable[Obj | None]], *, allow_create: bool
    ) -> Obj:
        """What ``guaranteed_update`` would store, computed and not written."""
        try:
            current = await self.storage.get(key)
        except NotFound:
            if not allow_create:
                raise
            current = {}
        result = await attempt(copy_obj(current) if current else {})
        if result is None:
            return current
        if current:
            result["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion", "")
        return result

    # -- delete -------------------------------------------------------------------------

    async def delete(self, ctx: Context, *, options: DeleteOptions) -> tuple[Obj, bool]:
        """DELETE one object. Returns (what to answer, deleted now)."""
        return await deletion.delete(self, ctx, options=options)

    async def delete_collection(self, ctx: Context, *, options: DeleteOptions, list_options: ListOptions) -> Obj:
        return await deletion.delete_collection(self, ctx, options=options, list_options=list_options)
