"""Namespaces: DELETE starts termination; the namespace goes once ``/finalize`` empties it.

Deleting a namespace must not lose its contents behind the user's back, so Kubernetes
splits it in two (``pkg/registry/core/namespace/storage``):

1. the first DELETE only marks it — ``deletionTimestamp`` and ``status.phase:
   Terminating`` — and from then on nothing new may be created in it (the registry's
   namespace gate answers 403);
2. the namespace controller deletes the contents, then ``PUT …/finalize`` removes
   ``kubernetes`` from ``spec.finalizers``; an update that leaves both finalizer lists
   empty on a terminating namespace removes it, and so does a later DELETE.

kubesim has no namespace controller yet, so a deleted namespace stays Terminating until
someone finalizes it — exactly what a kube-apiserver without its controller manager
does (``kubectl delete ns x`` waits; ``--wait=false`` returns at once). The four system
namespaces can never be deleted, as the NamespaceLifecycle admission plugin decides.
"""

from __future__ import annotations

from kube import meta as kmeta
from kube.errors import Conflict, Forbidden, NotFound

from .. import strategies
from ..context import Context
from ..deletion import FOREGROUND_FINALIZER, ORPHAN_FINALIZER
from ..options import DeleteOptions, PropagationPolicy
from ..store import ResourceStore
from ..strategy import Obj, Strategy

IMMORTAL = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
TERMINATING = "Terminating"


def _spec_finalizers(obj: Obj) -> list[str]:
    spec = obj.get("spec")
    finalizers = spec.get("finalizers") if isinstance(spec, dict) else None
    return list(finalizers) if isinstance(finalizers, list) else []


class NamespaceStrategy(strategies.NamespaceStrategy):
    def should_delete_during_update(self, *, obj: Obj, old: Obj) -> bool:
        # ShouldDeleteNamespaceDuringUpdate: metadata finalizers are not enough.
        return not _spec_finalizers(obj)

    def finalize_strategy(self) -> Strategy:
        return NamespaceFinalizeStrategy(self)


class NamespaceFinalizeStrategy(strategies.NamespaceFinalizeStrategy):
    def should_delete_during_update(self, *, obj: Obj, old: Obj) -> bool:
        # The finalize store keeps the namespace's deletion rule: clearing the last
        # spec finalizer of a terminating namespace removes it.
        return not _spec_finalizers(obj)


def _gc_finalizers(current: list[str], options: DeleteOptions) -> list[str]:
    """The namespace registry's own rule for the orphan/foreground finalizers: the
    options decide when given, otherwise whatever the namespace already has stays."""
    orphan = ORPHAN_FINALIZER in current
    foreground = FOREGROUND_FINALIZER in current
    if options.orphan_dependents is not None:
        orphan = options.orphan_dependents
        foreground = not options.orphan_dependents
    elif options.propagation_policy is not None:
        orphan = options.propagation_policy is PropagationPolicy.ORPHAN
        foreground = options.propagation_policy is PropagationPolicy.FOREGROUND
    wanted = [f for f in current if f not in (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)]
    if orphan:
        wanted.append(ORPHAN_FINALIZER)
    if foreground:
        wanted.append(FOREGROUND_FINALIZER)
    return wanted


class NamespaceStore(ResourceStore):
    """The namespaces store, with Kubernetes' two-step DELETE."""

    async def delete(self, ctx: Context, *, options: DeleteOptions) -> tuple[Obj, bool]:
        name = ctx.name
        if name in IMMORTAL:
            raise Forbidden.of(resource="namespaces", name=name, err="this namespace may not be deleted")
        current = await self.get(ctx)
        meta = current["metadata"]
        self._check_preconditions(name=name, meta=meta, options=options)
        if not meta.get("deletionTimestamp"):
            return await self._begin_termination(ctx, options=options, uid=meta.get("uid")), False
        if _spec_finalizers(current):
            return current, False  # still waiting for the namespace controller
        return await super().delete(ctx, options=options)

    def _check_preconditions(self, *, name: str, meta: Obj, options: DeleteOptions) -> None:
        uid = options.precondition_uid
        if uid is not None and uid != meta.get("uid"):
            raise Conflict.of(
                resource="namespaces",
                name=name,
                err=f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta.get('uid')}",
            )
        rv = options.precondition_resource_version
        if rv is not None and rv != meta.get("resourceVersion"):
            raise Conflict.of(
                resource="namespaces",
                name=name,
                err=f"Precondition failed: ResourceVersion in precondition: {rv}, "
                f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
            )

    async def _begin_termination(self, ctx: Context, *, options: DeleteOptions, uid: str | None) -> Obj:
        key = self.key(namespace="", name=ctx.name)

        async def mark(existing: Obj) -> Obj:
            if uid is not None and existing["metadata"].get("uid") != uid:
                # Deleted and recreated since we read it: this DELETE was not meant for it.
                raise Conflict.of(resource="namespaces", name=ctx.name)
            meta = existing["metadata"]
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = kmeta.now()
            status = existing.get("status")
            if not isinstance(status, dict):
                status = existing["status"] = {}
            status["phase"] = TERMINATING
            current = list(meta.get("finalizers") or ())
            wanted = _gc_finalizers(current, options)
            if set(wanted) != set(current):
                meta["finalizers"] = wanted
            return existing

        if ctx.dry_run:
            return await mark(await self.get(ctx))
        try:
            return await self.storage.guaranteed_update(key, mark)
        except NotFound:
            raise NotFound.of(resource="namespaces", name=ctx.name) from None
