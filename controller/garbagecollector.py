"""The garbage collector: objects whose owners are gone are deleted.

An object names its owners in ``metadata.ownerReferences`` (a ReplicaSet its Deployment,
a Deployment the custom resource an operator made it for). Deleting an owner must, by
default, delete its dependents — but the API server only stores; this controller does
the rest, as kube-controller-manager's garbage collector does:

- it watches every resource that can own or be owned (the built-in kinds, and the kinds
  of every established CRD, followed as CRDs come and go) with informers, and keeps a
  graph: uid → object, owner uid → dependents;
- a dependent none of whose owners exists any more is deleted (background
  propagation); one that still has some owners loses only the dangling references;
- an owner deleted with ``propagationPolicy=Orphan`` (the ``orphan`` finalizer) has
  itself removed from its dependents' ownerReferences, then loses the finalizer;
- an owner deleted with ``Foreground`` (the ``foregroundDeletion`` finalizer) has its
  dependents deleted first and loses the finalizer once none is left.

"Gone" is decided carefully, since the caches lag: an owner missing from the graph is
looked up with a live GET before a dependent is deleted, and the DELETE carries the
dependent's uid as a precondition. Handlers only enqueue uids; workers reconcile one
uid at a time from the graph, with backoff on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from kube import crd as kcrd
from kube import meta
from kube.client import Client, Clock
from kube.errors import Conflict, NotFound, StatusError
from kube.informers import DeletedFinalStateUnknown, SharedInformer
from kube.resources import BUILTIN, ResourceInfo
from kube.workqueue import RateLimitingQueue, ShutDown

log = logging.getLogger(__name__)

Obj = dict[str, Any]
ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
CRDS = next(i for i in BUILTIN if i.resource == "customresourcedefinitions")
# Kinds the collector never deletes or waits on (events are not garbage-collected).
_SKIPPED = frozenset({("", "events")})


@dataclass(slots=True)
class Node:
    uid: str
    info: ResourceInfo
    namespace: str
    name: str
    owners: list[Obj] = field(default_factory=list)
    deleting: bool = False
    finalizers: tuple[str, ...] = ()


class Graph:
    """Objects by uid and, for each owner uid, the uids of its dependents."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.dependents: dict[str, set[str]] = {}

    def upsert(self, info: ResourceInfo, obj: Obj) -> Node:
        uid = meta.uid(obj)
        old = self.nodes.get(uid)
        if old is not None:
            for ref in old.owners:
                self.dependents.get(str(ref.get("uid")), set()).discard(uid)
        node = Node(uid=uid, info=info, namespace=meta.namespace(obj), name=meta.name(obj),
                    owners=[dict(r) for r in meta.owner_refs(obj)],
                    deleting=bool(obj["metadata"].get("deletionTimestamp")), finalizers=tuple(meta.finalizers(obj)))
        self.nodes[uid] = node
        for ref in node.owners:
            self.dependents.setdefault(str(ref.get("uid")), set()).add(uid)
        return node

    def remove(self, uid: str) -> Node | None:
        node = self.nodes.pop(uid, None)
        if node is not None:
            for ref in node.owners:
                self.dependents.get(str(ref.get("uid")), set()).discard(uid)
        return node


