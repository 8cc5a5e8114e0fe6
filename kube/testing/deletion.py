"""Deletion in the fake API, with what other controllers do about it done inline.

A DELETE removes the object at once, or — when it has finalizers, or the client asked
for ``Orphan``/``Foreground`` propagation — marks it with a ``deletionTimestamp`` and
leaves it until the last finalizer goes (an update that empties ``finalizers``
completes it, see ``api.write``). Pods go at once: there is no kubelet to finish a
graceful deletion.

In a real cluster, other processes react to deletions; a controller test should see
the same world, so their effect is applied right here, synchronously:

- the **garbage collector**: dependents whose owners (``ownerReferences``) are all gone
  are deleted (background propagation); ``Orphan`` strips the owner from dependents;
  ``Foreground`` deletes dependents first and the owner once they are gone;
- the **namespace controller**: deleting a namespace deletes what is in it;
- the **CRD finalizer**: deleting a CRD deletes its objects, then the CRD (``crds.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kube import meta as kmeta
from kube.errors import Conflict, NotFound

from .store import Key

if TYPE_CHECKING:
    from .api import FakeAPI
    from .kinds import Kind

Obj = dict[str, Any]
ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


def _status(kind: Kind, obj: Obj) -> Obj:
    meta = obj.get("metadata") or {}
    details: Obj = {"name": meta.get("name", ""), "kind": kind.info.resource, "uid": meta.get("uid", "")}
    if kind.info.group:
        details["group"] = kind.info.group
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def delete(api: FakeAPI, kind: Kind, *, name: str, namespace: str, propagation_policy: str | None,
           preconditions: dict[str, str] | None, dry_run: bool) -> Obj:
    info = kind.info
    key = api.key(kind, namespace=namespace, name=name)
    current = api.store.get(key)
    if current is None:
        raise NotFound.of(resource=info.resource, group=info.group, name=name)
    meta = current["metadata"]
    for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = (preconditions or {}).get(field)
        if wanted is not None and wanted != meta.get(field):
            raise Conflict.of(resource=info.resource, group=info.group, name=name,
                              err=f"the {label} in the precondition ({wanted}) does not match the {label} in record "
                                  f"({meta.get(field)}). The object might have been modified")
    if dry_run:
        return api.out(kind, current)
    if meta.get("deletionTimestamp"):
        return api.out(kind, current)
    finalizers = list(meta.get("finalizers") or ())
    if propagation_policy in ("Orphan", "Foreground"):  # the API server's part: mark for the collector
        finalizers.append(ORPHAN if propagation_policy == "Orphan" else FOREGROUND)
    if kind.is_crd():
        return api.out(kind, api.crds.delete(name))
    if (info.group, info.resource) == ("", "namespaces"):
        finalizers.append("kubernetes")
    if not finalizers:
        gone = remove(api, key)
        return _status(kind, gone)
    meta["finalizers"] = finalizers
    if (info.group, info.resource) == ("", "namespaces"):
        current["status"] = {"phase": "Terminating"}
    meta["deletionTimestamp"] = api.now()
    meta["deletionGracePeriodSeconds"] = 0
    if meta.get("generation"):
        meta["generation"] += 1
    marked = api.store.put(key, current)
    finish(api, key)
    after = api.store.get(key)
    return api.out(kind, after) if after is not None else _status(kind, marked)


def remove(api: FakeAPI, key: Key) -> Obj:
    """Take the object out of the store and let the emulated controllers react."""
    gone = api.store.remove(key)
    group, plural, _, name = key
    if (group, plural) == ("apiextensions.k8s.io", "customresourcedefinitions"):
        api.crds.removed(name)
    if api.garbage_collection:
        _collect_dependents(api, gone)
    _recheck_waiting(api)
    return gone


def finish(api: FakeAPI, key: Key) -> None:
    """Work on an object being deleted: take the finalizers the emulated controllers own."""
    current = api.store.get(key)
    if current is None or not current["metadata"].get("deletionTimestamp"):
        return
    finalizers = list(current["metadata"].get("finalizers") or ())
    uid = current["metadata"].get("uid")
    done: list[str] = []
    if ORPHAN in finalizers and api.garbage_collection:
        for dep_key, dependent in _dependents(api, uid):
            refs = [r for r in kmeta.owner_refs(dependent) if r.get("uid") != uid]
            dependent["metadata"]["ownerReferences"] = refs
            if not refs:
                del dependent["metadata"]["ownerReferences"]
            api.store.put(dep_key, dependent)
        done.append(ORPHAN)
    if FOREGROUND in finalizers and api.garbage_collection:
        for dep_key, _ in _dependents(api, uid):
            _delete_key(api, dep_key)
        if not _dependents(api, uid):
            done.append(FOREGROUND)
    if "kubernetes" in finalizers and key[:2] == ("", "namespaces"):
        for other in list(api.store_keys()):
            if other[2] == key[3] and other[:2] != ("", "namespaces"):
                _delete_key(api, other)
        if not any(other[2] == key[3] for other in api.store_keys() if other[:2] != ("", "namespaces")):
            done.append("kubernetes")
    if not done:
        return
    current = api.store.get(key)
    if current is None:
        return
    remaining = [f for f in current["metadata"].get("finalizers") or () if f not in done]
    if remaining:
        current["metadata"]["finalizers"] = remaining
        api.store.put(key, current)
    else:
        remove(api, key)


def _dependents(api: FakeAPI, uid: str | None) -> list[tuple[Key, Obj]]:
    if not uid:
        return []
    found = []
    for key in list(api.store_keys()):
        obj = api.store.get(key)
        if obj is not None and any(r.get("uid") == uid for r in kmeta.owner_refs(obj)):
            found.append((key, obj))
    return found


def _delete_key(api: FakeAPI, key: Key) -> None:
    obj = api.store.get(key)
    if obj is None or obj["metadata"].get("deletionTimestamp"):
        return
    kind = api.kind_of_key(key)
    if kind is None:
        remove(api, key)
        return
    try:
        delete(api, kind, name=key[3], namespace=key[2], propagation_policy="Background", preconditions=None,
               dry_run=False)
    except NotFound:
        pass


def _collect_dependents(api: FakeAPI, gone: Obj) -> None:
    """Background propagation: delete dependents none of whose owners remain."""
    uid = gone["metadata"].get("uid")
    live = api.live_uids()
    for key, dependent in _dependents(api, uid):
        if not any(r.get("uid") in live for r in kmeta.owner_refs(dependent)):
            _delete_key(api, key)


def _recheck_waiting(api: FakeAPI) -> None:
    """Objects waiting on others (a foreground owner, a terminating namespace or CRD)."""
    for key in list(api.store_keys()):
        obj = api.store.get(key)
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            continue
        finalizers = obj["metadata"].get("finalizers") or ()
        if FOREGROUND in finalizers or ("kubernetes" in finalizers and key[:2] == ("", "namespaces")):
            finish(api, key)
    api.crds.recheck()
