"""A CustomResourceDefinition's ``openAPIV3Schema``, compiled once into a tree of nodes.

Every write of a custom resource is checked against its version's schema: types,
bounds, patterns, enums, then pruning, defaulting and CEL rules. Interpreting the raw
JSONSchemaProps dict on every request would re-parse regular expressions and re-read
``x-kubernetes-*`` keys each time, so a schema is compiled when its CRD is established
(and when it changes) into ``Schema`` nodes whose constraints are ready to apply:
patterns compiled, defaults kept as values, CEL rules compiled into programs.

Compilation assumes the schema already passed ``structural.check`` (the CRD was
validated before it was stored); it never raises for a schema that did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()
"""No ``default:`` (distinct from a default of ``null``)."""


@dataclass(slots=True, eq=False, kw_only=True)
class Schema:
    """One position of a structural schema. Nodes are shared and read-only once built."""

    type: str = ""
    """``object``, ``array``, ``string``, ``integer``, ``number``, ``boolean``, or ``""``
    (only where ``x-kubernetes-int-or-string`` or ``x-kubernetes-preserve-unknown-fields``
    allow any type)."""
    nullable: bool = False
    format: str = ""
    description: str = ""
    properties: dict[str, Schema] = field(default_factory=dict)
    additional: Schema | None = None
    """The schema of map values (``additionalProperties``)."""
    items: Schema | None = None
    required: tuple[str, ...] = ()
    enum: tuple[Any, ...] | None = None
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    multiple_of: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    unique_items: bool = False
    min_properties: int | None = None
    max_properties: int | None = None
    default: Any = MISSING
    preserve_unknown: bool = False
    int_or_string: bool = False
    embedded: bool = False
    list_type: str = ""
    list_map_keys: tuple[str, ...] = ()
    map_type: str = ""
    all_of: tuple[Schema, ...] = ()
    any_of: tuple[Schema, ...] = ()
    one_of: tuple[Schema, ...] = ()
    not_: Schema | None = None
    rules: tuple[Any, ...] = ()
    """Compiled ``x-kubernetes-validations`` (``kube.crd.cel.Rule``)."""
    rules_below: bool = False
    """This node or one below it has rules (the CEL walk skips subtrees without)."""
    defaults_below: bool = False
    """This node or one below it has a ``default`` (defaulting skips subtrees without)."""
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The JSONSchemaProps this node was compiled from (for ``/openapi`` and explain)."""

    def __repr__(self) -> str:
        return f"<Schema {self.type or 'any'} fields={len(self.properties)}>"

    @property
    def is_map(self) -> bool:
        return self.additional is not None

    @property
    def type_name(self) -> str:
        """The type as Kubernetes prints it in ``Invalid value: "<type>"``."""
        return self.type or ("integer,string" if self.int_or_string else "")

    value_checks: bool = False
    """Any constraint beyond the type (set by ``compile_schema``): without one, a value
    of the right scalar type needs no further look."""

    def _has_value_checks(self) -> bool:
        return bool(
            self.enum is not None
            or self.pattern is not None
            or self.format
            or self.minimum is not None
            or self.maximum is not None
            or self.multiple_of is not None
            or self.min_length is not None
            or self.max_length is not None
            or self.all_of
            or self.any_of
            or self.one_of
            or self.not_ is not None
        )


RuleCompiler = Callable[[Mapping[str, Any], Schema, str], tuple[Any, ...]]
"""(the node's raw ``x-kubernetes-validations``, the node, its field path) → rules."""


def compile_schema(raw: Mapping[str, Any], *, rules: RuleCompiler | None = None, path: str = "") -> Schema:
    """Compile a (structural, already checked) JSONSchemaProps dict. ``rules`` compiles
    each node's CEL rules once the node is built (CEL needs the node's type)."""
    node = Schema(raw=raw)
    node.type = str(raw.get("type") or "")
    node.nullable = bool(raw.get("nullable"))
    node.format = str(raw.get("format") or "")
    node.description = str(raw.get("description") or "")
    node.required = tuple(raw.get("required") or ())
    if "enum" in raw and isinstance(raw["enum"], list):
        node.enum = tuple(raw["enum"])
    if isinstance(raw.get("pattern"), str):
        node.pattern_text = raw["pattern"]
        node.pattern = re.compile(go_regexp(raw["pattern"]))
    node.minimum = _number(raw.get("minimum"))
    node.maximum = _number(raw.get("maximum"))
    node.exclusive_minimum = bool(raw.get("exclusiveMinimum"))
    node.exclusive_maximum = bool(raw.get("exclusiveMaximum"))
    node.multiple_of = _number(raw.get("multipleOf"))
    node.min_length = _count(raw.get("minLength"))
    node.max_length = _count(raw.get("maxLength"))
    node.min_items = _count(raw.get("minItems"))
    node.max_items = _count(raw.get("maxItems"))
    node.unique_items = bool(raw.get("uniqueItems"))
    node.min_properties = _count(raw.get("minProperties"))
    node.max_properties = _count(raw.get("maxProperties"))
    if "default" in raw:
        node.default = raw["default"]
    node.preserve_unknown = bool(raw.get("x-kubernetes-preserve-unknown-fields"))
    node.int_or_string = bool(raw.get("x-kubernetes-int-or-string"))
    node.embedded = bool(raw.get("x-kubernetes-embedded-resource"))
    node.list_type = str(raw.get("x-kubernetes-list-type") or "")
    node.list_map_keys = tuple(raw.get("x-kubernetes-list-map-keys") or ())
    node.map_type = str(raw.get("x-kubernetes-map-type") or "")
    for name, sub in (raw.get("properties") or {}).items():
        node.properties[name] = compile_schema(sub, rules=rules, path=join(path, name))
    additional = raw.get("additionalProperties")
    if isinstance(additional, Mapping):
        node.additional = compile_schema(additional, rules=rules, path=path + "[*]")
    elif additional is True:
        node.additional = Schema(preserve_unknown=True)
    items = raw.get("items")
    if isinstance(items, Mapping):
        node.items = compile_schema(items, rules=rules, path=path + "[*]")
    node.all_of = tuple(compile_schema(s, path=path) for s in raw.get("allOf") or ())
    node.any_of = tuple(compile_schema(s, path=path) for s in raw.get("anyOf") or ())
    node.one_of = tuple(compile_schema(s, path=path) for s in raw.get("oneOf") or ())
    if isinstance(raw.get("not"), Mapping):
        node.not_ = compile_schema(raw["not"], path=path)
    if rules is not None and raw.get("x-kubernetes-validations"):
        node.rules = rules(raw, node, path)
    children = [c for c in (*node.properties.values(), node.additional, node.items) if c is not None]
    node.rules_below = bool(node.rules) or any(c.rules_below for c in children)
    node.value_checks = node._has_value_checks()
    node.defaults_below = node.default is not MISSING or any(c.defaults_below for c in children)
    return node


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


_GO_CLASSES = {r"\z": r"\Z", r"\Q": "", r"\E": ""}


def go_regexp(pattern: str) -> str:
    """A Go RE2 / ECMA pattern as Python ``re`` reads it: only ``\\z`` differs in the
    patterns CRDs use (RE2 has no lookaround or backreferences, so those never appear
    in a pattern Kubernetes accepted)."""
    for go, py in _GO_CLASSES.items():
        pattern = pattern.replace(go, py)
    return pattern
