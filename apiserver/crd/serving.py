"""Serving the resource of an established CRD, and ceasing to.

For every served version of a CRD the API server needs four things, and this module
keeps them in step with the CRD: a store (its strategy runs the version's schema
pipeline; its storage view converts objects to that version), the routes — entries in
the resource registry, which discovery and the OpenAPI index are built from —, a
Table printer from ``additionalPrinterColumns``, and the version's schema in
``/openapi/v3`` (for ``kubectl explain``); and its schema as ``kube.model`` nodes for
server-side apply. A CRD update swaps strategies in place, so
requests in flight finish on the old schema and new ones use the new one; a version
that stops being served loses its routes first and its store after.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

from apiserver import openapi, printers
from apiserver.registry import API
from apiserver.registry.store import ResourceStore
from kube import crd as kcrd
from kube.crd import nodes
from kube.resources import ResourceInfo

from .scale import ScaleHandler
from .strategy import VersionStrategy
from .versions import VersionedStorage

logger = logging.getLogger(__name__)


@dataclass(slots=True, kw_only=True)
class Served:
    """What is served for one CRD (by its name)."""

    resource: kcrd.CustomResource
    infos: dict[str, ResourceInfo] = field(default_factory=dict)
    terminating: bool = False
    """The CRD is being deleted: its objects are served (to be finalized), not created."""


class Serving:
    def __init__(self, *, api: API) -> None:
        self.api = api
        self.served: dict[str, Served] = {}

    def current(self, name: str) -> kcrd.CustomResource | None:
        served = self.served.get(name)
        return served.resource if served is not None else None

    def store_of(self, name: str) -> ResourceStore | None:
        """A store of the CRD's resource (the storage version's when served)."""
        served = self.served.get(name)
        if served is None or not served.infos:
            return None
        version = served.resource.storage_version
        info = served.infos.get(version) or next(iter(served.infos.values()))
        return self.api.store(group=info.group, version=info.version, resource=info.resource)

    async def serve(self, crd: kcrd.CustomResource) -> None:
        """Serve every served version of ``crd`` as it is now (idempotent)."""
        previous = self.served.get(crd.name)
        if previous is not None and previous.resource.resource_version == crd.resource_version:
            return
        entry = previous or Served(resource=crd)
        entry.resource = crd
        self.served[crd.name] = entry
        wanted = {v.name: crd.info(v.name) for v in crd.served_versions()}
        for version, info in list(entry.infos.items()):
            kept = wanted.get(version)
            if kept is None or (kept.resource, kept.group) != (info.resource, info.group):
                await self._unserve_version(info)
                del entry.infos[version]
        name = crd.name
        for version, info in wanted.items():
            runtime = crd.versions[version]
            # The view reads the CRD through ``entry``, which outlives unserving, so a
            # request racing with a CRD deletion still sees a consistent definition.
            storage = VersionedStorage(self.api.storage, version=version, current=lambda: entry.resource)
            strategy = VersionStrategy(info, version=runtime, terminating=lambda: entry.terminating)
            await self.api.add_resource(info, strategy=strategy, storage=storage)
            if runtime.scale is not None:
                self.api.subresources.register(
                    group=info.group, resource=info.resource, subresource="scale",
                    handler=ScaleHandler(spec=functools.partial(self._scale, name)),
                )
            printers.register_custom(group=info.group, resource=info.resource,
                                     printer_columns=list(runtime.printer_columns), version=version)
            openapi.register_schema(group=info.group, version=version, kind=info.kind, schema=runtime.raw_schema)
            nodes.register(group=info.group, version=version, kind=info.kind, schema=runtime.schema)
            entry.infos[version] = info
        logger.info("serving %s at %s", crd.name, ", ".join(sorted(wanted)) or "no version")

    def terminating(self, name: str) -> None:
        served = self.served.get(name)
        if served is not None:
            served.terminating = True

    async def unserve(self, name: str) -> None:
        entry = self.served.pop(name, None)
        if entry is None:
            return
        for info in entry.infos.values():
            await self._unserve_version(info)
        logger.info("stopped serving %s", name)

    async def _unserve_version(self, info: ResourceInfo) -> None:
        printers.unregister(printers.ResourceKey(group=info.group, resource=info.resource, version=info.version))
        openapi.unregister_schema(group=info.group, version=info.version, kind=info.kind)
        nodes.unregister(group=info.group, version=info.version, kind=info.kind)
        await self.api.remove_resource(group=info.group, version=info.version, resource=info.resource)

    def _scale(self, name: str, version: str) -> kcrd.Scale | None:
        served = self.served.get(name)
        if served is None or version not in served.infos:
            return None
        runtime = served.resource.versions.get(version)
        return runtime.scale if runtime is not None else None
