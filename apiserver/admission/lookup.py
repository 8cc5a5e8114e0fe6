"""Reading other objects from inside admission: the watch cache first, storage second.

Admission runs on every write, so it reads the watch caches. A cache may lag a write
made a moment ago (a ServiceAccount created just before the pod that names it), and a
miss is worth a storage read before refusing anything, as Kubernetes' admission
plugins do a "live lookup" after a lister miss.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from apiserver.registry import ResourceStore
from apiserver.watchcache import Cacher
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


def cached_list(store: ResourceStore, *, namespace: str = "") -> Sequence[Obj]:
    """Every object of the namespace (all, for ""), from the cache. Shared: do not mutate.

    Pod admission lists LimitRanges, ResourceQuotas and PriorityClasses on every create,
    and these change rarely: the answer is kept until the cache's revision moves."""
    cacher = store.cacher
    if cacher is None:
        return ()
    memo = _LISTS.get(cacher)
    if memo is None:
        memo = _LISTS[cacher] = {}
    revision = cacher.revision
    hit = memo.get(namespace)
    if hit is not None and hit[0] == revision:
        return hit[1]
    try:
        items, at = cacher.list(namespace=namespace)
    except StatusError:
        return ()
    found = tuple(items)
    memo[namespace] = (at, found)
    return found


_LISTS: weakref.WeakKeyDictionary[Cacher, dict[str, tuple[int, tuple[Obj, ...]]]] = weakref.WeakKeyDictionary()
