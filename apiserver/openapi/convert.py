"""The official definitions, converted from their JSON-Schema flavour to OpenAPI.

``kube.model.schema`` loads the Kubernetes 1.33 definitions as ``kubernetes-validate``
ships them: JSON Schema, with ``$ref: "#/$defs/…"``, optional fields typed
``["string", "null"]``, a one-value ``enum`` on every kind's ``apiVersion`` and ``kind``,
and IntOrString/Quantity as bare ``oneOf``. kubectl reads OpenAPI as kube-apiserver
writes it, so each definition is rewritten to that shape:

- references point into the document (``#/components/schemas/…`` in v3,
  ``#/definitions/…`` in v2); in v3 a reference that carries its own description is
  wrapped in a one-element ``allOf``, because OpenAPI 3.0 ignores a ``$ref``'s siblings;
- ``type`` is one string: built-in fields are never ``nullable`` in Kubernetes' own
  documents, "null" meaning "unset" is a property of JSON handling, not of the schema;
- the ``apiVersion``/``kind`` enums, an artefact of the conversion to JSON Schema, go;
- IntOrString and Quantity take the forms kube-apiserver gives them.

Conversions are pure functions of the (immutable) definitions, so each is done once per
process and the results are shared between documents: treat them as read-only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, Literal

from kube.model.schema import definitions

Flavour = Literal["v2", "v3"]
REF_PREFIX: dict[Flavour, str] = {"v3": "#/components/schemas/", "v2": "#/definitions/"}
SOURCE_REF_PREFIX = "#/$defs/"

QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
PATCH = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"

# Both unions as kube-apiserver publishes them (their Go types declare these forms).
_UNIONS: dict[Flavour, dict[str, dict[str, Any]]] = {
    "v3": {
        INT_OR_STRING: {"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]},
        QUANTITY: {"oneOf": [{"type": "string"}, {"type": "number"}]},
    },
    "v2": {
        INT_OR_STRING: {"type": "string", "format": "int-or-string"},
        QUANTITY: {"type": "string"},
    },
}
_TYPE_FIELDS = ("apiVersion", "kind")


def ref(name: str, *, flavour: Flavour = "v3") -> dict[str, str]:
    """A reference to definition ``name`` from inside a document."""
    return {"$ref": REF_PREFIX[flavour] + name}


@functools.cache
def converted(name: str, flavour: Flavour = "v3") -> dict[str, Any]:
    """Definition ``name`` as it appears under ``components.schemas`` (v3) or
    ``definitions`` (v2). KeyError for a name the schema does not have."""
    raw = definitions()[name]
    union = _UNIONS[flavour].get(name)
    if union is not None:
        described = {"description": raw["description"]} if "description" in raw else {}
        return {**described, **union}
    is_kind = bool(raw.get("x-kubernetes-group-version-kind"))
    return _convert(raw, flavour=flavour, drop_type_enums=is_kind)


def _convert(raw: dict[str, Any], *, flavour: Flavour, drop_type_enums: bool = False) -> dict[str, Any]:
    source_ref = raw.get("$ref")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "$ref":
            continue
        if key == "type":
            out["type"] = _one_type(value)
        elif key == "properties":
            out["properties"] = {
                field: _property(field, sub, flavour=flavour, drop_type_enums=drop_type_enums)
                for field, sub in value.items()
            }
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _convert(value, flavour=flavour)
        elif key in ("oneOf", "anyOf", "allOf"):
            out[key] = [_convert(sub, flavour=flavour) for sub in value]
        else:
            out[key] = value
    if source_ref is None:
        return out
    target = ref(source_ref.removeprefix(SOURCE_REF_PREFIX), flavour=flavour)
    if not out:
        return target
    if flavour == "v3":
        return {"allOf": [target], **out}
    return {**target, **out}


def _property(field: str, raw: dict[str, Any], *, flavour: Flavour, drop_type_enums: bool) -> dict[str, Any]:
    if drop_type_enums and field in _TYPE_FIELDS and "enum" in raw:
        raw = {k: v for k, v in raw.items() if k != "enum"}
    return _convert(raw, flavour=flavour)


def _one_type(declared: str | list[str]) -> str:
    if isinstance(declared, str):
        return declared
    names = [t for t in declared if t != "null"]
    return names[0] if names else "object"


@functools.cache
def _direct_references(name: str) -> frozenset[str]:
    found: set[str] = set()
    _collect(definitions()[name], found)
    return frozenset(found)


def _collect(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        target = node.get("$ref")
        if isinstance(target, str):
            found.add(target.removeprefix(SOURCE_REF_PREFIX))
        for value in node.values():
            _collect(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect(value, found)


def closure(roots: Iterable[str]) -> list[str]:
    """``roots`` and every definition they reach, in name order."""
    seen: set[str] = set()
    pending = [r for r in roots if r in definitions()]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(_direct_references(name) - seen)
    return sorted(seen)


def field_description(definition: str, field: str) -> str:
    """The schema's own description of ``field`` of ``definition`` ("" when it has none)."""
    properties = definitions().get(definition, {}).get("properties", {})
    description = properties.get(field, {}).get("description", "")
    return description if isinstance(description, str) else ""
