"""The vocabulary of defaulting: Go's idea of "unset" applied to JSON dicts.

A Go pointer field is unset when nil (a missing key or JSON null here); a plain string
or integer field is also unset when "" or 0, because Go cannot tell those apart from
absent. Every defaulter uses these helpers so that rule is written once. Values of an
unexpected type are left alone rather than overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Obj = dict[str, Any]


def dicts(value: Any) -> Iterator[Obj]:
    """The dict elements of a list field (absent or null lists have none)."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                yield item


def child(parent: Obj, key: str) -> Obj | None:
    """``parent[key]`` as a dict, created when unset (a Go value struct always exists);
    None if it holds something else."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    return value if isinstance(value, dict) else None


def existing(parent: Obj, key: str) -> Obj | None:
    value = parent.get(key)
    return value if isinstance(value, dict) else None


def unset(obj: Obj, key: str, value: Any) -> None:
    """Default a pointer field: only a missing key or null counts as unset."""
    if obj.get(key) is None:
        obj[key] = value


def empty(obj: Obj, key: str, value: Any) -> None:
    """Default a plain Go string/int field, where "" and 0 also mean unset."""
    current = obj.get(key)
    if current is None or current == "" or (current == 0 and type(current) is int):
        obj[key] = value
