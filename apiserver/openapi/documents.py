"""Whole OpenAPI documents: one v3 document per group version, their index, and v2.

kube-apiserver publishes OpenAPI v3 per group version (``/openapi/v3/apis/apps/v1``)
so a client downloads only what it needs, and an index (``/openapi/v3``) that names
each document by a URL carrying a hash of its content. Because the URL changes whenever
the content does, clients may cache a document forever; kubectl does, under
``--cache-dir``.

A document holds the paths of the group version's resources and, under
``components.schemas``, every definition those paths reach (the kinds themselves, their
lists, the kinds subresources answer such as ``autoscaling/v1`` Scale, and the meta
types). Built-in kinds take their schema from the official definitions. Custom
resources take the ``openAPIV3Schema`` their CustomResourceDefinition registered with
``register_schema``, or, before one is registered, an open object schema, so that a
custom resource is never missing from the document of its group version.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from kube.model.schema import KUBERNETES_VERSION, definition_for, definitions
from kube.resources import Registry, ResourceInfo

from ..discovery import subresources_of
from .convert import (
    DELETE_OPTIONS,
    LIST_META,
    OBJECT_META,
    PATCH,
    STATUS,
    closure,
    converted,
    field_description,
    ref,
)
from .paths import PathBuilder

INFO = {"title": "Kubernetes", "version": f"v{KUBERNETES_VERSION}.0"}
_OPERATION_TYPES = (DELETE_OPTIONS, STATUS, PATCH)
# Descriptions of the fields every custom kind gets, borrowed from a built-in kind's.
_DESCRIBED_BY = "io.k8s.api.core.v1.ConfigMap"
_LIST_DESCRIBED_BY = "io.k8s.api.core.v1.ConfigMapList"


# --- custom resource schemas ----------------------------------------------------------

_custom_lock = threading.Lock()
_custom: dict[tuple[str, str, str], dict[str, Any]] = {}
_custom_generation = 0


def register_schema(*, group: str, version: str, kind: str, schema: Mapping[str, Any]) -> None:
    """Publish the ``openAPIV3Schema`` of a custom resource version (called when its
    CustomResourceDefinition is established or changes)."""
    global _custom_generation
    with _custom_lock:
        _custom[(group, version, kind)] = copy.deepcopy(dict(schema))
        _custom_generation += 1


def unregister_schema(*, group: str, version: str, kind: str) -> None:
    global _custom_generation
    with _custom_lock:
        if _custom.pop((group, version, kind), None) is not None:
            _custom_generation += 1


def custom_generation() -> int:
    """Changes whenever a custom schema is registered or removed (cache invalidation)."""
    return _custom_generation


def custom_definition_name(*, group: str, version: str, kind: str) -> str:
    """Kubernetes names a custom kind's schema by its reversed group:
    ``stable.example.com``/v1/CronTab → ``com.example.stable.v1.CronTab``."""
    return ".".join([*reversed(group.split(".")), version, kind])


def _type_fields(described_by: str) -> dict[str, dict[str, Any]]:
    return {
        field: {"description": field_description(described_by, field), "type": "string"}
        for field in ("apiVersion", "kind")
    }


def _custom_kind(info: ResourceInfo) -> dict[str, Any]:
    with _custom_lock:
        given = copy.deepcopy(_custom.get((info.group, info.version, info.kind)))
    schema = given or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    properties = schema.setdefault("properties", {})
    # The CRD's schema may describe metadata loosely; the document always has the real one.
    properties.update(_type_fields(_DESCRIBED_BY))
    properties["metadata"] = {
        "allOf": [ref(OBJECT_META)],
        "description": field_description(_DESCRIBED_BY, "metadata"),
    }
    schema["x-kubernetes-group-version-kind"] = [
        {"group": info.group, "kind": info.kind, "version": info.version}
    ]
    return schema


def _custom_list(info: ResourceInfo) -> dict[str, Any]:
    kind_name = custom_definition_name(group=info.group, version=info.version, kind=info.kind)
    return {
        "description": f"{info.kind}List is a list of {info.kind}",
        "properties": {
            **_type_fields(_LIST_DESCRIBED_BY),
            "items": {"description": f"List of {info.resource}.", "items": ref(kind_name), "type": "array"},
            "metadata": {
                "allOf": [ref(LIST_META)],
                "description": field_description(_LIST_DESCRIBED_BY, "metadata"),
            },
        },
        "required": ["items"],
        "type": "object",
        "x-kubernetes-group-version-kind": [
            {"group": info.group, "kind": info.list_kind, "version": info.version}
        ],
    }


# --- v3 ------------------------------------------------------------------------------


def document_key(*, group: str, version: str) -> str:
    """The index key (and URL tail) of a group version: ``api/v1``, ``apis/apps/v1``."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def served_group_versions(registry: Registry) -> list[tuple[str, str]]:
    return sorted(
        {(i.group, i.version) for i in registry}, key=lambda gv: document_key(group=gv[0], version=gv[1])
    )


