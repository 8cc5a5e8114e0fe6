"""ObjectMeta helpers: identity, time stamps, finalizers, owner references, validation.

Objects travel through kubesim as plain JSON dicts (what the API serves and stores), so
every component needs the same small vocabulary to read ``metadata`` without repeating
``obj.get("metadata", {}).get(...)`` and its mistakes. The validators are
apimachinery's ``ValidateObjectMeta`` / ``ValidateObjectMetaUpdate`` with their field
paths and wording, because their messages reach users verbatim in 422 answers.
"""

import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from kube.errors import FieldError, forbidden, invalid, required, too_long
from kube.labels import validate_annotations, validate_labels
from kube.names import is_dns1123_label, is_dns1123_subdomain, is_qualified_name

Obj = Mapping[str, Any]

# --- identity and time -------------------------------------------------------------------

MAX_GENERATED_NAME_LENGTH: Final = 63 - 5
_RANDOM_ALPHABET: Final = "bcdfghjklmnpqrstvwxz2456789"  # no vowels: no accidental words
_RFC3339: Final = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def new_uid() -> str:
    return str(uuid.uuid4())


# A version-4 UUID's fixed bits: version 4 in bits 76-79, variant 0b10 in bits 62-63.
_UUID4_CLEAR: Final = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET: Final = (0x4 << 76) | (0x2 << 62)


