"""Tables for custom resources, from their CRD's ``additionalPrinterColumns``.

A CRD declares its columns as data (name, type, JSONPath, optional format, priority and
description); the API server turns them into a printer when the CRD is served. The
rules follow apiextensions' table convertor: NAME always comes first; a CRD version
without columns gets one AGE column; a cell whose path finds nothing, or a value of
the wrong type, is ``null``; ``date`` cells print as an age (``5m``), ``<invalid>`` when
the value is not a timestamp; ``string`` cells print the value as Go's text/JSONPath
printer would (maps and lists as compact JSON, ``1e+06`` for a large float).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import docs
from .formatting import INVALID, Cell, Obj, dig_str, parse_time, since
from .jsonpath import JSONPath, JSONPathError, parse
from .registry import NAME, Column, ResourceKey, register

log = logging.getLogger(__name__)

_DEFAULT_COLUMNS = (
    {
        "name": "Age",
        "type": "date",
        "description": docs.CREATION_TIMESTAMP,
        "jsonPath": ".metadata.creationTimestamp",
    },
)


# --- Go's text forms ---------------------------------------------------------------


def _digits(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of ``value`` and the position of the point."""
    _, digits, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exponent)
    return text, point


def _exponent_form(digits: str, point: int, *, min_exp_digits: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = point - 1
    return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):0{min_exp_digits}d}"


def _fixed_form(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def go_float_text(value: float) -> str:
    """``fmt.Sprint(f)``: shortest digits, exponent form below 1e-4 or from 1e6."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"
    digits, point = _digits(value)
    sign = "-" if value < 0 else ""
    exp = point - 1
    # %v is %g with the shortest precision, which strconv switches to %e from 1e6.
    if exp < -4 or exp >= 6:
        return sign + _exponent_form(digits, point, min_exp_digits=2)
    return sign + _fixed_form(digits, point)


def _go_json_float(value: float) -> str:
    """``encoding/json``'s float form: fixed, or exponent outside [1e-6, 1e21)."""
    if value == 0:
        return "0"
    digits, point = _digits(value)
    sign = "-" if value < 0 else ""
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        return sign + _exponent_form(digits, point, min_exp_digits=1 if point - 1 < 0 else 2)
    return sign + _fixed_form(digits, point)


def go_json(value: Any) -> str:
    """``json.Marshal``: compact, map keys sorted, ``<``, ``>`` and ``&`` escaped."""
    if isinstance(value, Mapping):
        items = (f"{go_json(str(k))}:{go_json(value[k])}" for k in sorted(value, key=str))
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, float):
        return _go_json_float(value)
    text = json.dumps(value, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def go_text(value: Any) -> str:
    """How client-go's JSONPath printer writes one result."""
    if isinstance(value, Mapping | list):
        return go_json(value)
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float_text(value)
    return str(value)


# --- cells -------------------------------------------------------------------------


def cell_for(*, column_type: str, value: Any, now: datetime) -> Cell:
    """A found value as a cell of a non-string column, ``None`` when it does not fit."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if column_type == "integer" and is_number:
        return int(value)
    if column_type == "number" and is_number:
        return float(value)
    if column_type == "boolean" and isinstance(value, bool):
        return value
    if column_type == "string" and isinstance(value, str):
        return value
    if column_type == "date" and isinstance(value, str):
        if value and value != "null" and parse_time(value) is None:
            return INVALID
        return since(value, now=now)
    return None


class _CustomRow:
    """The row function of one CRD version: NAME, then each column's path."""

    def __init__(self, *, columns: Sequence[tuple[Column, JSONPath]]) -> None:
        self._columns = tuple(columns)

    def __call__(self, obj: Obj, *, now: datetime) -> list[Cell]:
        cells: list[Cell] = [dig_str(obj, "metadata", "name")]
        for column, path in self._columns:
            try:
                found = path.find(obj)
            except JSONPathError:
                found = []
            if not found:
                cells.append(None)
            elif column.type == "string":
                cells.append(go_text(found[0]))
            else:
                cells.append(cell_for(column_type=column.type, value=found[0], now=now))
        return cells


def register_custom(
    *,
    group: str,
    resource: str,
    printer_columns: Sequence[Mapping[str, Any]],
    version: str = "",
) -> None:
    """Print a custom resource with its CRD's ``additionalPrinterColumns``.

    ``version`` scopes the columns to one served version (CRD columns are per version);
    empty applies them to all. As in Kubernetes, a column whose JSONPath does not parse
    ends the list: the columns before it are kept and the problem is logged.
    """
    parsed: list[tuple[Column, JSONPath]] = []
    for spec in printer_columns or _DEFAULT_COLUMNS:
        json_path = str(spec.get("jsonPath", ""))
        try:
            path = parse(json_path)
        except JSONPathError as err:
            log.warning(
                "%s.%s has an invalid printer column, using the ones before it: %s", resource, group, err
            )
            break
        column = Column(
            name=str(spec.get("name", "")),
            type=str(spec.get("type", "")),
            format=str(spec.get("format", "") or ""),
            priority=int(spec.get("priority", 0) or 0),
            description=str(
                spec.get("description")
                or f"Custom resource definition column (in JSONPath format): {json_path}"
            ),
        )
        parsed.append((column, path))
    columns = (NAME, *(column for column, _ in parsed))
    register(
        ResourceKey(group=group, resource=resource, version=version), columns, _CustomRow(columns=parsed)
    )