def _infos(registry: Registry, *, group: str, version: str) -> list[ResourceInfo]:
    return sorted(
        (i for i in registry if i.group == group and i.version == version), key=lambda i: i.resource
    )


def v3_document(registry: Registry, *, group: str, version: str) -> dict[str, Any] | None:
    """The OpenAPI v3 document of one group version, or None when none is served.
    Built-in schemas in it are shared with the conversion cache: do not mutate them."""
    infos = _infos(registry, group=group, version=version)
    if not infos:
        return None
    custom: dict[str, dict[str, Any]] = {}
    for info in infos:
        if definition_for(group=info.group, version=info.version, kind=info.kind) is None:
            name = custom_definition_name(group=info.group, version=info.version, kind=info.kind)
            custom[name] = _custom_kind(info)
            custom[name + "List"] = _custom_list(info)

    def ref_of(g: str, v: str, kind: str) -> str | None:
        name = definition_for(group=g, version=v, kind=kind)
        if name is None and (candidate := custom_definition_name(group=g, version=v, kind=kind)) in custom:
            return candidate
        return name

    builder = PathBuilder(group=group, version=version, ref_of=ref_of)
    paths: dict[str, Any] = {}
    for info in infos:
        paths.update(builder.paths(info))
    schemas = {name: converted(name) for name in closure(_builtin_roots(infos, custom=custom))}
    schemas.update(custom)
    return {
        "openapi": "3.0.0",
        "info": INFO,
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "BearerToken": {
                    "description": "Bearer Token authentication",
                    "in": "header",
                    "name": "authorization",
                    "type": "apiKey",
                }
            },
        },
        "security": [{"BearerToken": []}],
    }


def _builtin_roots(infos: Iterable[ResourceInfo], *, custom: Mapping[str, Any]) -> list[str]:
    roots: list[str] = [*_OPERATION_TYPES]
    if custom:
        roots += [OBJECT_META, LIST_META]
    for info in infos:
        wanted = [(info.group, info.version, info.kind), (info.group, info.version, info.list_kind)]
        wanted += [(s.group, s.version, s.kind) for s in subresources_of(info)]
        for g, v, kind in wanted:
            name = definition_for(group=g, version=v, kind=kind)
            if name is not None:
                roots.append(name)
    return roots


def parse_document_key(path: str) -> tuple[str, str] | None:
    """``api/v1`` → ("", "v1"); ``apis/apps/v1`` → ("apps", "v1"); else None."""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        return "", parts[1]
    if len(parts) == 3 and parts[0] == "apis" and parts[1]:
        return parts[1], parts[2]
    return None


# --- v2 ------------------------------------------------------------------------------


def v2_document() -> dict[str, Any]:
    """A Swagger 2.0 document with every built-in definition and no paths, for clients
    that ask ``/openapi/v2`` for JSON (kubectl asks for protobuf and gets an empty one)."""
    schemas: dict[str, Any] = {name: converted(name, "v2") for name in definitions()}
    return {"swagger": "2.0", "info": INFO, "paths": {}, "definitions": schemas}