def uuid4_text(bits: int) -> str:
    """The text of the version-4 UUID made of 128 random ``bits``, as
    ``str(uuid.UUID(int=bits, version=4))`` gives it (~1 µs instead of ~8): for callers
    that draw their bits more cheaply than ``uuid4()`` does."""
    h = "%032x" % (bits & _UUID4_CLEAR | _UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def format_time(when: datetime) -> str:
    """``metav1.Time``: RFC 3339 in UTC, whole seconds (``2026-01-02T03:04:05Z``)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(when: datetime) -> str:
    """``metav1.MicroTime`` (events, leases): microseconds, always six digits."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_now_text: tuple[int, str] = (-1, "")  # the current second and its text: every write asks


def now() -> str:
    global _now_text
    second, text = _now_text
    current = int(time.time())
    if current != second:
        text = format_time(datetime.fromtimestamp(current, UTC))
        _now_text = (current, text)
    return text


def now_micro() -> str:
    return format_micro_time(datetime.now(UTC))


def parse_time(text: str) -> datetime:
    """An RFC 3339 time stamp as an aware UTC datetime; ValueError otherwise."""
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(UTC)


def generate_name(prefix: str) -> str:
    """``SimpleNameGenerator``: the prefix cut to 58 characters, then 5 random ones."""
    return prefix[:MAX_GENERATED_NAME_LENGTH] + "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(5))


# --- accessors ------------------------------------------------------------------------------


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def name(obj: Obj) -> str:
    return str(_meta(obj).get("name") or "")


def namespace(obj: Obj) -> str:
    return str(_meta(obj).get("namespace") or "")


def uid(obj: Obj) -> str:
    return str(_meta(obj).get("uid") or "")


def resource_version(obj: Obj) -> str:
    return str(_meta(obj).get("resourceVersion") or "")


def labels(obj: Obj) -> Mapping[str, str]:
    """The object's labels (read-only; an empty mapping when there are none)."""
    return _meta(obj).get("labels") or {}


def annotations(obj: Obj) -> Mapping[str, str]:
    return _meta(obj).get("annotations") or {}


def key(obj: Obj) -> str:
    """client-go's ``MetaNamespaceKeyFunc``: ``namespace/name``, or ``name`` when cluster-scoped."""
    ns = namespace(obj)
    return f"{ns}/{name(obj)}" if ns else name(obj)


def split_key(text: str) -> tuple[str, str]:
    """``SplitMetaNamespaceKey``: (namespace, name); the namespace is "" for ``name``."""
    parts = text.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ValueError(f"unexpected key format: {orjson.dumps(text).decode()}")


# --- finalizers -----------------------------------------------------------------------------


def finalizers(obj: Obj) -> list[str]:
    return list(_meta(obj).get("finalizers") or [])


def has_finalizer(obj: Obj, finalizer: str) -> bool:
    return finalizer in finalizers(obj)


def add_finalizer(obj: MutableMapping[str, Any], finalizer: str) -> bool:
    """Add ``finalizer`` unless present; True when the object changed."""
    current = finalizers(obj)
    if finalizer in current:
        return False
    obj.setdefault("metadata", {})["finalizers"] = [*current, finalizer]
    return True


def remove_finalizer(obj: MutableMapping[str, Any], finalizer: str) -> bool:
    """Remove every copy of ``finalizer``; True when the object changed."""
    current = finalizers(obj)
    kept = [f for f in current if f != finalizer]
    if len(kept) == len(current):
        return False
    meta = obj.setdefault("metadata", {})
    if kept:
        meta["finalizers"] = kept
    else:
        meta.pop("finalizers", None)  # as omitempty would serialize it
    return True


# --- owner references -----------------------------------------------------------------------


def owner_refs(obj: Obj) -> list[dict[str, Any]]:
    return list(_meta(obj).get("ownerReferences") or [])


def controller_ref(obj: Obj) -> dict[str, Any] | None:
    """``GetControllerOf``: the owner reference with ``controller: true``, if any."""
    return next((ref for ref in owner_refs(obj) if ref.get("controller") is True), None)


def is_owned_by(obj: Obj, owner: Obj) -> bool:
    """True when any owner reference of ``obj`` points at ``owner`` (by UID)."""
    owner_uid = uid(owner)
    return bool(owner_uid) and any(ref.get("uid") == owner_uid for ref in owner_refs(obj))


def is_controlled_by(obj: Obj, owner: Obj) -> bool:
    """``IsControlledBy``: ``owner`` is the controller of ``obj``."""
    ref = controller_ref(obj)
    return ref is not None and bool(uid(owner)) and ref.get("uid") == uid(owner)


def new_controller_ref(owner: Obj, *, api_version: str, kind: str) -> dict[str, Any]:
    """``NewControllerRef``: a reference that makes ``owner`` the controller and holds
    its foreground deletion until the dependent is gone."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name(owner),
        "uid": uid(owner),
        "controller": True,
        "blockOwnerDeletion": True,
    }


_BANNED_OWNERS: Final = {("", "v1", "Event")}


def _group_version(api_version: str) -> tuple[str, str] | None:
    """``schema.ParseGroupVersion``: (group, version), or None when malformed."""
    if api_version in ("", "/"):
        return "", ""
    if api_version.count("/") > 1:
        return None
    group, _, version = api_version.rpartition("/")
    return group, version


def validate_owner_references(refs: Sequence[Mapping[str, Any]] | None, path: str) -> list[FieldError]:
    """``ValidateOwnerReferences``. As in Kubernetes the per-reference paths carry no index."""
    errors: list[FieldError] = []
    first_controller = ""
    for ref in refs or ():
        api_version, ref_kind = str(ref.get("apiVersion") or ""), str(ref.get("kind") or "")
        group, version = _group_version(api_version) or ("", "")
        if not version:
            errors.append(invalid(f"{path}.apiVersion", api_version, "version must not be empty"))
        if not ref_kind:
            errors.append(invalid(f"{path}.kind", ref_kind, "kind must not be empty"))
        if not ref.get("name"):
            errors.append(invalid(f"{path}.name", str(ref.get("name") or ""), "name must not be empty"))
        if not ref.get("uid"):
            errors.append(invalid(f"{path}.uid", str(ref.get("uid") or ""), "uid must not be empty"))
        if (group, version, ref_kind) in _BANNED_OWNERS:
            errors.append(
                invalid(
                    path, dict(ref), f"{group}/{version}, Kind={ref_kind} is disallowed from being an owner"
                )
            )
        if ref.get("controller") is True:
            current = f"{ref_kind}/{ref.get('name') or ''}"
            if first_controller:
                detail = (
                    "Only one reference can have Controller set to true. "
                    f'Found "true" in references for {first_controller} and {current}'
                )
                errors.append(invalid(path, [dict(r) for r in refs or ()], detail))
            else:
                first_controller = current
    return errors


# --- ObjectMeta validation --------------------------------------------------------------------

FINALIZER_ORPHAN: Final = "orphan"
FINALIZER_FOREGROUND: Final = "foregroundDeletion"
_FIELD_MANAGER_MAX: Final = 128


def _mask_trailing_dash(text: str) -> str:
    # Kubernetes lets generateName end in "-" by checking a stand-in; note that it drops
    # two characters, not one, before appending the "a".
    return text[:-2] + "a" if len(text) > 1 and text.endswith("-") else text


def _validate_finalizers(values: Sequence[str], path: str) -> list[FieldError]:
    errors = [invalid(path, f, msg) for f in values for msg in is_qualified_name(f)]
    if FINALIZER_ORPHAN in values and FINALIZER_FOREGROUND in values:
        detail = f"finalizer {FINALIZER_ORPHAN} and {FINALIZER_FOREGROUND} cannot be both set"
        errors.append(invalid(path, list(values), detail))
    return errors


def _validate_managed_fields(entries: Sequence[Mapping[str, Any]], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, entry in enumerate(entries):
        here = f"{path}[{i}]"
        if entry.get("operation") not in ("Apply", "Update"):
            errors.append(
                invalid(f"{here}.operation", entry.get("operation", ""), "must be `Apply` or `Update`")
            )
        if entry.get("fieldsType") and entry.get("fieldsType") != "FieldsV1":
            errors.append(invalid(f"{here}.fieldsType", entry["fieldsType"], "must be `FieldsV1`"))
        if len(str(entry.get("manager") or "")) > _FIELD_MANAGER_MAX:
            errors.append(too_long(f"{here}.manager", _FIELD_MANAGER_MAX))
    return errors


def _validate_common(meta: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if labels := meta.get("labels"):
        errors.extend(validate_labels(labels, f"{path}.labels"))
    if annotations := meta.get("annotations"):
        errors.extend(validate_annotations(annotations, f"{path}.annotations"))
    if owners := meta.get("ownerReferences"):
        errors.extend(validate_owner_references(owners, f"{path}.ownerReferences"))
    return errors


def validate_object_meta(
    meta: Mapping[str, Any] | None,
    *,
    namespaced: bool,
    name_check: Callable[[str], list[str]] = is_dns1123_subdomain,
    path: str = "metadata",
) -> list[FieldError]:
    """``ValidateObjectMeta`` for a create. ``name_check`` is the kind's name rule
    (``is_dns1123_label`` for namespaces and services, for instance)."""
    # Every create runs this; the checks are tested for emptiness before building
    # error lists because a valid object, the usual case, has none.
    meta = meta or {}
    errors: list[FieldError] = []
    generate = str(meta.get("generateName") or "")
    if generate and (msgs := name_check(_mask_trailing_dash(generate))):
        errors.extend(invalid(f"{path}.generateName", generate, msg) for msg in msgs)
    obj_name = str(meta.get("name") or "")
    if not obj_name:
        errors.append(required(f"{path}.name", "name or generateName is required"))
    elif msgs := name_check(obj_name):
        errors.extend(invalid(f"{path}.name", obj_name, msg) for msg in msgs)
    ns = str(meta.get("namespace") or "")
    if namespaced and not ns:
        errors.append(required(f"{path}.namespace"))
    elif namespaced:
        if msgs := is_dns1123_label(ns):
            errors.extend(invalid(f"{path}.namespace", ns, msg) for msg in msgs)
    elif ns:
        errors.append(forbidden(f"{path}.namespace", "not allowed on this type"))
    generation = meta.get("generation")
    if isinstance(generation, int) and generation < 0:
        errors.append(invalid(f"{path}.generation", generation, "must be greater than or equal to 0"))
    errors.extend(_validate_common(meta, path))
    if finalizers := meta.get("finalizers"):
        errors.extend(_validate_finalizers(list(finalizers), f"{path}.finalizers"))
    if managed := meta.get("managedFields"):
        errors.extend(_validate_managed_fields(managed, f"{path}.managedFields"))
    return errors


_IMMUTABLE: Final = (
    "name",
    "namespace",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


def _go_strings(values: Sequence[str]) -> str:
    return "[]string{" + ", ".join(orjson.dumps(v).decode() for v in values) + "}"


def validate_object_meta_update(
    new: Mapping[str, Any] | None, old: Mapping[str, Any] | None, path: str = "metadata"
) -> list[FieldError]:
    """``ValidateObjectMetaUpdate``. As in Kubernetes this expects the server to have
    copied what a client may not change (uid, creationTimestamp, a resourceVersion for
    an unconditional update) into ``new`` already; what still differs is refused."""
    new, old = new or {}, old or {}
    errors: list[FieldError] = []
    if old.get("deletionTimestamp"):
        added = sorted(set(new.get("finalizers") or []) - set(old.get("finalizers") or []))
        if added:
            errors.append(
                forbidden(
                    f"{path}.finalizers",
                    "no new finalizers can be added if the object is being deleted, "
                    f"found new finalizers {_go_strings(added)}",
                )
            )
    if not new.get("resourceVersion"):
        errors.append(invalid(f"{path}.resourceVersion", "", "must be specified for an update"))
    new_generation, old_generation = new.get("generation") or 0, old.get("generation") or 0
    if new_generation < old_generation:
        errors.append(invalid(f"{path}.generation", new_generation, "must not be decremented"))
    for field in _IMMUTABLE:
        before, after = old.get(field), new.get(field)
        if field != "deletionGracePeriodSeconds":
            before, after = before or "", after or ""  # absent and "" are the same zero value
        if after != before:
            errors.append(invalid(f"{path}.{field}", after, "field is immutable"))
    errors.extend(_validate_common(new, path))
    errors.extend(_validate_managed_fields(new.get("managedFields") or [], f"{path}.managedFields"))
    return errors
