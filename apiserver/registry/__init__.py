"""The registry: one ``ResourceStore`` (and watch cache) per stored resource.

``API`` is what the HTTP layer talks to. It builds a store for every stored resource in
the ``kube.resources`` registry, with that resource's strategy (``strategies.py``) and
its own watch cache, starts and stops the caches with the server, answers "does this
namespace accept new objects?" for every namespaced create, and keeps the subresource
handlers. Custom resources are added and removed at run time with ``add_resource``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from apiserver.storage.interface import Storage
from apiserver.watchcache import Cacher
from kube import fields
from kube.errors import Forbidden, NotFound, StatusError
from kube.resources import BUILTIN, Registry, ResourceInfo

from .admission import Admission
from .context import Context
from .options import DeleteOptions, ListOptions, PropagationPolicy, ResourceVersionMatch
from .store import ResourceStore
from .strategies import register_strategy, strategy_for
from .strategy import GCPolicy, Strategy
from .subresources import Reply, SubresourceHandler, SubresourceRequest, Subresources, install_defaults

__all__ = [
    "API",
    "Context",
    "DeleteOptions",
    "GCPolicy",
    "ListOptions",
    "PropagationPolicy",
    "Reply",
    "ResourceStore",
    "ResourceVersionMatch",
    "Strategy",
    "SubresourceHandler",
    "SubresourceRequest",
    "Subresources",
    "register_store_class",
    "register_strategy",
]

Obj = dict[str, Any]
_BUILTIN = frozenset((info.group, info.resource) for info in BUILTIN)
# The cache keeps pods indexed by node, so each kubelet's watch and list touch only its pods.
_INDEX_FIELDS = {("", "pods"): "spec.nodeName"}
_STORE_CLASSES: dict[tuple[str, str], type[ResourceStore]] = {}


def register_store_class(*, group: str, resource: str, store_class: type[ResourceStore]) -> None:
    """Serve a resource with a ``ResourceStore`` subclass, for REST behaviour a strategy
    cannot express (a CRD's DELETE first marks it and adds its cleanup finalizer).
    Call before the ``API`` is built."""
    _STORE_CLASSES[(group, resource)] = store_class


class API:
    def __init__(
        self,
        *,
        storage: Storage,
        resources: Registry,
        admission: Admission | None = None,
        cacher_options: dict[str, Any] | None = None,
    ) -> None:
        self.storage = storage
        self.resources = resources
        self.admission = admission
        self.subresources = Subresources()
        self._cacher_options = cacher_options or {}
        self._stores: dict[tuple[str, str, str], ResourceStore] = {}
        self._started = False
        for info in resources:
            if info.stored:
                self._stores[(info.group, info.version, info.resource)] = self._build(info)
        install_defaults(self.subresources, resources=list(resources))
        _resources.install(self)

    def _build(
        self, info: ResourceInfo, *, strategy: Strategy | None = None, storage: Storage | None = None
    ) -> ResourceStore:
        builtin = (info.group, info.resource) in _BUILTIN
        storage = storage or self.storage
        store_class = _STORE_CLASSES.get((info.group, info.resource), ResourceStore)
        store = store_class(
            info=info,
            strategy=strategy or strategy_for(info),
            storage=storage,
            cacher=None,
            storage_resource=info.resource if builtin else f"{info.group}/{info.resource}",
            namespace_gate=self._namespace_gate,
            admission=self.admission,
        )
        resource = info.resource

        def fields_of(obj: Obj) -> dict[str, str]:
            return fields.object_fields(resource, obj)

        store.cacher = Cacher(
            storage=storage,
            resource=info.resource,
            prefix=store.prefix(),
            fields_of=fields_of,
            kind=info.kind,
            api_version=info.api_version,
            index_field=_INDEX_FIELDS.get((info.group, info.resource)),
            **self._cacher_options,
        )
        return store

    # -- lookup ------------------------------------------------------------------------

    def store(self, *, group: str, version: str, resource: str) -> ResourceStore | None:
        return self._stores.get((group, version, resource))

    def store_for(self, info: ResourceInfo) -> ResourceStore:
        store = self._stores.get((info.group, info.version, info.resource))
        if store is None:
            raise NotFound("the server could not find the requested resource")
        return store

    def stores(self) -> list[ResourceStore]:
        return list(self._stores.values())

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Fill every watch cache (concurrently) and start following storage."""
        await asyncio.gather(*(s.cacher.start() for s in self._stores.values() if s.cacher is not None))
        self._started = True

    async def stop(self) -> None:
        self._started = False
        await asyncio.gather(*(s.cacher.stop() for s in self._stores.values() if s.cacher is not None))

    async def add_resource(
        self, info: ResourceInfo, *, strategy: Strategy | None = None, storage: Storage | None = None
    ) -> ResourceStore:
        """Serve a resource defined at run time (a CustomResourceDefinition's), with its
        own strategy and, for a version other than the storage version, a storage
        view that converts objects to and from that version."""
        key = (info.group, info.version, info.resource)
        store = self._stores.get(key)
        if store is None:
            store = self._stores[key] = self._build(info, strategy=strategy, storage=storage)
            if self._started and store.cacher is not None:
                await store.cacher.start()
        else:
            store.info = info  # short names, categories or subresources may have changed
            if strategy is not None:
                store.strategy = strategy
        # Routed only once its store is ready (the cache filled): no request meets a half-built resource.
        self.resources.add(info)
        if info.stored and "status" in info.subresources:
            install_defaults(self.subresources, resources=[info])
        return store

    async def remove_resource(self, *, group: str, version: str, resource: str) -> None:
        self.resources.remove(group=group, version=version, resource=resource)
        store = self._stores.pop((group, version, resource), None)
        if store is not None and store.cacher is not None:
            await store.cacher.stop()

    # -- namespace lifecycle -----------------------------------------------------------

    async def _namespace_gate(self, ctx: Context, obj: Obj) -> None:
        """Kubernetes' NamespaceLifecycle admission for creates: the namespace must exist
        and not be terminating."""
        namespace = obj["metadata"].get("namespace") or ctx.namespace
        namespaces = self._stores[("", "v1", "namespaces")]
        key = namespaces.key(namespace="", name=namespace)
        found: Obj | None = None
        if namespaces.cacher is not None:
            try:
                found = namespaces.cacher.get(key)
            except StatusError:
                found = None  # cache (re)initializing: ask storage
        if found is None:
            # A namespace created a moment ago may not have reached the cache yet.
            try:
                found = await self.storage.get(key)
            except NotFound:
                raise NotFound.of(resource="namespaces", name=namespace) from None
        terminating = (found.get("metadata") or {}).get("deletionTimestamp") or (found.get("status") or {}).get(
            "phase"
        ) == "Terminating"
        if terminating:
            info = ctx.info
            name = obj["metadata"].get("name") or ""
            raise Forbidden.of(
                resource=info.resource,
                group=info.group,
                name=name,
                err=f"unable to create new content in namespace {namespace} because it is being terminated",
            )


# Per-resource behaviour (pods, services, namespaces, scale) registers its strategies and
# store classes on import; imported last because it uses the names defined above.
from . import resources as _resources  # noqa: E402
