"""OpenAPI for the API server: ``/openapi/v2`` and ``/openapi/v3``.

kubectl needs OpenAPI for more than documentation: ``apply`` and ``create`` refuse to
run without it, decide from it whether the server validates fields, and ``explain``
prints it. What is published is generated from the registry of served resources and the
official Kubernetes 1.33 definitions the object model uses, so it can never describe
something the server does not serve.

Layout: ``convert`` (definitions → OpenAPI schemas), ``paths`` (operations per
resource), ``documents`` (whole documents, custom resource schemas), ``http`` (routes
and caching headers).
"""

from __future__ import annotations

from typing import Any

from kube.resources import Registry

from .documents import (
    custom_definition_name,
    parse_document_key,
    register_schema,
    unregister_schema,
    v2_document,
    v3_document,
)
from .http import V2_PROTOBUF, OpenAPIDocuments, routes


def openapi_v3_index(registry: Registry) -> dict[str, Any]:
    """``/openapi/v3``: ``{"paths": {"api/v1": {"serverRelativeURL": …?hash=…}, …}}``."""
    return OpenAPIDocuments(registry).index()


def openapi_v3_document(registry: Registry, path: str) -> dict[str, Any] | None:
    """The document at ``/openapi/v3/<path>`` (``api/v1``, ``apis/apps/v1``), or None.
    Read-only: its schemas are shared with the conversion cache."""
    parsed = parse_document_key(path)
    if parsed is None:
        return None
    return v3_document(registry, group=parsed[0], version=parsed[1])


__all__ = [
    "V2_PROTOBUF",
    "OpenAPIDocuments",
    "custom_definition_name",
    "openapi_v3_document",
    "openapi_v3_index",
    "register_schema",
    "routes",
    "unregister_schema",
    "v2_document",
]
