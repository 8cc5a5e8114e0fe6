"""The Kubernetes CEL libraries, as functions for ``celpy``.

CEL itself has only a small standard library; kube-apiserver adds extension
libraries that real CRDs use in their ``x-kubernetes-validations`` (string helpers,
list helpers, regular expressions, quantities). ``celpy`` binds a method call
``x.f(y)`` to the function ``f(x, y)``, so each one here is an ordinary function
taking the receiver first. Only what ``celpy`` lacks is defined.

Conversions between JSON values and CEL values live here too: ``to_cel`` builds CEL
values directly (``celpy.json_to_cel`` re-validates every map key and was most of the
cost of evaluating a rule), and turns ``date-time``/``duration`` strings into
timestamps and durations as Kubernetes does for fields of those formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import celpy
from celpy import celtypes

from kube.quantity import Quantity, QuantityError

from .schema import Schema

CEL = Any
_String = celtypes.StringType
_Int = celtypes.IntType
_Bool = celtypes.BoolType
_List = celtypes.ListType


_INT64 = (-(2**63), 2**63 - 1)


def to_cel(value: Any, node: Schema | None = None) -> CEL:
    """A JSON value as a CEL value, shaped by its schema node when known. Scalars are
    built with the base type's constructor: celpy's own constructors re-check every
    value (``IntType(3)`` costs tens of microseconds) and JSON values need no check."""
    if value is None:
        return None
    if isinstance(value, bool):
        return _Bool(value)
    if isinstance(value, str):
        if node is not None and node.format:
            if node.format in ("date-time", "datetime"):
                try:
                    return celtypes.TimestampType(value)
                except ValueError:
                    return _String(value)
            if node.format == "duration":
                try:
                    return celtypes.DurationType(value)
                except ValueError:
                    return _String(value)
        return str.__new__(_String, value)
    if isinstance(value, int):
        if _INT64[0] <= value <= _INT64[1]:
            return int.__new__(_Int, value)
        return _Int(value)
    if isinstance(value, float):
        return float.__new__(celtypes.DoubleType, value)
    if isinstance(value, list):
        items = node.items if node is not None else None
        return _List([to_cel(v, items) for v in value])
    if isinstance(value, dict):
        result = celtypes.MapType()
        props = node.properties if node is not None else {}
        values = node.additional if node is not None else None
        converted = {_String(k): to_cel(v, props.get(k, values)) for k, v in value.items()}
        dict.update(result, converted)  # type: ignore[misc]  # skips MapType's per-key checks
        return result
    return value


def to_json(value: CEL) -> Any:
    """A CEL result back as plain JSON (for ``Duplicate value`` and messages)."""
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


# --- strings (cel-go ext.Strings) ------------------------------------------------------


def _char_at(s: str, i: int) -> CEL:
    if i < 0 or i > len(s):
        raise IndexError(f"index out of range: {i}")
    return _String(s[i : i + 1])


def _index_of(receiver: Any, item: Any, start: int = 0) -> CEL:
    if isinstance(receiver, str):
        return _Int(receiver.find(item, int(start)))
    for i, v in enumerate(receiver):
        if v == item:
            return _Int(i)
    return _Int(-1)


def _last_index_of(receiver: Any, item: Any) -> CEL:
    if isinstance(receiver, str):
        return _Int(receiver.rfind(item))
    for i in range(len(receiver) - 1, -1, -1):
        if receiver[i] == item:
            return _Int(i)
    return _Int(-1)


def _substring(s: str, start: int, end: int | None = None) -> CEL:
    stop = len(s) if end is None else int(end)
    if start < 0 or stop > len(s) or start > stop:
        raise IndexError(f"substring out of range: [{start}:{stop}]")
    return _String(s[int(start) : stop])


def _split(s: str, sep: str, limit: int = -1) -> CEL:
    parts = s.split(sep) if limit < 0 else s.split(sep, max(int(limit) - 1, 0)) if limit else []
    return _List([_String(p) for p in parts])


def _replace(s: str, old: str, new: str, limit: int = -1) -> CEL:
    return _String(s.replace(old, new, int(limit)))


def _join(items: list[Any], sep: str = "") -> CEL:
    return _String(sep.join(str(i) for i in items))


# --- lists (Kubernetes' lists library) -------------------------------------------------


def _is_sorted(items: list[Any]) -> CEL:
    return _Bool(all(items[i] <= items[i + 1] for i in range(len(items) - 1)))


def _sum(items: list[Any]) -> CEL:
    total: Any = _Int(0)
    for item in items:
        total = total + item
    return total


def _min(items: list[Any]) -> CEL:
    if not items:
        raise ValueError("min called on empty list")
    return min(items)


def _max(items: list[Any]) -> CEL:
    if not items:
        raise ValueError("max called on empty list")
    return max(items)


# --- regular expressions ---------------------------------------------------------------


def _find(s: str, pattern: str) -> CEL:
    found = re.search(pattern, s)
    return _String(found.group(0) if found else "")


def _find_all(s: str, pattern: str, limit: int = -1) -> CEL:
    matches = [m.group(0) for m in re.finditer(pattern, s)]
    return _List([_String(m) for m in (matches if limit < 0 else matches[: int(limit)])])


# --- quantities ------------------------------------------------------------------------


class QuantityValue:
    """A Kubernetes quantity as a CEL value (``quantity("500m")``)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.quantity = Quantity(text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuantityValue) and self.quantity == other.quantity

    def __hash__(self) -> int:
        return hash(self.text)


def _quantity(text: str) -> QuantityValue:
    try:
        return QuantityValue(str(text))
    except QuantityError as err:
        raise ValueError(f"invalid quantity: {err}") from None


def _is_quantity(text: str) -> CEL:
    try:
        Quantity(str(text))
    except QuantityError:
        return _Bool(False)
    return _Bool(True)


def _compare(a: QuantityValue, b: QuantityValue) -> int:
    return (a.quantity > b.quantity) - (a.quantity < b.quantity)


def _sign(q: QuantityValue) -> CEL:
    zero = Quantity(0)
    return _Int((q.quantity > zero) - (q.quantity < zero))


LIBRARY: dict[str, Callable[..., Any]] = {
    "charAt": _char_at,
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "lowerAscii": lambda s: _String(str(s).lower()),
    "upperAscii": lambda s: _String(str(s).upper()),
    "trim": lambda s: _String(str(s).strip()),
    "substring": _substring,
    "split": _split,
    "replace": _replace,
    "join": _join,
    "isSorted": _is_sorted,
    "sum": _sum,
    "min": _min,
    "max": _max,
    "find": _find,
    "findAll": _find_all,
    "quantity": _quantity,
    "isQuantity": _is_quantity,
    "compareTo": lambda a, b: _Int(_compare(a, b)),
    "isGreaterThan": lambda a, b: _Bool(_compare(a, b) > 0),
    "isLessThan": lambda a, b: _Bool(_compare(a, b) < 0),
    "asInteger": lambda q: _Int(int(q.quantity.value())),
    "asApproximateFloat": lambda q: celtypes.DoubleType(float(q.quantity.value())),
    "sign": _sign,
}

KNOWN_FUNCTIONS = frozenset({*celpy.evaluation.base_functions, *LIBRARY, "has", "dyn", "all", "exists",
                             "exists_one", "map", "filter"})  # fmt: skip
"""Every function and macro name a rule may call; others fail at compile time."""
