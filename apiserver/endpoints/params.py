"""Query parameters (and DELETE bodies) turned into checked options.

The rules and messages are Kubernetes' (``ValidateListOptions``, ``ValidateDeleteOptions``,
``ValidateFieldManager``, the parameter codec's booleans): a bad parameter is a 400 or
422 naming it, before anything is read or written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from apiserver.registry.options import DeleteOptions, ListOptions, PropagationPolicy, ResourceVersionMatch
from apiserver.registry.query import query_bool, query_int
from kube.errors import BadRequest, FieldError, Invalid, forbidden, invalid, not_supported, too_long
from kube.model import FieldValidation

META_GROUP = "meta.k8s.io"
FIELD_MANAGER_MAX = 128
# kube-apiserver's --min-request-timeout is 1800 s; a watch without timeoutSeconds lasts
# a random time between one and two times that, so reconnects of many clients spread out.
MIN_REQUEST_TIMEOUT = 1800.0


def _invalid(kind: str, errors: list[FieldError]) -> Invalid:
    return Invalid.of(kind=kind, group=META_GROUP, name="", errors=errors)


def _dry_run(values: list[str], kind: str) -> bool:
    unknown = [v for v in values if v != "All"]
    if unknown:
        raise _invalid(kind, [not_supported("dryRun", unknown, ["All"])])
    return bool(values)


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteOptions:
    dry_run: bool
    field_manager: str
    field_validation: FieldValidation


def _field_manager(manager: str, user_agent: str, kind: str) -> str:
    errors: list[FieldError] = []
    if len(manager) > FIELD_MANAGER_MAX:
        errors.append(too_long("fieldManager", FIELD_MANAGER_MAX))
    if not manager.isprintable():  # the common case needs no per-character look
        for i, ch in enumerate(manager):
            if not ch.isprintable():
                errors.append(invalid("fieldManager", manager, f"invalid character U+{ord(ch):04X} (at position {i})"))
    if errors:
        raise _invalid(kind, errors)
    if manager:
        return manager
    # Kubernetes names an unnamed manager after the client: the User-Agent up to "/".
    prefix = user_agent.split("/", 1)[0]
    if prefix.isprintable():
        return prefix[:FIELD_MANAGER_MAX]
    return "".join(ch if ch.isprintable() else "?" for ch in prefix)[:FIELD_MANAGER_MAX]


def write_options(
    query: dict[str, str], *, dry_run: list[str], user_agent: str, kind: str, apply: bool = False
) -> WriteOptions:
    """dryRun, fieldManager, fieldValidation of a create/update/patch (``kind`` names the
    options type in errors: CreateOptions, UpdateOptions, PatchOptions)."""
    manager = query.get("fieldManager", "")
    if apply and not manager:
        raise _invalid(kind, [FieldError(type=("FieldValueRequired", "Required value"), field="fieldManager",
                                         detail="is required for apply patch")])
    validation_text = query.get("fieldValidation", "")
    try:
        validation = FieldValidation(validation_text) if validation_text else FieldValidation.WARN
    except ValueError:
        raise _invalid(
            kind, [not_supported("fieldValidation", validation_text, ["", "Ignore", "Strict", "Warn"])]
        ) from None
    return WriteOptions(
        dry_run=_dry_run(dry_run, kind),
        field_manager=_field_manager(manager, user_agent, kind),
        field_validation=validation,
    )


def check_force(query: dict[str, str], *, apply: bool) -> bool:
    force = query_bool(query, "force")
    if force is not None and not apply:
        raise _invalid("PatchOptions", [forbidden("force", "may not be specified for non-apply patch")])
    return bool(force)


def list_options(query: dict[str, str], *, watch: bool) -> ListOptions:
    rv = query.get("resourceVersion") or None
    match_text = query.get("resourceVersionMatch", "")
    continue_token = query.get("continue", "")
    send_initial = query_bool(query, "sendInitialEvents")
    allow_bookmarks = bool(query_bool(query, "allowWatchBookmarks"))
    limit = query_int(query, "limit") or 0
    errors: list[FieldError] = []
    try:
        match = ResourceVersionMatch(match_text)
    except ValueError:
        match = ResourceVersionMatch.UNSET
        errors.append(not_supported("resourceVersionMatch", match_text, ["Exact", "NotOlderThan", ""]))
    if watch:
        if send_initial is not None:
            if match is not ResourceVersionMatch.NOT_OLDER_THAN:
                errors.append(
                    forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
                )
            if send_initial and not allow_bookmarks:
                errors.append(forbidden("allowWatchBookmarks", "sendInitialEvents requires setting allowWatchBookmarks to true"))
        if match_text:
            if send_initial is None:
                errors.append(
                    forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
                )
            if match is ResourceVersionMatch.EXACT:
                errors.append(not_supported("resourceVersionMatch", match_text, ["NotOlderThan"]))
    else:
        if match_text:
            if rv is None:
                errors.append(
                    forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided")
                )
            if continue_token:
                errors.append(forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"))
            if match is ResourceVersionMatch.EXACT and rv == "0":
                errors.append(
                    forbidden("resourceVersionMatch", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
                )
        if send_initial is not None:
            errors.append(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
    if errors:
        raise _invalid("ListOptions", errors)
    if continue_token and rv not in (None, "0"):
        raise BadRequest("specifying resource version is not allowed when using continue")
    timeout = query_int(query, "timeoutSeconds")
    timeout_seconds: float | None = None
    if watch:
        timeout_seconds = float(timeout) if timeout and timeout > 0 else MIN_REQUEST_TIMEOUT * (1 + random.random())
    return ListOptions(
        label_selector=query.get("labelSelector", ""),
        field_selector=query.get("fieldSelector", ""),
        resource_version=rv,
        resource_version_match=match,
        limit=max(limit, 0),
        continue_token=continue_token,
        allow_bookmarks=allow_bookmarks,
        timeout_seconds=timeout_seconds,
        send_initial_events=send_initial,
    )


def _typed(body: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = body.get(key)
    if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
        raise BadRequest(f"DeleteOptions.{key} must be {what}, got {type(value).__name__}")
    return value


def delete_options(query: dict[str, str], *, dry_run: list[str], body: Any | None) -> DeleteOptions:
    """From the DELETE body when there is one (kubectl sends
    ``{"propagationPolicy":"Background"}``), else from the query parameters."""
    if body is not None:
        if not isinstance(body, dict):
            raise BadRequest("the body of a DELETE must be a DeleteOptions object")
        grace = _typed(body, "gracePeriodSeconds", int, "an integer")
        policy_text = _typed(body, "propagationPolicy", str, "a string")
        orphan = _typed(body, "orphanDependents", bool, "a boolean")
        pre = _typed(body, "preconditions", dict, "an object") or {}
        uid = _typed(pre, "uid", str, "a string")
        rv = _typed(pre, "resourceVersion", str, "a string")
        dry = _typed(body, "dryRun", list, "a list of strings") or dry_run
    else:
        grace = query_int(query, "gracePeriodSeconds")
        policy_text = query.get("propagationPolicy")
        orphan = query_bool(query, "orphanDependents")
        uid = rv = None
        dry = dry_run
    errors: list[FieldError] = []
    policy: PropagationPolicy | None = None
    if policy_text:
        try:
            policy = PropagationPolicy(policy_text)
        except ValueError:
            errors.append(not_supported("propagationPolicy", policy_text, ["Foreground", "Background", "Orphan", "nil"]))
    if orphan is not None and policy is not None:
        errors.append(invalid("propagationPolicy", policy_text, "orphanDependents and deletionPropagation cannot be both set"))
    if errors:
        raise _invalid("DeleteOptions", errors)
    return DeleteOptions(
        grace_period_seconds=grace,
        propagation_policy=policy,
        orphan_dependents=orphan,
        precondition_uid=uid,
        precondition_resource_version=rv,
        dry_run=_dry_run([str(d) for d in dry], "DeleteOptions"),
    )
