"""Builds the ``meta.k8s.io/v1`` Table that ``kubectl get`` asks for.

kubectl sends ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the
columns the server chooses, so the server owns the output format: with a Table, our
``kubectl get pods`` shows READY/STATUS/RESTARTS; without one, kubectl can only show
NAME and AGE. Each row carries the object too (by default only its metadata, as
``PartialObjectMetadata``), which kubectl reads for the NAMESPACE column of ``-A`` and
for ``--show-labels``.

A resource without a printer gets Kubernetes' default table: NAME and CREATED AT (a
``date`` column holding the RFC 3339 creation time, which kubectl turns into an age).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from kube.errors import BadRequest
from kube.resources import ResourceInfo

from . import builtin, docs
from .formatting import Cell, Obj, dig, dig_map, dig_str, rfc3339
from .registry import NAME, Column, Printer, key_of, lookup

TABLE_API_VERSION = "meta.k8s.io/v1"

DEFAULT_COLUMNS = (NAME, Column(name="Created At", type="date", description=docs.CREATION_TIMESTAMP))


def _default_row(obj: Obj, *, now: datetime) -> list[Cell]:
    return [dig_str(obj, "metadata", "name"), rfc3339(dig(obj, "metadata", "creationTimestamp"))]


DEFAULT_PRINTER = Printer(columns=DEFAULT_COLUMNS, row=_default_row)

builtin.install()


def printer_for(info: ResourceInfo) -> Printer:
    return lookup(key_of(info)) or DEFAULT_PRINTER


def columns_for(info: ResourceInfo) -> list[dict[str, Any]]:
    """The ``columnDefinitions`` a Table of ``info`` carries."""
    return [column.to_dict() for column in printer_for(info).columns]


def _partial_metadata(obj: Obj) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": TABLE_API_VERSION,
        "metadata": dict(dig_map(obj, "metadata")),
    }


def _object_policy(include_object: str | None) -> Callable[[Obj], Any]:
    """What each row's ``object`` holds, per the ``includeObject`` parameter."""
    if include_object in (None, "None"):
        return lambda obj: None
    if include_object in ("", "Metadata"):
        return _partial_metadata
    if include_object == "Object":
        return lambda obj: obj
    raise BadRequest(f"unrecognized includeObject value: {json.dumps(include_object)}")


def _table_metadata(*, objects: Sequence[Obj], list_meta: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if list_meta is None:
        # A single-object read: the table carries that object's resourceVersion.
        version = dig_str(objects[0], "metadata", "resourceVersion") if len(objects) == 1 else ""
        if version:
            out["resourceVersion"] = version
        return out
    if version := str(list_meta.get("resourceVersion") or ""):
        out["resourceVersion"] = version
    if token := str(list_meta.get("continue") or ""):
        out["continue"] = token
    if list_meta.get("remainingItemCount") is not None:
        out["remainingItemCount"] = list_meta["remainingItemCount"]
    return out


def table_for(
    *,
    info: ResourceInfo,
    objects: list[dict[str, Any]],
    include_object: str | None = "Metadata",
    now: datetime | None = None,
    list_meta: dict[str, Any] | None = None,
    no_headers: bool = False,
) -> dict[str, Any]:
    """The Table for ``objects`` of the resource ``info``.

    ``include_object`` is the ``includeObject`` query parameter: ``"Metadata"`` (also
    ``""``, the default) puts ``PartialObjectMetadata`` in each row, ``"Object"`` the
    whole object, ``"None"`` (or ``None``) nothing; anything else is a 400 BadRequest,
    as in Kubernetes. ``list_meta`` is the ListMeta of the list being shown; leave it
    ``None`` for a single-object GET or a watch event. ``now`` fixes the clock for ages.
    ``no_headers`` leaves out the column definitions (``columnDefinitions: null``), as
    Kubernetes does for every watch event after the first.
    """
    object_for = _object_policy(include_object)
    printer = printer_for(info)
    clock = now or datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.row(obj, now=clock)}
        if printer.conditions is not None and (conditions := printer.conditions(obj)):
            row["conditions"] = conditions
        row["object"] = object_for(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": TABLE_API_VERSION,
        "metadata": _table_metadata(objects=objects, list_meta=list_meta),
        "columnDefinitions": None if no_headers else [column.to_dict() for column in printer.columns],
        "rows": rows,
    }
