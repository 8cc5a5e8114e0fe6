"""``metadata.managedFields``: who set which field, recorded on every write.

Why every write and not only applies: server-side apply must refuse to silently take a
field someone else set — ``kubectl scale`` (an *Update*) owns ``.spec.replicas``
afterwards, and a later ``kubectl apply --server-side`` that changes it gets a 409
conflict naming that manager. So the API server calls ``update_managed_fields`` after
each create, update and non-apply patch, and ``apply_patch`` for applies.

One entry per manager identity — (name, operation, subresource, and for *Update* also
the apiVersion) — as kube-apiserver's field manager keeps them, in its order (Apply
before Update, then by time, name, version, subresource) and shape::

    {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
     "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {...}}

Besides the diff itself this follows the field manager's wrappers: object identity and
bookkeeping fields (``metadata.name``, ``resourceVersion``, ...) are never owned; a
write changes nothing about ownership of objects that have no managedFields (created
before tracking, or reset by writing ``managedFields: [{}]``); at most ten *Update*
managers are kept, the oldest folded into ``ancient-changes``; the status subresource
owns only ``.status`` and the main resource never does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kube import meta as kmeta
from kube.model.schema import SchemaNode, node_for_api_version
from kube.patch import created, typed
from kube.patch import fieldpath as fp
from kube.patch.fieldpath import FieldSet

APPLY = "Apply"
UPDATE = "Update"
MAX_UPDATE_MANAGERS = 10
ANCIENT = "ancient-changes"

# Never owned: identity and bookkeeping the server maintains (stripmeta.go).
STRIPPED: FieldSet = {
    ("f:apiVersion",), ("f:kind",), ("f:metadata",),
    *(("f:metadata", f"f:{name}") for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
        "generation", "managedFields", "resourceVersion",
    )),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagerId:
    """What makes two managedFields entries the same manager (``BuildManagerIdentifier``)."""

    manager: str
    operation: str
    api_version: str = ""
    """Only part of the identity for Update: an applier owns fields whatever version it used."""
    subresource: str = ""

    @classmethod
    def of(cls, *, manager: str, operation: str, api_version: str, subresource: str = "") -> ManagerId:
        return cls(manager=manager or "unknown", operation=operation,
                   api_version=api_version if operation != APPLY else "", subresource=subresource)

    def sort_key(self) -> str:
        # Go sorts identities by their JSON encoding.
        body: dict[str, str] = {"manager": self.manager, "operation": self.operation}
        if self.api_version:
            body["apiVersion"] = self.api_version
        if self.subresource:
            body["subresource"] = self.subresource
        return json.dumps(body, separators=(",", ":"))

    def describe(self) -> str:
        """As conflict messages name a manager: ``"kubectl" using apps/v1``."""
        text = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


@dataclass(slots=True, kw_only=True)
class Owned:
    """One manager's fields, the apiVersion it wrote them in, and when it last changed them."""

    fields: FieldSet
    api_version: str
    time: str | None = None


Managers = dict[ManagerId, Owned]


# --- decoding and encoding ---------------------------------------------------------------

def decode(entries: Any) -> Managers:
    """Parse ``metadata.managedFields``; ValueError with Kubernetes' wording when malformed."""
    managers: Managers = {}
    for number, entry in enumerate(entries or ()):
        if not isinstance(entry, dict):
            raise ValueError(f"managed fields entry {number} is not an object")
        operation = entry.get("operation")
        if operation not in (APPLY, UPDATE):
            raise ValueError("operation must be `Apply` or `Update`")
        api_version = entry.get("apiVersion") or ""
        if not api_version:
            raise ValueError("apiVersion must not be empty")
        fields_type = entry.get("fieldsType") or ""
        if not fields_type:
            raise ValueError(f"missing fieldsType in managed fields entry {number}")
        if fields_type != "FieldsV1":
            raise ValueError(f'invalid fieldsType "{fields_type}" in managed fields entry {number}')
        ident = ManagerId.of(manager=entry.get("manager") or "", operation=operation,
                             api_version=api_version, subresource=entry.get("subresource") or "")
        managers[ident] = Owned(fields=fp.from_fields_v1(entry.get("fieldsV1") or {}),
                                api_version=api_version, time=entry.get("time"))
    return managers


