"""The fake API server: every verb of the REST API, in memory, with the server's rules.

Controllers under test see what they would see from ``python -m apiserver``: objects
validated and defaulted by ``kube.model`` (or their CRD's schema), ``resourceVersion``
compare-and-swap with 409 Conflict, ``metadata.generation`` bumped by spec changes only,
the ``status`` subresource split, managedFields and server-side apply from
``kube.patch``, finalizers holding deletions, and errors as the same ``kube.errors``
types with Kubernetes' wording. What the real server does in other processes is
emulated inline, synchronously: CRDs are established the moment they are stored, and
(``deletion.py``) the garbage collector and namespace cleanup act on each delete.

The verbs are plain methods returning JSON dicts; ``client.FakeClient`` puts the
``kube.client.Client`` interface in front of them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from kube import fields as kfields
from kube import labels as klabels
from kube import meta as kmeta
from kube import patch as kpatch
from kube.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    UnsupportedMediaType,
    forbidden,
    invalid,
    required,
)
from kube.model import FieldValidation
from kube.resources import BUILTIN, Registry, ResourceInfo

from . import crds, deletion, subresources
from .kinds import Kind
from .store import Key, Store, Watch

Obj = dict[str, Any]
Now = Callable[[], str]
_CREATE_ON_UPDATE = frozenset({("", "services"), ("", "endpoints"), ("", "events"), ("coordination.k8s.io", "leases")})
_PATCH_TYPES = ("json", "merge", "strategic", "apply")


class FakeAPI:
    def __init__(self, *, now: Now, garbage_collection: bool = True) -> None:
        self.store = Store()
        self.resources = Registry(BUILTIN)
        self.kinds: dict[tuple[str, str, str], Kind] = {
            (i.group, i.version, i.resource): Kind(info=i) for i in self.resources if i.stored
        }
        self.crds = crds.CRDs(self)
        self.now = now
        self.garbage_collection = garbage_collection
        self.warnings: list[str] = []
        """Every Warning the server would have sent (unknown fields under Warn, ...)."""

    # -- lookup --------------------------------------------------------------------------

    def kind(self, info: ResourceInfo) -> Kind:
        kind = self.kinds.get((info.group, info.version, info.resource))
        if kind is None:
            raise NotFound("the server could not find the requested resource")
        return kind

    def key(self, kind: Kind, *, namespace: str, name: str) -> Key:
        return (kind.info.group, kind.info.resource, namespace if kind.info.namespaced else "", name)

    def out(self, kind: Kind, obj: Obj) -> Obj:
        """A stored object as ``kind``'s version serves it (custom resources are stored at
        their storage version and defaulted on read)."""
        if kind.custom is not None:
            obj["apiVersion"] = kind.info.api_version
            return kind.custom.as_read(obj)
        return obj

    def store_keys(self) -> list[Key]:
        return self.store.keys()

    def live_uids(self) -> set[str]:
        return {str(obj["metadata"].get("uid")) for key in self.store.keys() if (obj := self.store.get(key))}

    def kind_of_key(self, key: Key) -> Kind | None:
        """The kind serving a stored object (its storage version's, for custom resources)."""
        found = [k for k in self.kinds.values() if (k.info.group, k.info.resource) == key[:2]]
        for kind in found:
            if kind.custom is None or kind.custom.storage:
                return kind
        return found[0] if found else None

    def _stored(self, kind: Kind, *, namespace: str, name: str) -> Obj:
        found = self.store.get(self.key(kind, namespace=namespace, name=name))
        if found is None:
            raise NotFound.of(resource=kind.info.resource, group=kind.info.group, name=name)
        return found

    # -- reads ---------------------------------------------------------------------------

    def get(self, info: ResourceInfo, *, name: str, namespace: str = "", subresource: str = "") -> Obj:
        kind = self.kind(info)
        obj = self.out(kind, self._stored(kind, namespace=namespace, name=name))
        if subresource == "scale":
            return subresources.scale_of(kind, obj)
        return obj

    def _predicate(self, info: ResourceInfo, label_selector: str, field_selector: str) -> Callable[[Obj], bool] | None:
        labels = klabels.parse(label_selector) if label_selector else None
        fields = kfields.convert(info.resource, kfields.parse(field_selector)) if field_selector else None
        if labels is None and fields is None:
            return None

        def matches(obj: Obj) -> bool:
            if labels is not None and not labels.matches(kmeta.labels(obj)):
                return False
            return fields is None or fields.matches(kfields.object_fields(info.resource, obj))

        return matches

    def list(self, info: ResourceInfo, *, namespace: str = "", label_selector: str = "", field_selector: str = "",
             limit: int = 0, continue_: str = "") -> Obj:
        kind = self.kind(info)
        matches = self._predicate(info, label_selector, field_selector)
        items = [copy.deepcopy(obj) for _, obj in self.store.items(info.group, info.resource, namespace)
                 if matches is None or matches(obj)]
        start = int(continue_) if continue_.isdigit() else 0
        meta: Obj = {"resourceVersion": str(self.store.revision)}
        if limit > 0:
            if start + limit < len(items):
                meta["continue"] = str(start + limit)
                meta["remainingItemCount"] = len(items) - start - limit
            items = items[start : start + limit]
        return {"kind": info.list_kind, "apiVersion": info.api_version, "metadata": meta,
                "items": [self.out(kind, item) for item in items]}

    def watch(self, info: ResourceInfo, *, namespace: str = "", resource_version: str = "", label_selector: str = "",
              field_selector: str = "") -> Watch:
        kind = self.kind(info)
        revision = int(resource_version) if resource_version.isdigit() else 0
        return self.store.watch(resource=(info.group, info.resource), namespace=namespace if info.namespaced else "",
                                revision=revision, predicate=self._predicate(info, label_selector, field_selector),
                                convert=lambda obj: self.out(kind, obj))

    # -- create --------------------------------------------------------------------------

    def _body(self, kind: Kind, obj: Any, *, namespace: str) -> Obj:
        info = kind.info
        if not isinstance(obj, dict):
            raise BadRequest(f"the object provided is unrecognized (must be of type {info.kind})")
        obj = copy.deepcopy(obj)
        if (obj.get("kind") or info.kind) != info.kind or (obj.get("apiVersion") or info.api_version) != info.api_version:
            raise BadRequest(f'{obj.get("kind")} in version "{obj.get("apiVersion")}" cannot be handled as a '
                             f"{info.kind}: the URL is for {info.api_version} {info.kind}")
        obj["kind"], obj["apiVersion"] = info.kind, info.api_version
        meta = obj.setdefault("metadata", {})
        if info.namespaced:
            given = meta.get("namespace") or namespace
            if namespace and given != namespace:
                raise BadRequest("the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = given
        else:
            meta.pop("namespace", None)
        return obj

    def create(self, info: ResourceInfo, obj: Obj, *, namespace: str = "", dry_run: bool = False,
               field_manager: str = "", field_validation: FieldValidation = FieldValidation.WARN,
               subresource: str = "") -> Obj:
        kind = self.kind(info)
        obj = self._body(kind, obj, namespace=namespace)
        meta = obj["metadata"]
        if meta.pop("resourceVersion", None):
            raise BadRequest("resourceVersion should not be set on objects to be created")
        if meta.get("generateName") and not meta.get("name"):
            meta["name"] = kmeta.generate_name(meta["generateName"])
        if not meta.get("name"):
            raise Invalid.of(kind=info.kind, group=info.group, name="",
                             errors=[required("metadata.name", "name or generateName is required")])
        if info.namespaced:
            self._namespace_accepts(info, meta)
        meta.update(uid=kmeta.new_uid(), creationTimestamp=self.now())
        for gone in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(gone, None)
        self.warnings += kind.prepare_create(obj, mode=field_validation)
        kpatch.update_managed_fields(None, obj, manager=field_manager or "kube-testing", operation="Update",
                                     subresource=subresource, api_version=info.api_version)
        key = self.key(kind, namespace=meta.get("namespace", ""), name=meta["name"])
        if self.store.get(key) is not None:
            raise AlreadyExists.of(resource=info.resource, group=info.group, name=meta["name"])
        if dry_run:
            return obj
        stored = self.out(kind, self.store.put(key, obj))
        if kind.is_crd():
            self.crds.changed(meta["name"])
        return stored

    def _namespace_accepts(self, info: ResourceInfo, meta: Obj) -> None:
        namespace = meta.get("namespace") or ""
        found = self.store.get(("", "namespaces", "", namespace))
        if found is None:
            raise NotFound.of(resource="namespaces", name=namespace)
        if (found.get("metadata") or {}).get("deletionTimestamp"):
            raise Forbidden.of(resource=info.resource, group=info.group, name=meta.get("name") or "",
                               err=f"unable to create new content in namespace {namespace} because it is being "
                                   "terminated")

    # -- update and patch ----------------------------------------------------------------

    def update(self, info: ResourceInfo, obj: Obj, *, namespace: str = "", subresource: str = "",
               dry_run: bool = False, field_manager: str = "",
               field_validation: FieldValidation = FieldValidation.WARN) -> Obj:
        kind = self.kind(info)
        new = self._body(kind, obj, namespace=namespace)
        name = new["metadata"].get("name") or ""
        if subresource == "scale":
            return subresources.update_scale(self, kind, new, namespace=namespace, dry_run=dry_run,
                                             field_manager=field_manager)
        current = self.store.get(self.key(kind, namespace=new["metadata"].get("namespace", ""), name=name))
        if current is None:
            if (info.group, info.resource) in _CREATE_ON_UPDATE and not subresource:
                new["metadata"].pop("resourceVersion", None)
                return self.create(info, new, namespace=namespace, dry_run=dry_run, field_manager=field_manager,
                                   field_validation=field_validation)
            raise NotFound.of(resource=info.resource, group=info.group, name=name)
        return self.write(kind, new, self.out(kind, current), subresource=subresource, dry_run=dry_run,
                          field_manager=field_manager, field_validation=field_validation)

    def write(self, kind: Kind, new: Obj, current: Obj, *, subresource: str = "", dry_run: bool = False,
              field_manager: str = "", field_validation: FieldValidation = FieldValidation.WARN,
              track_fields: bool = True) -> Obj:
        """Store ``new`` over ``current`` (both at ``kind``'s version) as an update does."""
        info = kind.info
        meta, old_meta = new["metadata"], current["metadata"]
        name = old_meta["name"]
        sent = meta.get("resourceVersion")
        if sent and str(sent) != str(old_meta.get("resourceVersion")):
            raise Conflict.of(resource=info.resource, group=info.group, name=name)
        meta["resourceVersion"] = old_meta.get("resourceVersion")
        for field in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if old_meta.get(field) is not None:
                meta[field] = old_meta[field]
        errors: list[FieldError] = []
        if meta.get("name") != name:
            errors.append(invalid("metadata.name", meta.get("name"), "field is immutable"))
        if old_meta.get("deletionTimestamp"):
            added = [f for f in meta.get("finalizers") or () if f not in (old_meta.get("finalizers") or ())]
            if added:
                errors.append(forbidden("metadata.finalizers", "no new finalizers can be added if the object is "
                                        f"being deleted, found new finalizers {added}"))
        if errors:
            raise Invalid.of(kind=info.kind, group=info.group, name=name, errors=errors)
        self.warnings += kind.prepare_update(new, old=current, mode=field_validation, subresource=subresource)
        if _same(new, current):
            return current
        if track_fields:
            kpatch.update_managed_fields(current, new, manager=field_manager or "kube-testing", operation="Update",
                                         subresource=subresource, api_version=info.api_version)
        if dry_run:
            return new
        key = self.key(kind, namespace=meta.get("namespace", ""), name=name)
        if old_meta.get("deletionTimestamp") and not meta.get("finalizers"):
            deletion.remove(self, key)
            return new
        stored = self.out(kind, self.store.put(key, new))
        if kind.is_crd():
            self.crds.changed(name)
        return stored

    def patch(self, info: ResourceInfo, *, name: str, namespace: str = "", patch: Any, patch_type: str = "merge",
              field_manager: str = "", force: bool = False, subresource: str = "", dry_run: bool = False,
              field_validation: FieldValidation = FieldValidation.WARN) -> Obj:
        kind = self.kind(info)
        if patch_type not in _PATCH_TYPES:
            raise UnsupportedMediaType(f"unknown patch type {patch_type!r}")
        if patch_type == "strategic" and kind.custom is not None:
            raise UnsupportedMediaType(
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
            )
        if subresource == "scale":
            return subresources.patch_scale(self, kind, name=name, namespace=namespace, patch=patch,
                                            patch_type=patch_type, dry_run=dry_run, field_manager=field_manager)
        current = self.store.get(self.key(kind, namespace=namespace, name=name))
        if patch_type == "apply":
            base = self.out(kind, current) if current is not None else None
            new = kpatch.apply_patch(base, patch, manager=field_manager, force=force, group=info.group,
                                     version=info.version, kind=info.kind, subresource=subresource)
            if current is None:
                return self.create(info, new, namespace=namespace, dry_run=dry_run, field_manager=field_manager,
                                   field_validation=field_validation, subresource=subresource)
            return self.write(kind, new, base or {}, subresource=subresource, dry_run=dry_run,
                              field_manager=field_manager, field_validation=field_validation, track_fields=False)
        if current is None:
            raise NotFound.of(resource=info.resource, group=info.group, name=name)
        base = self.out(kind, current)
        if patch_type == "json":
            new = kpatch.json_patch(base, patch)
        elif patch_type == "merge":
            new = kpatch.merge_patch(base, patch)
        else:
            new = kpatch.strategic_merge_patch(base, patch, group=info.group, version=info.version, kind=info.kind)
        new = self._body(kind, new, namespace=namespace)
        return self.write(kind, new, base, subresource=subresource, dry_run=dry_run, field_manager=field_manager,
                          field_validation=field_validation)

    # -- delete and actions ----------------------------------------------------------------

    def delete(self, info: ResourceInfo, *, name: str, namespace: str = "", propagation_policy: str | None = None,
               preconditions: dict[str, str] | None = None, dry_run: bool = False) -> Obj:
        return deletion.delete(self, self.kind(info), name=name, namespace=namespace,
                               propagation_policy=propagation_policy, preconditions=preconditions, dry_run=dry_run)

    def post_subresource(self, info: ResourceInfo, *, name: str, namespace: str = "", subresource: str,
                         body: Obj) -> Obj:
        return subresources.post(self, self.kind(info), name=name, namespace=namespace, subresource=subresource,
                                 body=body)


def _same(a: Obj, b: Obj) -> bool:
    """Equal but for resourceVersion and managedFields: such an update changes nothing."""
    skip = ("resourceVersion", "managedFields")
    if {k: v for k, v in a.items() if k != "metadata"} != {k: v for k, v in b.items() if k != "metadata"}:
        return False
    meta_a = {k: v for k, v in (a.get("metadata") or {}).items() if k not in skip}
    meta_b = {k: v for k, v in (b.get("metadata") or {}).items() if k not in skip}
    return meta_a == meta_b
