"""One informer per resource for a whole process (client-go's ``SharedInformerFactory``).

The controller manager runs a dozen controllers; several want pods, several want
replica sets. If each built its own informer the API server would carry a dozen
identical watches and the process a dozen copies of every pod. Parts of a process ask
the factory instead, and the same resource (with the same namespace and selectors)
always gets the same informer, whose cache and watch they share.

Typical use: build the factory, let every component ask it for informers and register
handlers, then ``start()`` once and ``await wait_for_cache_sync()`` before workers run.
Informers requested after ``start()`` are started by the next ``start()`` call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from kube.client.clock import Clock
from kube.client.rest import Client
from kube.informers.informer import SharedInformer
from kube.informers.store import IndexFunc
from kube.resources import ResourceInfo

_Key = tuple[str, str, str, str, str, str]


class SharedInformerFactory:
    def __init__(
        self,
        client: Client,
        *,
        resync_period: float = 0.0,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        clock: Clock | None = None,
        **informer_options: Any,
    ) -> None:
        """``namespace`` and the selectors are defaults for every informer of this factory
        (client-go's ``WithNamespace``/``WithTweakListOptions``)."""
        self.client = client
        self.resync_period = resync_period
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.clock = clock
        self._options = informer_options
        self._informers: dict[_Key, SharedInformer] = {}

    def informer_for(
        self,
        info: ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
    ) -> SharedInformer:
        """The shared informer for ``info`` (and this namespace/selector variant).

        ``indexers`` are added to it if missing, so two consumers may each register the
        indexes they need on the one informer.
        """
        ns = self.namespace if namespace is None else namespace
        labels = self.label_selector if label_selector is None else label_selector
        fields = self.field_selector if field_selector is None else field_selector
        key = (info.group, info.version, info.resource, ns if info.namespaced else "", labels, fields)
        informer = self._informers.get(key)
        if informer is None:
            informer = SharedInformer(
                self.client,
                info,
                namespace=key[3],
                label_selector=labels,
                field_selector=fields,
                resync_period=self.resync_period,
                clock=self.clock,
                **self._options,
            )
            self._informers[key] = informer
        if indexers:
            present = informer.store.indexers()
            missing = {name: func for name, func in indexers.items() if name not in present}
            if missing:
                informer.add_indexers(missing)
        return informer

    def informers(self) -> list[SharedInformer]:
        return list(self._informers.values())

    def start(self) -> None:
        """Start every informer not yet running."""
        for informer in self._informers.values():
            informer.start()

    async def wait_for_cache_sync(self) -> None:
        """Return once every informer has its first list (bound it with ``asyncio.timeout``;
        after a timeout, ``unsynced()`` names the ones still waiting)."""
        await asyncio.gather(*(i.wait_for_sync() for i in self._informers.values()))

    def unsynced(self) -> list[str]:
        return [i.reflector.name for i in self._informers.values() if not i.has_synced()]

    async def shutdown(self) -> None:
        await asyncio.gather(*(i.stop() for i in self._informers.values()))
