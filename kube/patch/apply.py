"""Server-side apply (``application/apply-patch+yaml``): declarative writes with field ownership.

``kubectl apply --server-side`` sends the whole configuration a manager wants, not a
diff. The server lays it over the live object, records that the manager now owns exactly
the fields it sent, removes the fields it sent last time but dropped now (unless someone
else still owns them), and refuses with 409 Conflict to change a field another manager
owns — unless ``force`` (``--force-conflicts``), which takes the field over.

The steps are those of kube-apiserver's field manager around structured-merge-diff's
``Updater.Apply``:

1. the configuration must be of the served kind and carry no managedFields;
2. an object nobody tracked yet gets its current fields assigned to
   ``before-first-apply``, so the first applier cannot silently take them;
3. merge, record the applier's set, prune what it dropped, then compare live and merged:
   every other manager owning a changed field is a conflict (or, forced, loses it);
4. for the manager ``kubectl`` only, conflicts on fields whose value still matches the
   client-side ``last-applied-configuration`` are allowed, so that switching from
   ``kubectl apply`` to ``kubectl apply --server-side`` does not fail on every field;
   and that annotation, when present, is kept up to date.

Creating a missing object is the caller's job: pass ``current=None``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kube.errors import BadRequest, Cause, Conflict, Details
from kube.model.schema import SchemaNode, node_for
from kube.patch import fieldpath as fp
from kube.patch import typed
from kube.patch._gofmt import go_type, go_value
from kube.patch.fieldpath import FieldSet, Path
from kube.patch.managed import (
    APPLY,
    STRIPPED,
    UPDATE,
    ManagerId,
    Managers,
    Owned,
    comparison,
    decode,
    ignored,
    metadata,
    record_update,
    timestamp,
    without_managed_fields,
    write,
)

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
BEFORE_FIRST_APPLY = "before-first-apply"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Target:
    """What an apply works on: the kind's schema and how it is addressed."""

    node: SchemaNode | None
    api_version: str
    kind: str
    subresource: str


