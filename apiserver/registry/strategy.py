"""Per-resource behaviour, as hooks the generic store calls at fixed points.

Kubernetes keeps one generic store (``genericregistry.Store``) and gives each resource a
*strategy*: small methods called at known moments of create, update and delete
(``PrepareForCreate``, ``Validate``, ``PrepareForUpdate``, ``CheckGracefulDelete``, ...).
The store owns the hard parts — storage, concurrency, deletion, dry-run — and a
resource only says how it differs. This module is the base class with the defaults
that are right for most kinds; ``strategies.py`` holds the few subclasses.

Hook order on create: ``begin_create`` → ``prepare_for_create`` → ``validate`` →
``canonicalize`` → (store) → finish(True) → ``after_create``. On update:
``begin_update`` → ``prepare_for_update`` → ``validate_update`` → ``canonicalize`` →
(store) → finish(True) → ``after_update``. On delete: ``check_graceful_delete`` decides
between removing now and marking with a deletionTimestamp; ``after_delete`` runs once
the object is gone. ``begin_*`` hooks may reserve something (a ClusterIP, a NodePort)
and return a finish function told whether the write succeeded, so a failed or dry-run
write gives the reservation back.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Any

from kube import model
from kube.resources import ResourceInfo

from .context import Context
from .options import DeleteOptions

Obj = dict[str, Any]
FinishFunc = Callable[[bool], Awaitable[None]]
"""Called once after the write with ``True`` if it was stored, ``False`` otherwise."""


class GCPolicy(enum.Enum):
    """What deleting an owner does to its dependents when the client does not say."""

    BACKGROUND = "Background"
    ORPHAN = "Orphan"
    UNSUPPORTED = "Unsupported"
    """The garbage collector never handles this kind; no GC finalizers are added."""


class Strategy:
    """Default behaviour. Subclass and override only what differs for a resource."""

    tracks_generation: bool = False
    """``metadata.generation`` is 1 on create and bumped when ``generation_inputs``
    change, so controllers can report ``status.observedGeneration``."""
    reset_status_on_create: bool = True
    """Clear ``status`` on create (only for kinds with a status subresource)."""
    allow_create_on_update: bool = False
    """PUT of an absent object creates it."""
    allow_unconditional_update: bool = True
    """PUT without ``metadata.resourceVersion`` overwrites (last write wins)."""
    return_deleted_object: bool = False
    """DELETE answers with the object rather than a ``Status`` of success."""
    gc_policy: GCPolicy = GCPolicy.BACKGROUND
    supports_graceful_deletion: bool = False
    """Whether ``check_graceful_delete`` is consulted (Kubernetes' RESTGracefulDeleteStrategy);
    only then does a deletionTimestamp with a grace period left hold a DELETE back."""
    supports_strategic_merge: bool = True
    """False for kinds without a built-in schema (custom resources): Kubernetes answers
    a strategic merge patch for them with 415."""

    def __init__(self, info: ResourceInfo) -> None:
        self.info = info
        self.has_status = "status" in info.subresources
        """Writes to the object ignore ``status``; writes to ``/status`` ignore the rest."""

    # -- create -------------------------------------------------------------------------

    def prepare_for_create(self, *, ctx: Context, obj: Obj) -> None:
        """Clear what a client may not set on create."""
        if self.has_status and self.reset_status_on_create:
            obj["status"] = {}
        meta = obj["metadata"]
        if self.tracks_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)

    def validate(self, *, ctx: Context, obj: Obj) -> list[str]:
        """Default and validate a new object; raise Invalid listing every cause. Returns
        warnings for the client."""
        return model.prepare_create(obj, mode=ctx.field_validation)

    # -- update -------------------------------------------------------------------------

    def prepare_for_update(self, *, ctx: Context, obj: Obj, old: Obj) -> None:
        """Restore what a client may not change with this kind of write."""
        if self.has_status:
            if "status" in old:
                obj["status"] = old["status"]
            else:
                obj.pop("status", None)
        if self.tracks_generation and self.generation_inputs(obj) != self.generation_inputs(old):
            meta = obj["metadata"]
            meta["generation"] = (old["metadata"].get("generation") or 0) + 1

    def generation_inputs(self, obj: Obj) -> Any:
        """What a generation bump watches: the spec, by default."""
        return obj.get("spec")

    def validate_update(self, *, ctx: Context, obj: Obj, old: Obj) -> list[str]:
        return model.prepare_update(obj, old=old, mode=ctx.field_validation)

    def canonicalize(self, *, obj: Obj) -> None:
        """Normalise a validated object before it is stored (e.g. sort a set-like list)."""

    def should_delete_during_update(self, *, obj: Obj, old: Obj) -> bool:
        """Extra condition for removing an object whose last finalizer an update just
        cleared (the generic condition is checked by the store)."""
        return True

    # -- delete -------------------------------------------------------------------------

    def check_graceful_delete(self, *, ctx: Context, obj: Obj, options: DeleteOptions) -> int | None:
        """The grace period, in seconds, for a graceful deletion (the object is marked
        with a deletionTimestamp and removed later by whoever finishes it, as the
        kubelet does for pods), or None to delete at once. Only called when
        ``supports_graceful_deletion`` is set."""
        return None

    # -- transactions -------------------------------------------------------------------

    async def begin_create(self, *, ctx: Context, obj: Obj) -> FinishFunc | None:
        """Reserve what the object needs before it is validated and stored."""
        return None

    async def begin_update(self, *, ctx: Context, obj: Obj, old: Obj) -> FinishFunc | None:
        return None

    async def after_create(self, *, ctx: Context, obj: Obj) -> None:
        """Runs once the object is stored (not on dry-run)."""

    async def after_update(self, *, ctx: Context, obj: Obj) -> None:
        """Runs once the update is stored (not on dry-run)."""

    async def after_delete(self, *, ctx: Context, obj: Obj) -> None:
        """Runs once the object is gone from storage (not on dry-run)."""

    # -- subresources -------------------------------------------------------------------

    def status_strategy(self) -> Strategy:
        """The strategy for writes to ``/status``."""
        return StatusStrategy(self)


class StatusStrategy(Strategy):
    """Writes through ``/status`` change only ``status``: everything else, metadata
    included except managedFields, is taken from the stored object (Kubernetes'
    ``ResetObjectMetaForStatus`` plus each kind's status strategy)."""

    def __init__(self, parent: Strategy) -> None:
        super().__init__(parent.info)
        self.parent = parent
        self.tracks_generation = parent.tracks_generation
        self.allow_unconditional_update = parent.allow_unconditional_update
        self.return_deleted_object = parent.return_deleted_object
        self.supports_strategic_merge = parent.supports_strategic_merge

    allow_create_on_update = False

    def prepare_for_update(self, *, ctx: Context, obj: Obj, old: Obj) -> None:
        status = obj.get("status")
        managed = obj["metadata"].get("managedFields")
        obj.clear()
        obj.update(old)
        meta = obj["metadata"] = dict(old["metadata"])
        if managed is not None:
            meta["managedFields"] = managed
        if status is None:
            obj.pop("status", None)
        else:
            obj["status"] = status

    def validate_update(self, *, ctx: Context, obj: Obj, old: Obj) -> list[str]:
        return self.parent.validate_update(ctx=ctx, obj=obj, old=old)

    def canonicalize(self, *, obj: Obj) -> None:
        self.parent.canonicalize(obj=obj)

    async def begin_update(self, *, ctx: Context, obj: Obj, old: Obj) -> FinishFunc | None:
        return None

    async def after_update(self, *, ctx: Context, obj: Obj) -> None:
        await self.parent.after_update(ctx=ctx, obj=obj)

    async def after_delete(self, *, ctx: Context, obj: Obj) -> None:
        await self.parent.after_delete(ctx=ctx, obj=obj)

    def should_delete_during_update(self, *, obj: Obj, old: Obj) -> bool:
        # A status write never changes finalizers, so it never completes a deletion.
        return False
