"""Reading other objects from inside admission: the watch cache first, storage second.

Admission runs on every write, so it reads the watch caches. A cache may lag a write
made a moment ago (a ServiceAccount created just before the pod that names it), and a
miss is worth a storage read before refusing anything, as Kubernetes' admission
plugins do a "live lookup" after a lister miss.
"""

from __future__ import annotations

from typing import Any

from apiserver.registry import ResourceStore
from kube.errors import NotFound, StatusError

Obj = dict[str, Any]


def store_of(api: Any, *, group: str, resource: str, version: str = "v1") -> ResourceStore:
    store: ResourceStore | None = api.store(group=group, version=version, resource=resource)
    if store is None:
        raise RuntimeError(f"{resource}.{group}/{version} is not served")
    return store


def cached(store: ResourceStore, *, namespace: str, name: str) -> Obj | None:
    if store.cacher is None:
        return None
    try:
        return store.cacher.get(store.key(namespace=namespace, name=name))
    except StatusError:
        return None  # cache (re)initializing


async def lookup(store: ResourceStore, *, namespace: str, name: str) -> Obj | None:
    """The object, from the cache or else from storage; None when it does not exist."""
    found = cached(store, namespace=namespace, name=name)
    if found is not None:
        return found
    try:
        return await store.storage.get(store.key(namespace=namespace, name=name))
    except NotFound:
        return None


def cached_list(store: ResourceStore, *, namespace: str = "") -> list[Obj]:
    if store.cacher is None:
        return []
    try:
        items, _ = store.cacher.list(namespace=namespace)
    except StatusError:
        return []
    return items
