"""Checks of a CRD version's ``additionalPrinterColumns`` and ``subresources``.

Both are data the server acts on later — columns become the Table ``kubectl get``
prints, scale paths decide what ``kubectl scale`` reads and writes — so a bad entry
is refused when the CRD is written, not discovered on the first ``get``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kube.errors import FieldError, duplicate, invalid, not_supported, required

from .schema import Schema

COLUMN_TYPES = ("integer", "number", "string", "boolean", "date")
COLUMN_FORMATS = ("int32", "int64", "float", "double", "byte", "date", "date-time", "password")


def check_columns(columns: Any, path: str) -> list[FieldError]:
    if columns is None:
        return []
    if not isinstance(columns, list):
        return [invalid(path, "", "must be a list")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, column in enumerate(columns):
        where = f"{path}[{index}]"
        if not isinstance(column, Mapping):
            errors.append(invalid(where, "", "must be an object"))
            continue
        name = column.get("name")
        if not name:
            errors.append(required(f"{where}.name"))
        elif name in seen:
            errors.append(duplicate(f"{where}.name", name))
        else:
            seen.add(str(name))
        type_ = column.get("type")
        if not type_:
            errors.append(required(f"{where}.type"))
        elif type_ not in COLUMN_TYPES:
            errors.append(not_supported(f"{where}.type", type_, list(COLUMN_TYPES)))
        fmt = column.get("format")
        if fmt and fmt not in COLUMN_FORMATS:
            errors.append(not_supported(f"{where}.format", fmt, list(COLUMN_FORMATS)))
        priority = column.get("priority")
        if priority is not None and (not isinstance(priority, int) or priority < 0):
            errors.append(invalid(f"{where}.priority", priority, "must be greater than or equal to 0"))
        json_path = column.get("jsonPath")
        if not json_path:
            errors.append(required(f"{where}.jsonPath"))
        elif not _simple_json_path(str(json_path)):
            errors.append(invalid(f"{where}.jsonPath", json_path, "must be a simple json path starting with ."))
    return errors


def _simple_json_path(text: str) -> bool:
    if not text.startswith("."):
        return False
    depth = 0
    for char in text:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def check_scale(subresources: Any, node: Schema | None, path: str) -> list[FieldError]:
    if not isinstance(subresources, Mapping):
        return []
    scale = subresources.get("scale")
    if scale is None:
        return []
    where = f"{path}.scale"
    if not isinstance(scale, Mapping):
        return [invalid(where, "", "must be an object")]
    errors: list[FieldError] = []
    spec_path = scale.get("specReplicasPath")
    if not spec_path:
        errors.append(required(f"{where}.specReplicasPath"))
    elif not str(spec_path).startswith(".spec."):
        errors.append(invalid(f"{where}.specReplicasPath", spec_path, "should be a json path under .spec"))
    elif (found := resolve(node, str(spec_path))) is not None and found.type not in ("integer", ""):
        errors.append(invalid(f"{where}.specReplicasPath", spec_path, "should be a json path to an integer field"))
    status_path = scale.get("statusReplicasPath")
    if not status_path:
        errors.append(required(f"{where}.statusReplicasPath"))
    elif not str(status_path).startswith(".status."):
        errors.append(invalid(f"{where}.statusReplicasPath", status_path, "should be a json path under .status"))
    selector = scale.get("labelSelectorPath")
    if selector and not str(selector).startswith((".spec.", ".status.")):
        errors.append(invalid(f"{where}.labelSelectorPath", selector,
                              "should be a json path under either .spec or .status"))
    return errors


def resolve(node: Schema | None, json_path: str) -> Schema | None:
    """The schema node at a simple ``.a.b.c`` path, or None when the schema lacks it."""
    for part in json_path.lstrip(".").split("."):
        if node is None:
            return None
        node = node.properties.get(part)
    return node


def get_path(obj: Mapping[str, Any], json_path: str) -> Any:
    """The value at ``.a.b.c`` in ``obj``, or None."""
    value: Any = obj
    for part in json_path.lstrip(".").split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def set_path(obj: dict[str, Any], json_path: str, value: Any) -> None:
    """Set ``.a.b.c`` in ``obj``, creating the objects on the way."""
    parts = json_path.lstrip(".").split(".")
    target = obj
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[parts[-1]] = value
