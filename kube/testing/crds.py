"""CustomResourceDefinitions in the fake API: established the moment they are stored.

The API server's CRD controller works in the background; a unit test wants the new
kind usable on the next line. So whenever a CRD is written, its status (accepted
names, ``NamesAccepted``, ``Established``) is worked out at once with the same code
(``kube.crd.status``) and, if established, every served version becomes a resource of
the fake API — validated, pruned and defaulted by its schema, CEL rules included.
Deleting a CRD deletes its objects (waiting for their finalizers) and then the CRD.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from kube import crd as kcrd
from kube.crd import nodes

from .kinds import Kind

if TYPE_CHECKING:
    from .api import FakeAPI

Obj = dict[str, Any]
_RESOURCE = (kcrd.GROUP, "customresourcedefinitions")


class CRDs:
    def __init__(self, api: FakeAPI) -> None:
        self.api = api
        self.served: dict[str, kcrd.CustomResource] = {}
        self._cleaning: set[str] = set()

    def _all(self) -> list[Obj]:
        return [copy.deepcopy(obj) for _, obj in self.api.store.items(*_RESOURCE)]

    def _key(self, name: str) -> tuple[str, str, str, str]:
        return (*_RESOURCE, "", name)

    def changed(self, name: str) -> None:
        """A CRD was written: update its status and what is served for it."""
        crd = self.api.store.get(self._key(name))
        if crd is None or crd["metadata"].get("deletionTimestamp"):
            return
        wanted = kcrd.desired_status(crd, self._all())
        if not kcrd.same_status(wanted, crd.get("status") or {}):
            crd["status"] = wanted
            crd = self.api.store.put(self._key(name), crd)
        if kcrd.status.is_true(crd, kcrd.ESTABLISHED):
            self.serve(kcrd.compile_crd(crd))

    def serve(self, resource: kcrd.CustomResource) -> None:
        self.unserve(resource.name)
        for version in resource.served_versions():
            info = resource.info(version.name)
            self.api.resources.add(info)
            self.api.kinds[(info.group, info.version, info.resource)] = Kind(info=info, custom=version)
            nodes.register(group=info.group, version=info.version, kind=info.kind, schema=version.schema)
        self.served[resource.name] = resource

    def unserve(self, name: str) -> None:
        resource = self.served.pop(name, None)
        if resource is None:
            return
        for info in resource.infos():
            self.api.resources.remove(group=info.group, version=info.version, resource=info.resource)
            self.api.kinds.pop((info.group, info.version, info.resource), None)
            nodes.unregister(group=info.group, version=info.version, kind=info.kind)

    def delete(self, name: str) -> Obj:
        """Mark a CRD for deletion (as its REST storage does) and start cleaning up."""
        key = self._key(name)
        crd = self.api.store.get(key)
        assert crd is not None
        meta = crd["metadata"]
        meta["deletionTimestamp"] = self.api.now()
        meta["deletionGracePeriodSeconds"] = 0
        meta["finalizers"] = [*(meta.get("finalizers") or ()), kcrd.CLEANUP_FINALIZER]
        kcrd.status.terminating(crd.setdefault("status", {}), reason="InstanceDeletionInProgress",
                                message="CustomResource deletion is in progress")
        self.api.store.put(key, crd)
        self.cleanup(name)
        return self.api.store.get(key) or crd

    def cleanup(self, name: str) -> None:
        """Delete the CRD's objects; once none is left, let the CRD go."""
        if name in self._cleaning:
            return  # each object removed re-checks; the outer call finishes the job
        self._cleaning.add(name)
        try:
            self._cleanup(name)
        finally:
            self._cleaning.discard(name)

    def _cleanup(self, name: str) -> None:
        from . import deletion  # deletion calls back into this module; keep the cycle local

        resource = self.served.get(name)
        crd = self.api.store.get(self._key(name))
        if crd is None:
            return
        if resource is not None:
            plural = (resource.group, resource.names.plural)
            for key in [k for k in self.api.store_keys() if k[:2] == plural]:
                obj = self.api.store.get(key)
                if obj is not None and not obj["metadata"].get("deletionTimestamp"):
                    kind = self.api.kind_of_key(key)
                    if kind is not None:
                        deletion.delete(self.api, kind, name=key[3], namespace=key[2], propagation_policy=None,
                                        preconditions=None, dry_run=False)
            if any(k[:2] == plural for k in self.api.store_keys()):
                return
        self.unserve(name)
        crd = self.api.store.get(self._key(name))
        if crd is None:
            return
        remaining = [f for f in crd["metadata"].get("finalizers") or () if f != kcrd.CLEANUP_FINALIZER]
        if remaining:
            crd["metadata"]["finalizers"] = remaining
            self.api.store.put(self._key(name), crd)
        else:
            deletion.remove(self.api, self._key(name))

    def recheck(self) -> None:
        for _, crd in list(self.api.store.items(*_RESOURCE)):
            meta = crd["metadata"]
            if meta.get("deletionTimestamp") and kcrd.CLEANUP_FINALIZER in (meta.get("finalizers") or ()):
                self.cleanup(meta["name"])

    def removed(self, name: str) -> None:
        self.unserve(name)
