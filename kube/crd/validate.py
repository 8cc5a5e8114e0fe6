"""Validation of a custom resource against its compiled schema, with Kubernetes' messages.

Every problem is reported at once, each as a ``FieldError`` at its field path, worded
as kube-apiserver words CRD schema failures (go-openapi's "in body" messages wrapped
in apimachinery's field errors), for example::

    spec.replicas: Invalid value: "integer": spec.replicas in body should be less than or equal to 10
    spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"
    spec.mode: Unsupported value: "fast": supported values: "a", "b"
    spec.name: Required value

Paths: list items are ``spec.items[0]``, map values ``spec.labels[key]``. Besides
the JSON schema keywords this checks the Kubernetes extensions: ``x-kubernetes-list-type``
``set``/``map`` uniqueness (``Duplicate value``) and ``x-kubernetes-embedded-resource``
(an embedded object needs ``apiVersion`` and ``kind``). CEL rules run afterwards
(``cel.py``), only on well-typed objects.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from kube.errors import (
    FieldError,
    FieldErrorType,
    duplicate,
    invalid,
    not_supported,
    required,
    too_long,
    type_invalid,
)
from kube.model.structure import json_type_name as json_type

from .formats import INT_RANGES, STRING_FORMATS
from .schema import Schema, join

Obj = dict[str, Any]


_SCALARS = {str: "string", bool: "boolean", int: "integer", float: "number"}


def too_many(path: str, actual: int, maximum: int, what: str = "items") -> FieldError:
    return FieldError(
        type=FieldErrorType.TOO_MANY, field=path, value=actual, detail=f"must have at most {maximum} {what}"
    )


def _fits(value: Any, type_: str) -> bool:
    if type_ == "object":
        return isinstance(value, dict)
    if type_ == "array":
        return isinstance(value, list)
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if type_ == "number":
        return not isinstance(value, bool) and isinstance(value, int | float)
    return True


class Validator:
    """One validation pass; ``errors`` collects every problem."""

    __slots__ = ("errors", "type_errors")

    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.type_errors = 0
        """Type mismatches seen: CEL rules are not run on an object with any."""

    def value(self, value: Any, node: Schema, path: str) -> None:
        if value is None:
            if not node.nullable and (node.type or node.int_or_string):
                self.mismatch(value, node, path)
            return
        type_ = node.type
        if node.int_or_string and not type_:
            if isinstance(value, bool) or not isinstance(value, int | str):
                self.mismatch(value, node, path)
                return
        elif type_ and not _fits(value, type_):
            self.mismatch(value, node, path)
            return
        if node.value_checks:
            self.constraints(value, node, path)
        if isinstance(value, dict):
            self.object(value, node, path)
        elif isinstance(value, list):
            self.array(value, node, path)

    def object(self, value: Obj, node: Schema, path: str) -> None:
        for name in node.required:
            if name not in value:
                self.errors.append(required(join(path, name)))
        count = len(value)
        if node.min_properties is not None and count < node.min_properties:
            self.errors.append(
                invalid(path, "object", f"{_name(path)} in body should have at least {node.min_properties} properties")
            )
        if node.max_properties is not None and count > node.max_properties:
            self.errors.append(too_many(path, count, node.max_properties))
        if node.embedded:
            self.embedded(value, path)
        props = node.properties
        if props:
            for key, item in value.items():
                child = props.get(key)
                if child is None:
                    continue
                # Fast path: a plain scalar of the right type needs no path string and no call.
                if not child.value_checks and type(item) in _SCALARS and _SCALARS[type(item)] == child.type:
                    continue
                self.value(item, child, join(path, key))
        elif node.additional is not None:
            values = node.additional
            if values.type or values.int_or_string or values.value_checks:
                for key, item in value.items():
                    self.value(item, values, f"{path}[{key}]")

    def array(self, value: list[Any], node: Schema, path: str) -> None:
        count = len(value)
        if node.min_items is not None and count < node.min_items:
            self.errors.append(invalid(path, "array", f"{_name(path)} in body should have at least {node.min_items} items"))
        if node.max_items is not None and count > node.max_items:
            self.errors.append(too_many(path, count, node.max_items))
        if node.unique_items and not _unique(value):
            self.errors.append(invalid(path, "array", f"{_name(path)} in body shouldn't contain duplicates"))
        if node.list_type == "set":
            self.set_items(value, path)
        elif node.list_type == "map" and node.list_map_keys:
            self.map_items(value, node.list_map_keys, path)
        items = node.items
        if items is not None:
            for index, element in enumerate(value):
                self.value(element, items, f"{path}[{index}]")

    def constraints(self, value: Any, node: Schema, path: str) -> None:
        errors = self.errors
        name = _name(path)
        shown = node.type_name
        if node.enum is not None and value not in node.enum:
            errors.append(not_supported(path, value, [_enum_text(v) for v in node.enum]))
        if isinstance(value, str):
            self.string(value, node, path, name)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self.number(value, node, path, name)
        for sub in node.all_of:
            if _errors_of(value, sub, path):
                errors.append(invalid(path, shown, f"{name} in body must validate all the schemas (allOf)"))
                break
        if node.any_of and all(_errors_of(value, sub, path) for sub in node.any_of):
            errors.append(invalid(path, shown, f"{name} in body must validate at least one schema (anyOf)"))
        if node.one_of and sum(not _errors_of(value, sub, path) for sub in node.one_of) != 1:
            errors.append(invalid(path, shown, f"{name} in body must validate one and only one schema (oneOf)"))
        if node.not_ is not None and not _errors_of(value, node.not_, path):
            errors.append(invalid(path, shown, f"{name} in body must not validate the schema (not)"))

    def string(self, value: str, node: Schema, path: str, name: str) -> None:
        errors = self.errors
        length = len(value)
        if node.max_length is not None and length > node.max_length:
            errors.append(too_long(path, node.max_length))
        if node.min_length is not None and length < node.min_length:
            errors.append(invalid(path, "string", f"{name} in body should be at least {node.min_length} chars long"))
        if node.pattern is not None and node.pattern.search(value) is None:
            errors.append(invalid(path, "string", f"{name} in body should match '{node.pattern_text}'"))
        check = STRING_FORMATS.get(node.format)
        if check is not None and not check(value):
            errors.append(invalid(path, "string", f"{name} in body must be of type {node.format}: {_go_quote(value)}"))

    def number(self, value: float, node: Schema, path: str, name: str) -> None:
        errors = self.errors
        shown = node.type_name or json_type(value)
        bounds = INT_RANGES.get(node.format)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            errors.append(invalid(path, shown, f'{name} in body must be of type {node.format}: "{value}"'))
        if node.maximum is not None:
            limit = _shown_number(node.maximum)
            if node.exclusive_maximum and value >= node.maximum:
                errors.append(invalid(path, shown, f"{name} in body should be less than {limit}"))
            elif value > node.maximum:
                errors.append(invalid(path, shown, f"{name} in body should be less than or equal to {limit}"))
        if node.minimum is not None:
            limit = _shown_number(node.minimum)
            if node.exclusive_minimum and value <= node.minimum:
                errors.append(invalid(path, shown, f"{name} in body should be greater than {limit}"))
            elif value < node.minimum:
                errors.append(invalid(path, shown, f"{name} in body should be greater than or equal to {limit}"))
        if node.multiple_of and not _is_multiple(value, node.multiple_of):
            errors.append(
                invalid(path, shown, f"{name} in body should be a multiple of {_shown_number(node.multiple_of)}")
            )

    def set_items(self, value: list[Any], path: str) -> None:
        seen: set[bytes] = set()
        for index, element in enumerate(value):
            key = orjson.dumps(element, option=orjson.OPT_SORT_KEYS)
            if key in seen:
                self.errors.append(duplicate(f"{path}[{index}]", element))
            seen.add(key)

    def map_items(self, value: list[Any], keys: tuple[str, ...], path: str) -> None:
        seen: set[bytes] = set()
        for index, element in enumerate(value):
            if not isinstance(element, dict):
                continue
            identity = {k: element.get(k) for k in keys}
            key = orjson.dumps(identity, option=orjson.OPT_SORT_KEYS)
            if key in seen:
                self.errors.append(duplicate(f"{path}[{index}]", identity))
            seen.add(key)

    def embedded(self, value: Obj, path: str) -> None:
        for name in ("apiVersion", "kind"):
            if not value.get(name):
                self.errors.append(required(join(path, name), "must not be empty"))
        meta = value.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            self.errors.append(type_invalid(join(path, "metadata"), json_type(meta),
                                            f'{join(path, "metadata")} in body must be of type object: "{json_type(meta)}"'))

    def mismatch(self, value: Any, node: Schema, path: str) -> None:
        actual = json_type(value)
        expected = node.type or "integer,string"
        self.type_errors += 1
        self.errors.append(
            type_invalid(path, actual, f'{_name(path)} in body must be of type {expected}: "{actual}"')
        )


def validate_value(value: Any, node: Schema, path: str = "") -> Validator:
    """Check ``value`` (the whole object when ``path`` is empty) against ``node``."""
    walk = Validator()
    walk.value(value, node, path)
    return walk


def _errors_of(value: Any, node: Schema, path: str) -> bool:
    walk = Validator()
    walk.value(value, node, path)
    return bool(walk.errors)


def _name(path: str) -> str:
    return path or "body"


def _unique(values: list[Any]) -> bool:
    seen = {orjson.dumps(v, option=orjson.OPT_SORT_KEYS) for v in values}
    return len(seen) == len(values)


def _is_multiple(value: float, factor: float) -> bool:
    if isinstance(value, int) and isinstance(factor, int):
        return value % factor == 0
    quotient = value / factor
    return math.isclose(quotient, round(quotient), rel_tol=0, abs_tol=1e-9)


def _shown_number(value: float) -> str:
    """Numbers as Go's ``%v`` prints a float64 bound: ``10``, ``0.5``, ``1e+06``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        value = int(value)
    if isinstance(value, int):
        return f"{value:.6e}".replace("e+0", "e+").replace(".000000", "") if abs(value) >= 10**21 else str(value)
    return repr(value)


def _enum_text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