def encode(managers: Managers) -> list[dict[str, Any]]:
    """The managedFields list for ``managers``, in kube-apiserver's order."""
    entries = []
    for ident, owned in managers.items():
        entry: dict[str, Any] = {"manager": ident.manager, "operation": ident.operation,
                                 "apiVersion": owned.api_version}
        if owned.time:
            entry["time"] = owned.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = fp.to_fields_v1(owned.fields)
        if ident.subresource:
            entry["subresource"] = ident.subresource
        entries.append(entry)
    entries.sort(key=lambda e: (e["operation"], _seconds(e.get("time")), e["manager"],
                                e["apiVersion"], e.get("subresource", "")))
    return entries


def _seconds(stamp: str | None) -> float:
    if not stamp:
        return 0
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return 0


def timestamp(now: datetime | None = None) -> str:
    """A ``metav1.Time`` as JSON carries it: RFC 3339 in UTC, whole seconds."""
    if now is None:
        return kmeta.now()
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- shared steps ------------------------------------------------------------------------

# What a write through each (sub)resource cannot own: the main resource never owns
# ``.status``, and the status subresource never owns ``.spec`` (the registry resets them).
_IGNORED_BELOW: dict[str, fp.Path] = {"": ("f:status",), "status": ("f:spec",)}


def ignored(fields: FieldSet, *, subresource: str) -> FieldSet:
    """Drop what the write cannot own (``_IGNORED_BELOW``)."""
    prefix = _IGNORED_BELOW.get(subresource)
    return fp.without_prefix(fields, prefix) if prefix else fields


def comparison(old: dict[str, Any], new: dict[str, Any], node: SchemaNode | None, *,
               subresource: str) -> typed.Comparison:
    diff = typed.compare(old, new, node)
    return typed.Comparison(added=ignored(diff.added, subresource=subresource),
                            modified=ignored(diff.modified, subresource=subresource),
                            removed=ignored(diff.removed, subresource=subresource))


def without_managed_fields(obj: dict[str, Any] | None) -> dict[str, Any]:
    """A shallow copy of ``obj`` whose metadata has no managedFields (ownership is not content)."""
    if not obj:
        return {}
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        out["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return out


def metadata(obj: dict[str, Any] | None) -> dict[str, Any]:
    """``obj.metadata``, or an empty map when it is missing or malformed (validation's to report)."""
    meta = (obj or {}).get("metadata")
    return meta if isinstance(meta, dict) else {}


def write(obj: dict[str, Any], managers: Managers) -> None:
    """Store ``managers`` into ``obj.metadata.managedFields`` (removing it when empty)."""
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        return  # a malformed object is rejected by validation, not here
    entries = encode(managers)
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)


def record_update(
    *, live: dict[str, Any], new: dict[str, Any], managers: Managers, ident: ManagerId, api_version: str,
    node: SchemaNode | None, subresource: str, now: datetime | None,
) -> Managers:
    """Ownership after ``ident`` wrote ``new`` over ``live`` with a non-apply write.

    The writer takes every field it added or changed, even from others (an update never
    conflicts); fields it removed are owned by nobody afterwards.
    """
    diff = comparison(live, new, node, subresource=subresource)
    changed = diff.changed()
    for owned in managers.values():
        owned.fields -= changed | diff.removed
    managers = {i: o for i, o in managers.items() if o.fields}
    taken = changed - STRIPPED
    if taken:
        previous = managers.get(ident)
        managers[ident] = Owned(fields=taken | (previous.fields if previous else set()),
                                api_version=api_version, time=timestamp(now))
    return _cap(managers)


def _cap(managers: Managers) -> Managers:
    """Fold the oldest Update managers into ``ancient-changes`` (one per apiVersion)."""
    updaters = [i for i in managers if i.operation == UPDATE]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return managers
    updaters.sort(key=lambda i: (_seconds(managers[i].time), i.sort_key()))
    first_of_version: dict[str, ManagerId] = {}
    count = len(updaters)
    for ident in updaters:
        if count <= MAX_UPDATE_MANAGERS:
            break
        owned = managers[ident]
        bucket = ManagerId.of(manager=ANCIENT, operation=UPDATE, api_version=owned.api_version)
        if owned.api_version not in first_of_version:
            first_of_version[owned.api_version] = ident
            continue
        if bucket not in managers:
            managers[bucket] = managers.pop(first_of_version[owned.api_version])
        managers[bucket] = Owned(fields=owned.fields | managers[bucket].fields,
                                 api_version=owned.api_version, time=owned.time)
        del managers[ident]
        count -= 1
    return managers


