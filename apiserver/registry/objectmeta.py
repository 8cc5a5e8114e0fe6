"""The ``metadata`` rules every kind shares, applied by the store around the strategy.

Kubernetes keeps these in ``rest.BeforeCreate``/``rest.BeforeUpdate`` and
``ValidateObjectMetaUpdate``: the server, not the client, owns uid, creationTimestamp,
generation, deletionTimestamp; the body's namespace must agree with the URL; some fields
never change after create; and no finalizer may be added to an object being deleted.
"""

from __future__ import annotations

import random
from typing import Any

from kube import meta as kmeta
from kube.errors import BadRequest, FieldError, Invalid, forbidden, invalid, required
from kube.resources import ResourceInfo

Obj = dict[str, Any]

_IMMUTABLE = ("name", "namespace", "uid", "creationTimestamp")


def check_kind(*, info: ResourceInfo, obj: Any) -> Obj:
    """The body as this resource's object: a JSON object whose kind/apiVersion, when
    given, are this resource's (filled in when absent, as Kubernetes' decoder does with
    the URL's defaults), and whose metadata is an object."""
    if not isinstance(obj, dict):
        raise BadRequest(
            f"the object provided is unrecognized (must be of type {info.kind}): "
            f"expected a JSON object, got {type(obj).__name__}"
        )
    kind = obj.get("kind")
    api_version = obj.get("apiVersion")
    if (kind and kind != info.kind) or (api_version and api_version != info.api_version):
        raise BadRequest(
            f'{kind or info.kind} in version "{api_version or info.api_version}" cannot be handled as a '
            f"{info.kind}: the URL is for {info.api_version} {info.kind}"
        )
    obj["kind"] = info.kind
    obj["apiVersion"] = info.api_version
    meta = obj.get("metadata")
    if meta is None:
        obj["metadata"] = {}
    elif not isinstance(meta, dict):
        raise BadRequest(
            f'{info.kind} in version "{info.version}" cannot be handled as a {info.kind}: '
            f"metadata must be an object, got {type(meta).__name__}"
        )
    return obj


def match_namespace(*, info: ResourceInfo, obj: Obj, namespace: str) -> None:
    """Kubernetes' EnsureObjectNamespaceMatchesRequestNamespace."""
    meta = obj["metadata"]
    expected = namespace if info.namespaced else ""
    have = meta.get("namespace") or ""
    if have == expected:
        return
    if not have:
        meta["namespace"] = expected
    elif not expected:
        meta.pop("namespace", None)
    else:
        raise BadRequest("the namespace of the provided object does not match the namespace sent on the request")


def match_name(*, obj: Obj, name: str) -> None:
    """The body of a PUT names the object in the URL (filled in when left out)."""
    meta = obj["metadata"]
    have = meta.get("name")
    if not have:
        meta["name"] = name
    elif have != name:
        raise BadRequest(f"the name of the object ({have}) does not match the name on the URL ({name})")


def check_name(*, info: ResourceInfo, obj: Obj) -> str:
    """The object's name, which must be usable as a path segment (it becomes a key)."""
    meta = obj["metadata"]
    name = meta.get("name")
    if not name:
        raise Invalid.of(
            kind=info.kind,
            group=info.group,
            name="",
            errors=[required("metadata.name", "name or generateName is required")],
        )
    errors = path_segment_errors(name)
    if errors:
        raise Invalid.of(
            kind=info.kind, group=info.group, name=str(name), errors=[invalid("metadata.name", name, e) for e in errors]
        )
    return str(name)


def path_segment_errors(name: Any) -> list[str]:
    """apimachinery's IsValidPathSegmentName."""
    if not isinstance(name, str):
        return ["must be a string"]
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


_uid_random = random.Random()  # seeded from os.urandom once


def new_uid() -> str:
    """A version-4 UUID. Not ``uuid.uuid4()``: os.urandom releases the GIL, and getting
    it back behind the storage threads costs up to a switch interval (5 ms) per create.
    UIDs must be unique, not secret, so a urandom-seeded generator serves."""
    return kmeta.uuid4_text(_uid_random.getrandbits(128))


def fill_system_fields(meta: Obj) -> None:
    """What create sets, whatever the client sent (FillObjectMetaSystemFields)."""
    meta["uid"] = new_uid()
    meta["creationTimestamp"] = kmeta.now()
    meta.pop("deletionTimestamp", None)
    meta.pop("deletionGracePeriodSeconds", None)
    meta.pop("selfLink", None)


def generate_name(meta: Obj) -> bool:
    """Fill ``name`` from ``generateName`` when asked; True if a name was generated."""
    prefix = meta.get("generateName")
    if prefix and not meta.get("name") and isinstance(prefix, str):
        meta["name"] = kmeta.generate_name(prefix)
        return True
    return False


def carry_over(*, meta: Obj, old_meta: Obj) -> None:
    """What an update cannot change, taken from the stored object (rest.BeforeUpdate)."""
    generation = old_meta.get("generation")
    if generation is None:
        meta.pop("generation", None)
    else:
        meta["generation"] = generation
    if not meta.get("uid") and old_meta.get("uid"):
        meta["uid"] = old_meta["uid"]
    if old_meta.get("creationTimestamp"):
        meta["creationTimestamp"] = old_meta["creationTimestamp"]
    if old_meta.get("deletionTimestamp"):
        meta["deletionTimestamp"] = old_meta["deletionTimestamp"]
    if old_meta.get("deletionGracePeriodSeconds") is not None and meta.get("deletionGracePeriodSeconds") is None:
        meta["deletionGracePeriodSeconds"] = old_meta["deletionGracePeriodSeconds"]
    meta.pop("selfLink", None)


def update_errors(*, meta: Obj, old_meta: Obj) -> list[FieldError]:
    """ValidateObjectMetaUpdate: immutable fields, and no new finalizers while deleting."""
    errors: list[FieldError] = []
    for field in _IMMUTABLE:
        if (meta.get(field) or "") != (old_meta.get(field) or ""):
            errors.append(invalid(f"metadata.{field}", meta.get(field), "field is immutable"))
    if old_meta.get("deletionTimestamp"):
        before = set(old_meta.get("finalizers") or ())
        added = [f for f in meta.get("finalizers") or () if f not in before]
        if added:
            errors.append(
                forbidden(
                    "metadata.finalizers",
                    f"no new finalizers can be added if the object is being deleted, found new finalizers {added}",
                )
            )
    return errors


def should_delete_during_update(*, obj: Obj, old: Obj) -> bool:
    """An update that removed the last finalizer of an object being deleted (with no
    grace period left) completes the deletion (genericregistry.ShouldDeleteDuringUpdate)."""
    if obj["metadata"].get("finalizers"):
        return False
    old_meta = old["metadata"]
    if not old_meta.get("deletionTimestamp"):
        return False
    return not old_meta.get("deletionGracePeriodSeconds")


def same_ignoring_bookkeeping(a: Obj, b: Obj) -> bool:
    """Equal apart from resourceVersion and managedFields: such an update is a no-op and
    must not bump the resourceVersion (Kubernetes ignores managedFields timestamps)."""
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        if key == "metadata":
            continue
        if value != b[key]:
            return False
    meta_a, meta_b = a.get("metadata") or {}, b.get("metadata") or {}
    skip = ("resourceVersion", "managedFields")
    keys = (meta_a.keys() | meta_b.keys()) - set(skip)
    return all(meta_a.get(k) == meta_b.get(k) for k in keys)
