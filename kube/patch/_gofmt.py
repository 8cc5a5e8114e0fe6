"""Render values the way Go's ``fmt`` does, for error messages copied from Kubernetes.

Several Kubernetes patch errors embed the offending value with ``%v`` (``map: map[image:x]
does not contain declared merge key: name``) or its Go type (``expected a map[string]interface
{}, but received a string``). People paste these messages into search engines, so we print
them exactly as kube-apiserver would rather than with Python's ``repr``.
"""

from __future__ import annotations

import json
from typing import Any


def go_value(value: Any) -> str:
    """``%v`` of a decoded JSON value: maps print with sorted keys, lists space-separated."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    return str(value)


def go_type(value: Any) -> str:
    """``reflect.TypeOf(v)`` printed with ``%s`` for a value decoded from JSON."""
    if value is None:
        return "%!s(<nil>)"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


def go_json(value: Any) -> str:
    """Compact JSON as Go's ``encoding/json`` writes it: no spaces, HTML characters escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def go_quote(text: str) -> str:
    """``%q`` of a string (close enough: Go and JSON escape printable text alike)."""
    return json.dumps(text, ensure_ascii=False)


def json_kind(value: Any) -> str:
    """The JSON type word Go's decoder uses in ``cannot unmarshal X into Go value ...``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