# --- the public entry point for non-apply writes ------------------------------------------

def update_managed_fields(
    old: dict[str, Any] | None, new: dict[str, Any], *, manager: str, operation: str,
    subresource: str = "", api_version: str, now: datetime | None = None,
) -> None:
    """Record in ``new.metadata.managedFields`` that ``manager`` wrote ``new`` over ``old``.

    ``old`` is None for a create. ``new`` is the object about to be stored and is updated
    in place (its managedFields, as sent by the client, are honoured as Kubernetes does:
    kept when valid, ``[{}]`` resets tracking); ``old`` is not touched.
    """
    node = node_for_api_version(api_version=api_version, kind=str(new.get("kind") or ""))
    managers = _starting_point(old, new, subresource=subresource)
    if managers is None:
        write(new, {})
        return
    ident = ManagerId.of(manager=manager, operation=operation, api_version=api_version, subresource=subresource)
    if old is None and not managers:
        # The common create: one manager, nobody else to take fields from.
        _record_create(new, node=node, ident=ident, api_version=api_version, subresource=subresource, now=now)
        return
    try:
        managers = record_update(
            live=without_managed_fields(old), new=without_managed_fields(new), managers=managers, ident=ident,
            api_version=api_version, node=node, subresource=subresource, now=now,
        )
    except typed.TypedError:
        # Like kube-apiserver's UpdateNoErrors: bookkeeping never fails a write (validation
        # reports the malformed list); the previous ownership is kept as it was.
        managers = decode_or_empty(old)
    write(new, managers)


def _record_create(new: dict[str, Any], *, node: SchemaNode | None, ident: ManagerId, api_version: str,
                   subresource: str, now: datetime | None) -> None:
    """``record_update`` + ``write`` for a create with no prior managers, in one walk."""
    try:
        fields = created.fields_v1(without_managed_fields(new), node, drop=_drop_plan(subresource))
    except typed.TypedError:
        fields = {}  # as record_update's caller: bookkeeping never fails a write
    meta = new.setdefault("metadata", {})
    if not isinstance(meta, dict):
        return
    if not fields:
        meta.pop("managedFields", None)
        return
    entry: dict[str, Any] = {"manager": ident.manager, "operation": ident.operation, "apiVersion": api_version,
                             "time": timestamp(now), "fieldsType": "FieldsV1", "fieldsV1": fields}
    if ident.subresource:
        entry["subresource"] = ident.subresource
    meta["managedFields"] = [entry]


_DROP_PLANS: dict[str, dict[str, created.Drop]] = {}


def _drop_plan(subresource: str) -> dict[str, created.Drop]:
    """What a create through ``subresource`` never owns: ``STRIPPED`` and what is
    ``ignored``, compiled once per subresource."""
    plan = _DROP_PLANS.get(subresource)
    if plan is None:
        plan = created.drop_plan(exact=STRIPPED, whole=_IGNORED_BELOW.get(subresource))
        if len(_DROP_PLANS) < 64:  # subresource names come from the registry; a few
            _DROP_PLANS[subresource] = plan
    return plan


def decode_or_empty(obj: dict[str, Any] | None) -> Managers:
    try:
        return decode(metadata(obj).get("managedFields"))
    except ValueError:
        return {}


def _starting_point(old: dict[str, Any] | None, new: dict[str, Any], *, subresource: str) -> Managers | None:
    """The ownership to update, or None when this object is not tracked."""
    sent = metadata(new).get("managedFields")
    if sent is not None and not subresource:
        if sent == [] or sent == [{}]:
            # An explicit reset: the object goes untracked until someone applies.
            return None if old is not None else {}
        try:
            managers = decode(sent)
        except ValueError:
            managers = {}
        if managers:
            return managers
    managers = decode_or_empty(old)
    if not managers and old is not None:
        # Objects written before field tracking stay untracked until the first apply.
        return None
    return managers
