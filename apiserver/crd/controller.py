"""The controller inside the API server that turns CRDs into served resources.

kube-apiextensions-server runs several controllers over CRDs; with one API server
they fit in one level-based reconcile per CRD name:

- **names and conditions** — work out ``status.acceptedNames`` against the other CRDs
  of the group and set ``NamesAccepted`` and ``Established`` (``kube.crd.status``);
- **serving** — once established, serve every served version (``serving.py``), and
  follow CRD updates; a CRD that is gone is no longer served;
- **cleanup** — a CRD being deleted (``store.py`` marked it) has every object of its
  resource deleted; once none is left its finalizer is removed, which deletes it.

It reads CRDs from the watch cache of ``customresourcedefinitions`` (no extra storage
watch), queues names in a de-duplicating work queue, and writes through the CRD
store, so its writes are validated and compare-and-swapped like any client's. At
start it serves every existing CRD before returning, so the server listens with
them already served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from apiserver.registry import API, Context, DeleteOptions, ResourceStore
from apiserver.registry.deletion import delete
from apiserver.registry.store import copy_obj
from kube import crd as kcrd
from kube.errors import Conflict, NotFound, StatusError
from kube.model import FieldValidation
from kube.workqueue import RateLimitingQueue, ShutDown

from .serving import Serving

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
MANAGER = "kube-apiserver"
CLEANUP_RECHECK = 1.0
"""Seconds between checks of a deleted CRD whose objects are still finalizing."""


class CRDController:
    def __init__(self, *, api: API) -> None:
        self.api = api
        store = api.store(group=kcrd.GROUP, version="v1", resource="customresourcedefinitions")
        assert store is not None and store.cacher is not None
        self.store: ResourceStore = store
        self.serving = Serving(api=api)
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(name="crd")
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Serve every CRD that exists now, then follow changes in the background."""
        items, revision = self._cacher().list()
        for crd in items:
            await self._sync_logged(crd["metadata"]["name"])
        self._tasks = [
            asyncio.create_task(self._watch(revision), name="crd-watch"),
            asyncio.create_task(self._worker(), name="crd-worker"),
        ]

    async def stop(self) -> None:
        """Stop following CRDs and stop serving them (their printers, OpenAPI schemas
        and apply schemas are process-wide registrations that must not outlive us)."""
        self.queue.shut_down()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for name in list(self.serving.served):
            await self.serving.unserve(name)

    def _cacher(self) -> Any:
        assert self.store.cacher is not None
        return self.store.cacher

    async def _watch(self, revision: int) -> None:
        """Queue the name of every CRD that changes; after a broken watch, requeue all."""
        while True:
            try:
                watcher = self._cacher().watch(revision=revision)
                async for event in watcher:
                    name = (event.object.get("metadata") or {}).get("name")
                    if name:
                        self.queue.add(name)
                    revision = max(revision, event.revision)
            except asyncio.CancelledError:
                raise
            except StatusError as err:
                logger.info("CRD watch ended (%s); relisting", err.message)
            except Exception:
                logger.exception("CRD watch failed; relisting")
            await asyncio.sleep(0.2)
            with contextlib.suppress(StatusError):
                items, revision = self._cacher().list()
                for name in {i["metadata"]["name"] for i in items} | set(self.serving.served):
                    self.queue.add(name)

    async def _worker(self) -> None:
        while True:
            try:
                name = await self.queue.get()
            except ShutDown:
                return
            try:
                requeue = await self.sync(name)
            except Exception:
                logger.exception("syncing CRD %s failed; retrying", name)
                self.queue.add_rate_limited(name)
            else:
                self.queue.forget(name)
                if requeue:
                    self.queue.add_after(name, CLEANUP_RECHECK)
            finally:
                self.queue.done(name)

    async def _sync_logged(self, name: str) -> None:
        try:
            await self.sync(name)
        except Exception:
            logger.exception("serving CRD %s at start failed; will retry", name)
            self.queue.add_rate_limited(name)

    # -- reconcile -----------------------------------------------------------------------

    def _ctx(self, name: str, *, subresource: str = "") -> Context:
        return Context(info=self.store.info, name=name, subresource=subresource, field_manager=MANAGER,
                       field_validation=FieldValidation.IGNORE)

    async def sync(self, name: str) -> bool:
        """Bring what is served for CRD ``name`` in line with it. True: look again soon."""
        try:
            crd = await self.store.get(self._ctx(name))
        except NotFound:
            await self.serving.unserve(name)
            return False
        if crd["metadata"].get("deletionTimestamp"):
            self.serving.terminating(name)
            if kcrd.CLEANUP_FINALIZER in (crd["metadata"].get("finalizers") or ()):
                return await self._cleanup(crd)
            return False
        crd = await self._update_status(crd)
        if kcrd.status.is_true(crd, kcrd.ESTABLISHED):
            await self.serving.serve(kcrd.compile_crd(crd))
        return False

    async def _update_status(self, crd: Obj) -> Obj:
        # Other CRDs' accepted names come from storage, not the cache: a name accepted a
        # moment ago must already count, or two CRDs could both be given it.
        others = (await self.store.storage.list(self.store.prefix())).items
        wanted = kcrd.desired_status(crd, others)
        if kcrd.same_status(wanted, crd.get("status") or {}):
            return crd

        async def transform(current: Obj | None) -> Obj:
            if not current:
                raise NotFound.of(resource="customresourcedefinitions", group=kcrd.GROUP, name=crd["metadata"]["name"])
            new = copy_obj(current)
            new["status"] = kcrd.desired_status(current, others)
            return new

        name = crd["metadata"]["name"]
        updated, _ = await self.store.guaranteed_update(
            self._ctx(name, subresource="status"), transform, strategy=self.store.strategy.status_strategy()
        )
        accepted = kcrd.status.condition(updated, kcrd.NAMES_ACCEPTED) or {}
        if accepted.get("status") != "True":
            logger.info("CRD %s: names not accepted: %s", name, accepted.get("message"))
        return updated

    async def _cleanup(self, crd: Obj) -> bool:
        """Delete every object of a CRD being deleted; remove its finalizer when none is left."""
        name = crd["metadata"]["name"]
        store = self.serving.store_of(name)
        remaining = 0
        if store is not None:
            listing = await store.storage.list(store.prefix())
            for item in listing.items:
                meta = item.get("metadata") or {}
                if meta.get("deletionTimestamp"):
                    remaining += 1
                    continue
                ctx = Context(info=store.info, namespace=meta.get("namespace") or "", name=meta.get("name") or "",
                              field_manager=MANAGER)
                try:
                    _, gone = await delete(store, ctx, options=DeleteOptions())
                except NotFound:
                    continue
                remaining += not gone
        if remaining:
            await self._set_terminating(name, reason="InstanceDeletionCheck",
                                        message=f"could not confirm zero CustomResources remaining: "
                                                f"{remaining} still finalizing")
            return True

        async def without_finalizer(current: Obj | None) -> Obj:
            if not current:
                raise NotFound.of(resource="customresourcedefinitions", group=kcrd.GROUP, name=name)
            new = copy_obj(current)
            finalizers = [f for f in new["metadata"].get("finalizers") or () if f != kcrd.CLEANUP_FINALIZER]
            new["metadata"]["finalizers"] = finalizers
            return new

        await self.serving.unserve(name)
        try:
            await self.store.guaranteed_update(self._ctx(name), without_finalizer)
        except (NotFound, Conflict):
            pass
        logger.info("CRD %s: removed all instances", name)
        return False

    async def _set_terminating(self, name: str, *, reason: str, message: str) -> None:
        async def transform(current: Obj | None) -> Obj:
            if not current:
                raise NotFound.of(resource="customresourcedefinitions", group=kcrd.GROUP, name=name)
            new = copy_obj(current)
            kcrd.status.terminating(new.setdefault("status", {}), reason=reason, message=message)
            return new

        with contextlib.suppress(NotFound):
            await self.store.guaranteed_update(
                self._ctx(name, subresource="status"), transform, strategy=self.store.strategy.status_strategy()
            )
