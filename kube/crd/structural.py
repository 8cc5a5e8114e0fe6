"""Is a CRD's schema *structural*? The rules apiextensions.k8s.io/v1 enforces, with its words.

A structural schema describes every field's type at one place, so the server can
prune unknown fields, apply defaults and compile CEL rules against known types.
Kubernetes refuses a v1 CRD whose schema is not structural; so do we, before anything
is stored, listing every problem with its full path::

    spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields

``check_schema`` walks the raw JSONSchemaProps. Value validations (``allOf``,
``anyOf``, ``oneOf``, ``not``) may only constrain values, never declare types or
defaults, and the Kubernetes extensions have their own invariants (an int-or-string
field has no ``type``, a ``map`` list names its keys, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kube.errors import FieldError, forbidden, invalid, not_supported, required

from .schema import go_regexp

TYPES = ("array", "boolean", "integer", "number", "object", "string")
_UNSUPPORTED = {
    "$ref": "$ref is not supported",
    "definitions": "definitions are not supported",
    "dependencies": "dependencies are not supported",
    "patternProperties": "patternProperties is not supported",
    "additionalItems": "additionalItems cannot be set to false",
    "id": "id is not supported",
    "$schema": "$schema is not supported",
}
_VALUE_VALIDATION_FORBIDDEN = {
    "type": "must be empty to be structural",
    "additionalProperties": "must be undefined to be structural",
    "default": "must be undefined to be structural",
    "nullable": "must be false to be structural",
    "description": "must be empty to be structural",
    "x-kubernetes-preserve-unknown-fields": "must be false to be structural",
    "x-kubernetes-embedded-resource": "must be false to be structural",
    "x-kubernetes-int-or-string": "must be false to be structural",
    "x-kubernetes-list-type": "must be undefined to be structural",
    "x-kubernetes-list-map-keys": "must be undefined to be structural",
    "x-kubernetes-map-type": "must be undefined to be structural",
    "x-kubernetes-validations": "must be empty to be structural",
}
_RE2_UNSUPPORTED = re.compile(r"\(\?[=!]|\(\?<[=!]|\\[1-9]")


def check_schema(raw: Any, path: str) -> list[FieldError]:
    """Every reason ``raw`` (an ``openAPIV3Schema``) is not a structural root schema."""
    if not isinstance(raw, Mapping):
        return [invalid(path, "", "must be an object")]
    errors: list[FieldError] = []
    type_ = raw.get("type")
    if not type_:
        errors.append(required(f"{path}.type", "must not be empty at the root"))
    elif type_ != "object":
        errors.append(invalid(f"{path}.type", type_, "must be object at the root"))
    if raw.get("nullable"):
        errors.append(forbidden(f"{path}.nullable", "must be false at the root"))
    props = raw.get("properties")
    if isinstance(props, Mapping):
        for name in ("apiVersion", "kind"):
            sub = props.get(name)
            if isinstance(sub, Mapping) and sub.get("type") not in (None, "string"):
                errors.append(invalid(f"{path}.properties[{name}].type", sub.get("type"), "must be string"))
        errors += _metadata(props.get("metadata"), f"{path}.properties[metadata]")
    errors += _node(raw, path, context="root")
    return errors


def _metadata(raw: Any, path: str) -> list[FieldError]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        return [invalid(path, "", "must be an object")]
    allowed = {"type", "properties", "description"}
    props = raw.get("properties") or {}
    extra = [k for k in raw if k not in allowed] or [k for k in props if k not in ("name", "generateName")]
    if extra or raw.get("type") not in (None, "object"):
        return [forbidden(path, "must not specify anything other than name and generateName, "
                                "but metadata is implicitly specified")]
    errors = []
    for name, sub in props.items():
        if isinstance(sub, Mapping) and sub.get("type") not in (None, "string"):
            errors.append(invalid(f"{path}.properties[{name}].type", sub.get("type"), "must be string"))
    return errors


def _node(raw: Any, path: str, *, context: str, value_validation: bool = False) -> list[FieldError]:
    """One node and everything below it. ``context`` words the missing-type message:
    ``root``, ``field`` (a property or map value) or ``item``."""
    if not isinstance(raw, Mapping):
        return [invalid(path, str(raw), "must be a schema object")]
    errors: list[FieldError] = []
    for key, message in _UNSUPPORTED.items():
        if key in raw and not (key == "additionalItems" and raw[key] is True):
            errors.append(forbidden(f"{path}.{key}", message))
    if raw.get("uniqueItems") is True:
        errors.append(forbidden(f"{path}.uniqueItems",
                                "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
    if value_validation:
        errors += [forbidden(f"{path}.{k}", m) for k, m in _VALUE_VALIDATION_FORBIDDEN.items()
                   if k in raw and raw[k] not in (None, False, "", [])]
    else:
        errors += _types(raw, path, context=context)
    errors += _constraints(raw, path)
    errors += _children(raw, path, value_validation=value_validation)
    for key in ("allOf", "anyOf", "oneOf"):
        subs = raw.get(key)
        if subs is None:
            continue
        if not isinstance(subs, list):
            errors.append(invalid(f"{path}.{key}", "", "must be a list of schemas"))
            continue
        for index, sub in enumerate(subs):
            errors += _node(sub, f"{path}.{key}[{index}]", context="field", value_validation=True)
    if raw.get("not") is not None:
        errors += _node(raw["not"], f"{path}.not", context="field", value_validation=True)
    return errors


def _types(raw: Mapping[str, Any], path: str, *, context: str) -> list[FieldError]:
    errors: list[FieldError] = []
    type_ = raw.get("type")
    int_or_string = bool(raw.get("x-kubernetes-int-or-string"))
    preserve = raw.get("x-kubernetes-preserve-unknown-fields")
    if type_ and type_ not in TYPES:
        errors.append(not_supported(f"{path}.type", type_, list(TYPES)))
    if int_or_string and type_:
        errors.append(invalid(f"{path}.type", type_, "must be empty if x-kubernetes-int-or-string is true"))
    if not type_ and not int_or_string and preserve is not True and context != "root":
        where = "array items" if context == "item" else "object fields"
        errors.append(required(f"{path}.type", f"must not be empty for specified {where}"))
    if preserve is False:
        errors.append(invalid(f"{path}.x-kubernetes-preserve-unknown-fields", False, "must be true or undefined"))
    if raw.get("x-kubernetes-embedded-resource"):
        if type_ != "object":
            errors.append(invalid(f"{path}.type", type_ or "", "must be object if x-kubernetes-embedded-resource is true"))
        if not raw.get("properties") and preserve is not True:
            errors.append(required(f"{path}.properties", "must not be empty if x-kubernetes-embedded-resource is true "
                                                         "without x-kubernetes-preserve-unknown-fields"))
    list_type = raw.get("x-kubernetes-list-type")
    keys = raw.get("x-kubernetes-list-map-keys")
    if list_type is not None:
        if list_type not in ("atomic", "set", "map"):
            errors.append(not_supported(f"{path}.x-kubernetes-list-type", list_type, ["atomic", "set", "map"]))
        elif type_ != "array":
            errors.append(invalid(f"{path}.x-kubernetes-list-type", list_type, "must only be used if type is array"))
        elif list_type == "map":
            errors += _map_list(raw, path, keys)
    elif keys:
        errors.append(required(f"{path}.x-kubernetes-list-type", "must be map if x-kubernetes-list-map-keys is non-empty"))
    map_type = raw.get("x-kubernetes-map-type")
    if map_type is not None:
        if map_type not in ("granular", "atomic"):
            errors.append(not_supported(f"{path}.x-kubernetes-map-type", map_type, ["granular", "atomic"]))
        elif type_ != "object":
            errors.append(invalid(f"{path}.x-kubernetes-map-type", map_type, "must only be used if type is object"))
    return errors


def _map_list(raw: Mapping[str, Any], path: str, keys: Any) -> list[FieldError]:
    if not keys or not isinstance(keys, list):
        return [required(f"{path}.x-kubernetes-list-map-keys", "must not be empty if x-kubernetes-list-type is map")]
    items = raw.get("items")
    if not isinstance(items, Mapping):
        return []
    if items.get("type") != "object":
        return [invalid(f"{path}.items.type", items.get("type") or "",
                        "must be object if parent array's x-kubernetes-list-type is map")]
    props = items.get("properties") or {}
    required_keys = set(items.get("required") or ())
    errors = []
    for key in keys:
        if key not in props:
            errors.append(invalid(f"{path}.x-kubernetes-list-map-keys", keys, "entries must all be names of item properties"))
            break
        sub = props[key]
        if key not in required_keys and not (isinstance(sub, Mapping) and "default" in sub):
            errors.append(invalid(f"{path}.x-kubernetes-list-map-keys", keys,
                                  "all map keys must be required or have a default value"))
            break
    return errors


def _constraints(raw: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    pattern = raw.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            errors.append(invalid(f"{path}.pattern", pattern, "must be a string"))
        elif (bad := _RE2_UNSUPPORTED.search(pattern)) is not None:
            errors.append(invalid(f"{path}.pattern", pattern,
                                  "must be a valid regular expression, but isn't: error parsing regexp: "
                                  f"invalid or unsupported Perl syntax: `{bad.group(0)}`"))
        else:
            try:
                re.compile(go_regexp(pattern))
            except re.error as err:
                errors.append(invalid(f"{path}.pattern", pattern,
                                      f"must be a valid regular expression, but isn't: error parsing regexp: {err}"))
    for key in ("minimum", "maximum", "multipleOf"):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors.append(invalid(f"{path}.{key}", value, "must be a number"))
    for key in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            errors.append(invalid(f"{path}.{key}", value, "must be a non-negative integer"))
    if "enum" in raw and not isinstance(raw["enum"], list):
        errors.append(invalid(f"{path}.enum", raw["enum"], "must be a list"))
    rules = raw.get("x-kubernetes-validations")
    if rules is not None and not isinstance(rules, list):
        errors.append(invalid(f"{path}.x-kubernetes-validations", "", "must be a list of rules"))
    return errors


def _children(raw: Mapping[str, Any], path: str, *, value_validation: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    props = raw.get("properties")
    additional = raw.get("additionalProperties")
    if props is not None:
        if not isinstance(props, Mapping):
            errors.append(invalid(f"{path}.properties", "", "must be an object"))
        else:
            for name, sub in props.items():
                if not value_validation or isinstance(sub, Mapping):
                    errors += _node(sub, f"{path}.properties[{name}]", context="field",
                                    value_validation=value_validation)
    if additional is False:
        errors.append(forbidden(f"{path}.additionalProperties", "additionalProperties cannot be set to false"))
    elif additional is not None and additional is not True:
        if props:
            errors.append(forbidden(f"{path}.additionalProperties",
                                    "additionalProperties and properties are mutual exclusive"))
        errors += _node(additional, f"{path}.additionalProperties", context="field", value_validation=value_validation)
    items = raw.get("items")
    if items is not None:
        if isinstance(items, list):
            errors.append(forbidden(f"{path}.items", "items must be a schema object and not an array"))
        else:
            errors += _node(items, f"{path}.items", context="item", value_validation=value_validation)
    elif raw.get("type") == "array" and not value_validation:
        errors.append(required(f"{path}.items", "must be specified"))
    return errors