class GarbageCollector:
    def __init__(self, client: Client, *, clock: Clock | None = None, workers: int = 4) -> None:
        self.client = client
        self.clock = clock
        self.workers = workers
        self.graph = Graph()
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(clock=clock, name="garbagecollector")
        self.kinds: dict[tuple[str, str], ResourceInfo] = {}
        """(apiVersion group, kind) → the resource that serves it, for owner lookups."""
        self._informers: dict[tuple[str, str], SharedInformer] = {}

    # -- which resources are watched ------------------------------------------------------

    def _watch(self, info: ResourceInfo) -> SharedInformer | None:
        key = (info.group, info.resource)
        self.kinds[(info.group, info.kind)] = info
        if key in self._informers or key in _SKIPPED or not {"list", "watch", "delete"} <= set(info.verbs):
            return None
        informer = SharedInformer(self.client, info, clock=self.clock)
        informer.add_event_handler(
            on_add=lambda obj: self._changed(info, obj),
            on_update=lambda _old, obj: self._changed(info, obj),
            on_delete=lambda obj: self._deleted(obj),
            name=f"gc-{info.resource}",
        )
        self._informers[key] = informer
        return informer

    def _crd_changed(self, crd: Obj) -> None:
        if not kcrd.status.is_true(crd, kcrd.ESTABLISHED) or crd["metadata"].get("deletionTimestamp"):
            return
        try:
            resource = kcrd.compile_crd(crd)
        except Exception:
            log.exception("cannot read CRD %s", meta.name(crd))
            return
        info = resource.info(resource.storage_version if resource.storage_version in resource.versions else
                             resource.served_versions()[0].name)
        informer = self._watch(info)
        if informer is not None:
            informer.start()

    def _crd_deleted(self, crd: Any) -> None:
        if isinstance(crd, DeletedFinalStateUnknown):
            crd = crd.obj
        spec = crd.get("spec") or {}
        informer = self._informers.pop((spec.get("group", ""), (spec.get("names") or {}).get("plural", "")), None)
        if informer is not None:
            asyncio.get_running_loop().create_task(informer.stop())

    # -- event handlers: only update the graph and enqueue uids ----------------------------

    def _changed(self, info: ResourceInfo, obj: Obj) -> None:
        node = self.graph.upsert(info, obj)
        if node.deleting and (ORPHAN in node.finalizers or FOREGROUND in node.finalizers):
            self.queue.add(node.uid)
        if any(str(ref.get("uid")) not in self.graph.nodes or self._waiting(str(ref.get("uid")))
               for ref in node.owners):
            self.queue.add(node.uid)

    def _deleted(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            obj = obj.obj
        uid = meta.uid(obj)
        node = self.graph.remove(uid)
        for dependent in list(self.graph.dependents.get(uid, ())):
            self.queue.add(dependent)
        for ref in node.owners if node is not None else ():
            self.queue.add(str(ref.get("uid")))  # a foreground owner may be waiting for this one

    def _waiting(self, uid: str) -> bool:
        owner = self.graph.nodes.get(uid)
        return owner is not None and owner.deleting and FOREGROUND in owner.finalizers

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        for info in BUILTIN:
            if info.stored:
                self._watch(info)
        crds = SharedInformer(self.client, CRDS, clock=self.clock)
        crds.add_event_handler(on_add=self._crd_changed, on_update=lambda _old, new: self._crd_changed(new),
                               on_delete=self._crd_deleted, name="gc-crds")
        crds.start()
        for informer in list(self._informers.values()):
            informer.start()
        await crds.wait_for_sync()
        await asyncio.gather(*(i.wait_for_sync() for i in list(self._informers.values())))
        log.info("garbage collector synced %d resources", len(self._informers))
        try:
            await asyncio.gather(*(self._worker() for _ in range(self.workers)))
        finally:
            self.queue.shut_down()
            await crds.stop()
            await asyncio.gather(*(i.stop() for i in self._informers.values()))

    async def _worker(self) -> None:
        while True:
            try:
                uid = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.reconcile(uid)
            except (Conflict, StatusError) as err:
                log.info("garbage collecting %s: %s; retrying", uid, err)
                self.queue.add_rate_limited(uid)
            except Exception:
                log.exception("garbage collecting %s failed; retrying", uid)
                self.queue.add_rate_limited(uid)
            else:
                self.queue.forget(uid)
            finally:
                self.queue.done(uid)

    # -- reconcile --------------------------------------------------------------------------

    async def reconcile(self, uid: str) -> None:
        node = self.graph.nodes.get(uid)
        if node is None:
            return
        if node.deleting and ORPHAN in node.finalizers:
            await self._orphan(node)
        elif node.deleting and FOREGROUND in node.finalizers:
            await self._foreground(node)
        elif node.owners and not node.deleting:
            await self._attempt_to_delete(node)

    async def _owner_exists(self, node: Node, ref: Obj) -> bool:
        """Whether the object ``ref`` names exists with that uid (graph first, then a GET)."""
        if str(ref.get("uid")) in self.graph.nodes:
            return True
        group = str(ref.get("apiVersion") or "").rpartition("/")[0]
        info = self.kinds.get((group, str(ref.get("kind") or "")))
        if info is None:
            return True  # a kind we cannot look up: never delete on a guess
        try:
            owner = await self.client.get(info, name=str(ref.get("name") or ""),
                                          namespace=node.namespace if info.namespaced else "")
        except NotFound:
            return False
        return meta.uid(owner) == ref.get("uid")

    async def _attempt_to_delete(self, node: Node) -> None:
        solid, dangling, waiting = [], [], []
        for ref in node.owners:
            if self._waiting(str(ref.get("uid"))):
                waiting.append(ref)
            elif await self._owner_exists(node, ref):
                solid.append(ref)
            else:
                dangling.append(ref)
        if solid:
            if dangling:
                await self._drop_owner_refs(node, {str(r.get("uid")) for r in dangling})
            return
        policy = "Foreground" if waiting and any(r.get("blockOwnerDeletion") for r in waiting) else "Background"
        log.info("deleting %s %s/%s: its owners are gone", node.info.kind, node.namespace, node.name)
        with contextlib.suppress(NotFound):
            await self.client.delete(node.info, name=node.name, namespace=node.namespace, propagation_policy=policy,
                                     preconditions={"uid": node.uid})

    async def _drop_owner_refs(self, node: Node, uids: set[str]) -> None:
        try:
            current = await self.client.get(node.info, name=node.name, namespace=node.namespace)
        except NotFound:
            return
        refs = [r for r in meta.owner_refs(current) if str(r.get("uid")) not in uids]
        # An empty list is left out, as the API server's encoding would leave it out.
        change = ({"op": "replace", "path": "/metadata/ownerReferences", "value": refs} if refs
                  else {"op": "remove", "path": "/metadata/ownerReferences"})
        await self.client.patch(node.info, name=node.name, namespace=node.namespace, patch_type="json", patch=[
            {"op": "test", "path": "/metadata/resourceVersion", "value": current["metadata"]["resourceVersion"]},
            change,
        ])

    async def _orphan(self, owner: Node) -> None:
        for uid in list(self.graph.dependents.get(owner.uid, ())):
            dependent = self.graph.nodes.get(uid)
            if dependent is not None:
                await self._drop_owner_refs(dependent, {owner.uid})
        await self._remove_finalizer(owner, ORPHAN)

    async def _foreground(self, owner: Node) -> None:
        dependents = [self.graph.nodes[u] for u in self.graph.dependents.get(owner.uid, ()) if u in self.graph.nodes]
        if not dependents:
            await self._remove_finalizer(owner, FOREGROUND)
            return
        for dependent in dependents:
            if not dependent.deleting:
                with contextlib.suppress(NotFound):
                    await self.client.delete(dependent.info, name=dependent.name, namespace=dependent.namespace,
                                             propagation_policy="Foreground", preconditions={"uid": dependent.uid})

    async def _remove_finalizer(self, node: Node, finalizer: str) -> None:
        try:
            current = await self.client.get(node.info, name=node.name, namespace=node.namespace)
        except NotFound:
            return
        if meta.uid(current) != node.uid or finalizer not in meta.finalizers(current):
            return
        remaining = [f for f in meta.finalizers(current) if f != finalizer]
        await self.client.patch(node.info, name=node.name, namespace=node.namespace, patch_type="json", patch=[
            {"op": "test", "path": "/metadata/resourceVersion", "value": current["metadata"]["resourceVersion"]},
            {"op": "replace", "path": "/metadata/finalizers", "value": remaining},
        ])
