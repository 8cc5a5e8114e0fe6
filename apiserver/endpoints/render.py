"""The shapes an answer can take besides the object itself, chosen by the Accept header.

``kubectl get`` asks for a ``Table`` (its columns come from the server), metadata
informers for ``PartialObjectMetadata[List]``; everyone else gets the object or list.
A ``Status`` (a delete's "Success", an error) is never transformed.
"""

from __future__ import annotations

from typing import Any

from apiserver import printers
from apiserver.negotiation import Output
from kube.resources import ResourceInfo

Obj = dict[str, Any]


def _partial(obj: Obj, api_version: str) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": obj.get("metadata") or {}}


def render_object(output: Output, *, info: ResourceInfo, obj: Obj, include_object: str | None) -> Obj:
    if not output.as_kind or obj.get("kind") == "Status":
        return obj
    if output.as_kind == "Table":
        return printers.table_for(info=info, objects=[obj], include_object=include_object)
    return _partial(obj, f"{output.group}/{output.version}")


def render_list(
    output: Output, *, info: ResourceInfo, items: list[Obj], list_meta: dict[str, Any], include_object: str | None
) -> Obj:
    if not output.as_kind:
        return {"kind": info.list_kind, "apiVersion": info.api_version, "metadata": list_meta, "items": items}
    if output.as_kind == "Table":
        return printers.table_for(info=info, objects=items, include_object=include_object, list_meta=list_meta)
    api_version = f"{output.group}/{output.version}"
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": api_version,
        "metadata": list_meta,
        "items": [_partial(obj, api_version) for obj in items],
    }
