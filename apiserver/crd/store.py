"""DELETE of a CustomResourceDefinition: marked first, removed once its objects are gone.

Deleting a CRD must delete every object of its resource, which takes time, and must
not leave those objects behind if the server stops half-way. Kubernetes' CRD REST
storage therefore turns the first DELETE into an update: it sets the
``deletionTimestamp``, adds the ``customresourcecleanup.apiextensions.k8s.io``
finalizer and a ``Terminating`` condition. The controller then deletes the objects and
removes the finalizer, which completes the deletion through the ordinary finalizer
path of the store. A DELETE of a CRD already being deleted is answered as usual.
"""

from __future__ import annotations

from apiserver.registry import Context, DeleteOptions, ResourceStore
from apiserver.registry.deletion import check_preconditions
from apiserver.registry.strategy import Obj
from apiserver.storage.interface import Preconditions
from kube import crd as kcrd
from kube import meta as kmeta
from kube.errors import Conflict, NotFound


class CRDStore(ResourceStore):
    async def delete(self, ctx: Context, *, options: DeleteOptions) -> tuple[Obj, bool]:
        key = self.key(namespace="", name=ctx.name)
        try:
            current = await self.storage.get(key)
        except NotFound:
            raise NotFound.of(resource=self.info.resource, group=self.info.group, name=ctx.name) from None
        check_preconditions(store=self, obj=current, options=options)
        if current["metadata"].get("deletionTimestamp"):
            return await super().delete(ctx, options=options)

        async def mark(existing: Obj) -> Obj:
            meta = existing["metadata"]
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = kmeta.now()
                meta["deletionGracePeriodSeconds"] = 0
            finalizers = meta.setdefault("finalizers", [])
            if kcrd.CLEANUP_FINALIZER not in finalizers:
                finalizers.append(kcrd.CLEANUP_FINALIZER)
            status = existing.setdefault("status", {})
            kcrd.status.terminating(
                status,
                reason="InstanceDeletionPending",
                message="CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
            )
            return existing

        if ctx.dry_run:
            return await mark(current), False
        preconditions = Preconditions(uid=current["metadata"].get("uid"))
        try:
            out = await self.storage.guaranteed_update(key, mark, preconditions=preconditions)
        except NotFound:
            raise NotFound.of(resource=self.info.resource, group=self.info.group, name=ctx.name) from None
        except Conflict:
            raise Conflict.of(resource=self.info.resource, group=self.info.group, name=ctx.name) from None
        return out, False