class _Conflicts(Exception):
    """Why an apply may not proceed: (other manager, field) pairs, in message order."""

    def __init__(self, conflicts: list[tuple[ManagerId, Path]]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts


def apply_patch(
    current: dict[str, Any] | None, applied: dict[str, Any], *, manager: str, force: bool,
    group: str, version: str, kind: str, subresource: str = "", now: datetime | None = None,
) -> dict[str, Any]:
    """The object after ``manager`` applies ``applied`` to ``current`` (None: create)."""
    api_version = f"{group}/{version}" if group else version
    target = _Target(node=node_for(group=group, version=version, kind=kind), api_version=api_version,
                     kind=kind, subresource=subresource)
    _check_config(applied, target=target)
    live = without_managed_fields(current)
    ident = ManagerId.of(manager=manager, operation=APPLY, api_version=api_version, subresource=subresource)
    config = copy.deepcopy(applied)
    try:
        managers = _ownership(current, live, target=target, now=now)
        try:
            merged, managers = _apply(live, config, managers=managers, ident=ident, force=force,
                                      target=target, now=now)
        except _Conflicts as failed:
            merged, managers = _retry_with_last_applied(live, config, managers=managers, ident=ident,
                                                        target=target, now=now, failed=failed)
    except typed.TypedError as exc:
        raise BadRequest(_typed_failure(applied, target=target, error=exc)) from exc
    except _Conflicts as failed:
        raise _conflict_error(failed.conflicts) from None
    if manager == "kubectl":
        _refresh_last_applied(merged, applied)
    write(merged, managers)
    return merged


def _ownership(current: dict[str, Any] | None, live: dict[str, Any], *, target: _Target,
               now: datetime | None) -> Managers:
    """Who owns what in ``current`` before this apply."""
    try:
        managers = decode(metadata(current).get("managedFields"))
    except ValueError as exc:
        raise BadRequest(f"failed to decode managed fields: {exc}") from exc
    if managers or current is None:
        return managers
    # Nobody tracked this object: its present fields belong to a stand-in Update
    # manager, so that the first applier conflicts with them like with anyone else.
    return record_update(
        live={}, new=live, managers={}, api_version=target.api_version, node=target.node,
        ident=ManagerId.of(manager=BEFORE_FIRST_APPLY, operation=UPDATE, api_version=target.api_version,
                           subresource=target.subresource),
        subresource=target.subresource, now=now,
    )


def _check_config(applied: Any, *, target: _Target) -> None:
    if not isinstance(applied, dict):
        raise BadRequest("error decoding patch: json: cannot unmarshal non-object into Go value of type "
                         "map[string]interface {}")
    api_version = applied.get("apiVersion") or ""
    group, _, version = api_version.rpartition("/") if isinstance(api_version, str) else ("", "", "")
    if api_version != target.api_version or applied.get("kind") != target.kind:
        raise BadRequest(f"invalid object type: {group}/{version}, Kind={applied.get('kind') or ''}")
    meta = applied.get("metadata", {})
    if not isinstance(meta, dict):
        raise BadRequest(f"error decoding patch: .metadata accessor error: {go_value(meta)} is of the type "
                         f"{go_type(meta)}, expected map[string]interface{{}}")
    if meta.get("managedFields") is not None:
        raise BadRequest("metadata.managedFields must be nil")


def _apply(
    live: dict[str, Any], config: dict[str, Any], *, managers: Managers, ident: ManagerId, force: bool,
    target: _Target, now: datetime | None,
) -> tuple[dict[str, Any], Managers]:
    """One apply attempt; raises _Conflicts (and changes nothing) when it may not proceed."""
    managers = {i: Owned(fields=set(o.fields), api_version=o.api_version, time=o.time) for i, o in managers.items()}
    previous = managers.get(ident)
    applied_fields = ignored(typed.field_set(config, target.node, allow_duplicates=False),
                             subresource=target.subresource)
    merged = typed.merge(live, config, target.node)
    managers[ident] = Owned(fields=applied_fields, api_version=target.api_version,
                            time=previous.time if previous else None)
    if previous is not None:
        merged = _prune(merged, managers=managers, dropped_by=previous.fields, node=target.node)

    diff = comparison(live, merged, target.node, subresource=target.subresource)
    changed = diff.changed()
    conflicts: list[tuple[ManagerId, Path]] = []
    for other, owned in managers.items():
        if other != ident:
            conflicts.extend((other, path) for path in owned.fields & changed)
    if conflicts and not force:
        raise _Conflicts(sorted(conflicts, key=lambda c: (c[0].sort_key(), fp.path_sort_key(c[1]))))
    for other, owned in managers.items():
        if other != ident:
            owned.fields -= changed | diff.removed
    mine = managers[ident]
    mine.fields -= STRIPPED
    if not typed.equal(live, merged):
        mine.time = timestamp(now)
    managers = {i: o for i, o in managers.items() if o.fields}
    return _drop_nulls(merged), managers


def _prune(merged: dict[str, Any], *, managers: Managers, dropped_by: FieldSet,
           node: SchemaNode | None) -> dict[str, Any]:
    """Remove what the applier set last time and no longer sets, unless anyone owns it.

    Struct fields count as owned by whoever owns something inside them, so ``.spec``
    goes only when nobody owns any of it; a list item goes whole once its owner drops it.
    """
    before = dropped_by | typed.named_prefixes(dropped_by, node)
    owned: FieldSet = set().union(*(o.fields for o in managers.values()))
    owned |= typed.named_prefixes(owned, node)
    doomed = before - owned
    return typed.remove(merged, doomed, node, keep=owned) if doomed else merged


def _retry_with_last_applied(
    live: dict[str, Any], config: dict[str, Any], *, managers: Managers, ident: ManagerId,
    target: _Target, now: datetime | None, failed: _Conflicts,
) -> tuple[dict[str, Any], Managers]:
    """kubectl's migration path from client-side apply (``lastappliedmanager.go``)."""
    if ident.manager != "kubectl":
        raise failed
    allowed = _unchanged_since_last_applied(live, target=target)
    if allowed is None:
        raise failed
    remaining = [c for c in failed.conflicts if c[1] not in allowed]
    if remaining:
        raise _Conflicts(remaining)
    return _apply(live, config, managers=managers, ident=ident, force=True, target=target, now=now)


def _unchanged_since_last_applied(live: dict[str, Any], *, target: _Target) -> FieldSet | None:
    """Fields of the last-applied configuration whose live value is still the same."""
    annotations = metadata(live).get("annotations") or {}
    raw = annotations.get(LAST_APPLIED) if isinstance(annotations, dict) else None
    if not raw:
        return None
    try:
        last = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != target.api_version:
        return None
    try:
        fields = typed.field_set(last, target.node)
        diff = typed.compare(last, live, target.node)
    except typed.TypedError:
        return None
    return fields - diff.added - diff.modified - diff.removed


def _refresh_last_applied(merged: dict[str, Any], applied: dict[str, Any]) -> None:
    """Keep a client-side apply annotation in step with what was server-side applied."""
    annotations = metadata(merged).get("annotations")
    if not isinstance(annotations, dict) or not annotations.get(LAST_APPLIED):
        return
    config = copy.deepcopy(applied)
    config_annotations = metadata(config).get("annotations")
    if isinstance(config_annotations, dict):
        config_annotations.pop(LAST_APPLIED, None)
    annotations[LAST_APPLIED] = json.dumps(config, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"


def _conflict_error(conflicts: list[tuple[ManagerId, Path]]) -> Conflict:
    causes = tuple(Cause(reason="FieldManagerConflict", message=f"conflict with {who.describe()}",
                         field=fp.describe(path)) for who, path in conflicts)
    if len(conflicts) == 1:
        who, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {who.describe()}: {fp.describe(path)}"
    else:
        lines: list[str] = []
        for who in sorted({c[0] for c in conflicts}, key=ManagerId.sort_key):
            lines.append(f"conflicts with {who.describe()}:")
            lines.extend(f"- {fp.describe(path)}" for other, path in conflicts if other == who)
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return Conflict(message, details=Details(causes=causes))


def _typed_failure(applied: dict[str, Any], *, target: _Target, error: Exception) -> str:
    meta = metadata(applied)
    where = f"{meta.get('namespace') or '<unknown>'}/{meta.get('name') or '<unknown>'}"
    group, _, version = target.api_version.rpartition("/")
    return f"failed to create typed patch object ({where}; {group}/{version}, Kind={target.kind}): {error}"


def _drop_nulls(value: Any) -> Any:
    """Applied nulls mean "unset" once stored (typed decoding drops them)."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
