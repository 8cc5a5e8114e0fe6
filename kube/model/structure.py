"""Shape checking of API objects against the official schema: our "decode" step.

The real API server decodes a request body into Go structs. That step is where a
string in an integer field is refused, where unknown fields are rejected, warned
about or silently dropped (the ``fieldValidation`` query parameter), and where JSON
``null`` for an optional field simply means "unset". We keep objects as plain dicts
(so every field round-trips byte for byte, quantities and order included), and this
module performs the same checks by walking the dict beside its ``SchemaNode``.

Unlike Go's decoder, which stops at the first problem, the walk reports every problem
at once, each with its Kubernetes field path (``spec.containers[0].ports[1].name``,
map entries as ``metadata.labels[app]``). Type errors use the wording the API server
prints for schema-validated objects::

    spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"

The same walk notes fields the schema marks required that are missing or null
(``StructureResult.missing``): it visits every object anyway, and a second walk for
them was a third of the cost of validating a pod. A pod spec found clean is
remembered by content, so the pods of one ReplicaSet are walked once.

Deliberate differences from Go decoding, chosen so that later stages never meet a
surprise type: ``null`` is accepted for object fields only, not as an array element or
map value (Go would silently turn those into zero values), and integers must be JSON
integers (``3.0`` is refused).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kube.errors import FieldError, FieldErrorType, invalid, required, type_invalid
from kube.model.checks import ContentMemo
from kube.model.schema import JSONType, SchemaNode
from kube.quantity import Quantity, QuantityError


class FieldValidation(StrEnum):
    """Values of the ``fieldValidation`` query parameter (kubectl sends ``Strict``)."""

    STRICT = "Strict"
    WARN = "Warn"
    IGNORE = "Ignore"


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownFieldError(FieldError):
    """A field the schema does not know, under ``fieldValidation=Strict``.

    Its message is the one Kubernetes' strict decoder uses, ``unknown field "spec.foo"``,
    rather than the generic ``spec.foo: Not found`` wording of other field errors.
    """

    def body(self) -> str:
        return f'unknown field "{self.field}"'

    def __str__(self) -> str:
        return self.body()


def unknown_field(path: str) -> UnknownFieldError:
    return UnknownFieldError(type=FieldErrorType.NOT_FOUND, field=path)


@dataclass(slots=True, kw_only=True)
class StructureResult:
    obj: dict[str, Any]
    """The checked object; under ``Ignore`` its unknown fields have been removed."""
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[FieldError] = field(default_factory=list)
    """``Required value`` for each field the schema requires but the object lacks (or
    sets to null) — found on the same walk because it costs nothing extra there. Fields
    that defaulting fills in (a RoleRef's apiGroup, a pod failure policy pattern's
    status) are not reported."""

    @property
    def well_typed(self) -> bool:
        """True when every known field has the right type (unknown fields aside), so
        that defaulting and semantic validation can safely run."""
        return all(isinstance(e, UnknownFieldError) for e in self.errors)


def check_structure(obj: dict[str, Any], *, node: SchemaNode, mode: FieldValidation) -> StructureResult:
    """Check ``obj`` against ``node`` and report every type problem and unknown field.

    Under ``Strict`` each unknown field is an error, under ``Warn`` a warning string
    (exactly Kubernetes' text), under ``Ignore`` it is removed from ``obj`` in place.
    Nothing else in ``obj`` is changed. Missing required fields are listed apart, in
    ``missing``, because whether they matter depends on defaulting still to come.
    """
    walker = _Walker(mode=mode)
    walker.object(obj, node, "")
    return StructureResult(obj=obj, errors=walker.errors, warnings=walker.warnings, missing=walker.missing)


_TYPE_NAMES = {
    JSONType.INT_OR_STRING: "integer,string",
    JSONType.QUANTITY: "number,string",
}
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_STRING, _BOOLEAN, _INTEGER = JSONType.STRING, JSONType.BOOLEAN, JSONType.INTEGER
_OBJECT, _ARRAY = JSONType.OBJECT, JSONType.ARRAY
_INT32 = 2**31  # any integer format admits at least the int32 range
_QUANTITY_CACHE: dict[str, str] = {}
"""Quantity text → problem ("" when valid); the same few strings recur in every pod."""


def json_type_name(value: Any) -> str:
    """The JSON type of a decoded value, as Kubernetes names it in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def quantity_problem(value: str | int | float) -> str:
    """Why ``value`` (a string or JSON number) is not a valid quantity, or "" when it is."""
    cached = _QUANTITY_CACHE.get(value) if isinstance(value, str) else None
    if cached is not None:
        return cached
    try:
        Quantity(value)
        problem = ""
    except QuantityError as err:
        problem = str(err)
    if isinstance(value, str) and len(_QUANTITY_CACHE) < 4096:
        _QUANTITY_CACHE[value] = problem
    return problem


# Sub-objects that recur verbatim across many objects (every pod of a ReplicaSet).
_REMEMBERED = frozenset({"io.k8s.api.core.v1.PodSpec"})
_CLEAN = ContentMemo(size=512)
# Their fields that differ between otherwise identical copies — the node a pod is bound
# to, a StatefulSet pod's hostname — are left out of the memo's key when they hold a
# string: their schema (a plain string, not required) asks nothing more of them, so
# the copies are still checked once. Otherwise every pod of one template bound to a
# different node would miss.
_PER_COPY = ("nodeName", "hostname")

# Required fields that defaulting fills in, so their absence is not an error.
_DEFAULTED_REQUIRED = frozenset(
    {
        ("io.k8s.api.rbac.v1.RoleRef", "apiGroup"),
        ("io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern", "status"),
    }
)


class _Walker:
    __slots__ = ("errors", "missing", "mode", "pruned", "warnings")

    def __init__(self, *, mode: FieldValidation) -> None:
        self.mode = mode
        self.pruned = 0
        self.errors: list[FieldError] = []
        self.warnings: list[str] = []
        self.missing: list[FieldError] = []

    def object(self, value: dict[str, Any], node: SchemaNode, path: str) -> None:
        if node.definition in _REMEMBERED:
            self.remembered(value, node, path)
        else:
            self.fields(value, node, path)

    def remembered(self, value: dict[str, Any], node: SchemaNode, path: str) -> None:
        """Walk a pod spec unless exactly this content was found clean before (what is
        clean is clean in every mode and at every path, so that is all that is kept)."""
        key = _CLEAN.key(_shared_part(value, node), id(node))
        if _CLEAN.get(key):
            return
        before = (len(self.errors), len(self.warnings), len(self.missing), self.pruned)
        self.fields(value, node, path)
        if (len(self.errors), len(self.warnings), len(self.missing), self.pruned) == before:
            _CLEAN.put(key, True)

    def fields(self, value: dict[str, Any], node: SchemaNode, path: str) -> None:
        for name in node.required:
            if value.get(name) is None and (node.definition, name) not in _DEFAULTED_REQUIRED:
                self.missing.append(required(f"{path}.{name}" if path else name))
        if not path and value.get("spec") is None and "spec" in node.properties:
            # A kind's spec is a Go value, never absent: what it requires is missing.
            self.missing += [required(f"spec.{name}") for name in node.properties["spec"].required]
        props = node.properties
        dropped: list[str] = []
        for key, item in value.items():
            child = props.get(key)
            if child is None:
                self.unknown(f"{path}.{key}" if path else str(key), key, dropped)
                continue
            if item is None:
                continue  # JSON null for a field means "unset", as Go's decoder treats it.
            # Fast paths for the common cases; everything else goes through value().
            kind, vtype = child.type, type(item)
            if kind is _STRING:
                if vtype is str and not child.format:
                    continue  # no path string is built for a good scalar
            elif kind is _OBJECT:
                if vtype is dict:
                    if not child.free_form:
                        sub = f"{path}.{key}" if path else key
                        if child.values is None:
                            self.object(item, child, sub)
                        else:
                            self.map(item, child.values, sub)
                    continue
            elif kind is _ARRAY:
                if vtype is list:
                    if child.items is not None:
                        self.array(item, child.items, f"{path}.{key}" if path else key)
                    continue
            elif kind is _BOOLEAN:
                if vtype is bool:
                    continue
            elif kind is _INTEGER and vtype is int and -_INT32 <= item < _INT32:
                continue
            self.value(item, child, f"{path}.{key}" if path else str(key))
        for key in dropped:
            del value[key]

    def unknown(self, path: str, key: str, dropped: list[str]) -> None:
        if self.mode is FieldValidation.STRICT:
            self.errors.append(unknown_field(path))
        elif self.mode is FieldValidation.WARN:
            self.warnings.append(f'unknown field "{path}"')
        else:
            dropped.append(key)
            self.pruned += 1

    def value(self, value: Any, node: SchemaNode, path: str) -> None:
        kind = node.type
        vtype = type(value)
        if kind is JSONType.STRING:
            if vtype is str:
                if node.format:
                    self.formatted(value, node.format, path)
                return
        elif kind is JSONType.INTEGER:
            if vtype is int:
                bounds = _INT_RANGES.get(node.format)
                if bounds and not bounds[0] <= value <= bounds[1]:
                    self.type_error(value, f'{path} in body must be of type {node.format}: "{value}"', path)
                return
        elif kind is JSONType.OBJECT:
            if vtype is dict:
                if node.free_form:
                    return
                if node.values is not None:
                    self.map(value, node.values, path)
                else:
                    self.object(value, node, path)
                return
        elif kind is JSONType.ARRAY:
            if vtype is list:
                if node.items is not None:
                    self.array(value, node.items, path)
                return
        elif kind is JSONType.BOOLEAN:
            if vtype is bool:
                return
        elif kind is JSONType.NUMBER:
            if vtype is int or (vtype is float and math.isfinite(value)):
                return
        elif kind is JSONType.INT_OR_STRING:
            if vtype is str:
                return
            if vtype is int:
                lo, hi = _INT_RANGES["int32"]
                if not lo <= value <= hi:
                    self.type_error(value, f'{path} in body must be of type int32: "{value}"', path)
                return
        elif kind is JSONType.QUANTITY:
            if vtype is str or vtype is int or (vtype is float and math.isfinite(value)):
                problem = quantity_problem(value)
                if problem:
                    self.errors.append(invalid(path, value, problem))
                return
        else:
            return  # JSONType.ANY
        self.mismatch(value, node, path)

    def array(self, value: list[Any], items: SchemaNode, path: str) -> None:
        kind = items.type
        walk_objects = kind is _OBJECT and not items.free_form and items.values is None
        plain_strings = kind is _STRING and not items.format
        for index, element in enumerate(value):
            vtype = type(element)
            if walk_objects and vtype is dict:
                self.object(element, items, f"{path}[{index}]")
            elif not (plain_strings and vtype is str):
                self.element(element, items, f"{path}[{index}]")

    def element(self, value: Any, node: SchemaNode, path: str) -> None:
        if value is None:
            self.mismatch(value, node, path)
        else:
            self.value(value, node, path)

    def map(self, value: dict[str, Any], node: SchemaNode, path: str) -> None:
        plain_strings = node.type is _STRING and not node.format
        for key, item in value.items():
            if not (plain_strings and type(item) is str):
                self.element(item, node, f"{path}[{key}]")

    def formatted(self, value: str, fmt: str, path: str) -> None:
        if fmt == "date-time":
            ok = _RFC3339.match(value) is not None and _parses_as_time(value)
        elif fmt == "byte":
            ok = _is_base64(value)
        else:
            return
        if not ok:
            self.type_error(value, f"{path} in body must be of type {fmt}: {_go_quote(value)}", path)

    def mismatch(self, value: Any, node: SchemaNode, path: str) -> None:
        actual = json_type_name(value)
        expected = _TYPE_NAMES.get(node.type, node.type.value)
        self.type_error(actual, f'{path} in body must be of type {expected}: "{actual}"', path)

    def type_error(self, shown: Any, detail: str, path: str) -> None:
        self.errors.append(type_invalid(path, shown, detail))


def _shared_part(value: dict[str, Any], node: SchemaNode) -> dict[str, Any]:
    """``value`` without its ``_PER_COPY`` fields that are plain strings of a plain
    string field (whose check cannot fail), or ``value`` itself when it has none."""
    props = node.properties
    per_copy = [
        name for name in _PER_COPY
        if type(value.get(name)) is str and (child := props.get(name)) is not None
        and child.type is _STRING and not child.format and name not in node.required
    ]  # fmt: skip
    if not per_copy:
        return value
    return {k: v for k, v in value.items() if k not in per_copy}


def _parses_as_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return False
    return True


def _is_base64(text: str) -> bool:
    # Go's standard encoding skips line breaks but insists on padding and the alphabet.
    try:
        base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
