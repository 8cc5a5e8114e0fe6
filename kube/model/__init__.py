"""The object model: what the API server does to a built-in object before storing it.

Objects stay plain JSON dicts end to end, so every field of the real API is accepted
and comes back exactly as sent. The official Kubernetes 1.33 OpenAPI schema (compiled
in ``schema``) drives the three steps the real server performs on every write:

1. ``check_structure`` — the decode step: types, unknown fields (the
   ``fieldValidation`` query parameter: Strict errors, Warn warnings, Ignore drops);
   before it, ``fill_zero_status`` gives the status the zero-valued counters a Go
   struct always has (a ReplicaSet's ``replicas: 0``), so they are never missing;
2. ``apply_defaults`` — the values ``kubectl get -o yaml`` shows but nobody wrote;
3. ``validate`` — the semantic rules, every problem reported at once.

``prepare_create`` and ``prepare_update`` run the three in order and raise one
``kube.errors.Invalid`` (422) listing every cause, or return the warnings to send back
in ``Warning`` headers. If the object is not even well-typed, defaults and semantic
rules are skipped (they would only guess) and the type errors are reported alone.

The caller sets what comes from the request, not the body, first: ``metadata.namespace``
from the URL, and on create ``metadata.uid`` (a Job's generated selector is built from
it, as Kubernetes does after assigning the uid). On update the caller copies the
server-owned metadata (uid, creationTimestamp, resourceVersion) as Kubernetes' update
path does before validation.

Objects whose apiVersion/kind has no built-in schema (custom resources) are left to
the caller: they get no errors and no warnings here.
"""

from __future__ import annotations

from typing import Any

from kube.errors import BadRequest, FieldError, Invalid
from kube.model.defaults import apply_create_defaults, apply_defaults, apply_update_defaults
from kube.model.schema import (
    CUSTOM_DEFINITION,
    SchemaNode,
    definition_for,
    definitions,
    node_for,
    node_for_api_version,
)
from kube.model.status import fill_zero_status, zero_status
from kube.model.structure import FieldValidation, StructureResult, check_structure
from kube.model.validation import validate, validate_semantics

__all__ = [
    "FieldValidation",
    "SchemaNode",
    "StructureResult",
    "apply_defaults",
    "check_structure",
    "definition_for",
    "definitions",
    "node_for",
    "prepare_create",
    "prepare_update",
    "validate",
    "zero_status",
]


def prepare_create(obj: dict[str, Any], *, mode: FieldValidation) -> list[str]:
    """Check, default and validate a new object in place; return the warnings.

    Raises ``Invalid`` with every problem, or ``BadRequest`` if ``obj`` is not an object.
    """
    return _prepare(obj, old=None, mode=mode)


def prepare_update(obj: dict[str, Any], *, old: dict[str, Any], mode: FieldValidation) -> list[str]:
    """As ``prepare_create`` for a replacement of ``old`` (the stored object), adding
    the update rules: immutable fields, and what may change in a running pod."""
    return _prepare(obj, old=old, mode=mode)


def _prepare(obj: Any, *, old: dict[str, Any] | None, mode: FieldValidation) -> list[str]:
    if not isinstance(obj, dict):
        raise BadRequest(f"the body of the request must be a JSON object, not {type(obj).__name__}")
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return []
    node = node_for_api_version(api_version=api_version, kind=kind)
    if node is None or node.definition == CUSTOM_DEFINITION:
        return []
    fill_zero_status(obj, node)
    result = check_structure(obj, node=node, mode=mode)
    errors: list[FieldError] = list(result.errors)
    if result.well_typed:
        apply_defaults(obj)
        if old is None:
            apply_create_defaults(obj)
        else:
            apply_update_defaults(obj, old=old)
        errors += validate_semantics(obj, old=old, missing=result.missing)
    else:
        errors += result.missing
    if errors:
        raise Invalid.of(kind=kind, name=_name(obj), group=api_version.rpartition("/")[0], errors=errors)
    return result.warnings


def _name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return ""
    for key in ("name", "generateName"):
        value = meta.get(key)
        if isinstance(value, str) and value:
            return value
    return ""
