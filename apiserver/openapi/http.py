"""Serving ``/openapi/v2`` and ``/openapi/v3`` with the caching headers clients rely on.

``/openapi/v2``: kubectl asks for protobuf, and kubectl 1.27 gives up when the answer
is a 404. An empty protobuf body *is* a valid, empty ``OpenAPIv2`` message, which makes
kubectl skip client-side validation (the server validates strictly anyway) without
needing a protobuf encoder here. A client asking for JSON gets a Swagger 2.0 document.

``/openapi/v3``: the index names each group version's document by a URL with
``?hash=<content hash>``. As in kube-apiserver, such a URL is immutable (``Cache-Control:
public, immutable``, expiring in a year), a stale hash is redirected to the current one,
and every document carries an ``ETag`` so a conditional GET costs a 304. Documents are
rendered once per registry change, off the event loop: the first core/v1 document
converts a few hundred definitions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from kube.resources import Registry

from ..discovery import RenderCache, Rendered, json_response, not_found
from ..negotiation import parse_accept
from .documents import (
    custom_generation,
    document_key,
    parse_document_key,
    served_group_versions,
    v2_document,
    v3_document,
)

# kube-openapi answers protobuf requests (either spelling) with the dotted spelling: the
# "@" of the one clients send is not valid in a media type, and Go clients fail to parse
# a Content-Type carrying it ("mime: unexpected content after media subtype").
V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
V3_PREFIX = "/openapi/v3/"
_IMMUTABLE_FOR = timedelta(days=365)


class OpenAPIDocuments:
    """The OpenAPI documents of one registry, rendered lazily and cached until the
    registry or a custom resource schema changes."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._cache = RenderCache(lambda: (registry.generation, custom_generation()))

    def document(self, key: str) -> Rendered | None:
        """The v3 document at index key ``key`` (``apis/apps/v1``), or None."""
        parsed = parse_document_key(key)
        if parsed is None:
            return None
        group, version = parsed
        return self._cache.get(
            ("v3", group, version), lambda: v3_document(self.registry, group=group, version=version)
        )

    def index(self) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        for group, version in served_group_versions(self.registry):
            key = document_key(group=group, version=version)
            rendered = self.document(key)
            if rendered is not None:
                paths[key] = {"serverRelativeURL": f"{V3_PREFIX}{key}?hash={rendered.etag}"}
        return {"paths": paths}

    def rendered_index(self) -> Rendered:
        rendered = self._cache.get(("v3-index",), self.index)
        assert rendered is not None
        return rendered

    def v2(self) -> Rendered:
        # Built-in definitions only, so the registry's generation is irrelevant; the
        # cache still drops it on changes, which is rare and cheap enough.
        rendered = self._cache.get(("v2",), v2_document)
        assert rendered is not None
        return rendered


def _wants_protobuf(accept: str) -> bool:
    for rng in parse_accept(accept):
        if "protobuf" in rng.subtype:
            return True
        if rng.media_type in ("application/json", "application/*", "*/*"):
            return False
    return False


def _conditional(request: Request, rendered: Rendered, headers: dict[str, str]) -> Response:
    etag = f'"{rendered.etag}"'
    headers = {**headers, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return json_response(rendered.body, headers=headers)


def routes(registry: Registry) -> list[BaseRoute]:
    """GET routes for ``/openapi/v2``, ``/openapi/v3`` and ``/openapi/v3/<group version>``.
    The caller authenticates; unknown documents answer a 404 Status."""
    documents = OpenAPIDocuments(registry)

    async def v2(request: Request) -> Response:
        if _wants_protobuf(request.headers.get("accept", "")):
            return Response(b"", headers={"Content-Type": V2_PROTOBUF})
        rendered = await run_in_threadpool(documents.v2)
        return _conditional(request, rendered, {})

    async def v3_index(request: Request) -> Response:
        rendered = await run_in_threadpool(documents.rendered_index)
        return _conditional(request, rendered, {})

    async def v3_document(request: Request) -> Response:
        key = request.path_params["path"]
        rendered = await run_in_threadpool(documents.document, key)
        if rendered is None:
            return not_found()
        wanted = request.query_params.get("hash")
        if wanted is None:
            return _conditional(request, rendered, {})
        if wanted != rendered.etag:
            # An old hash from a cached index: send the client to the current document.
            return RedirectResponse(f"{V3_PREFIX}{key}?hash={rendered.etag}", status_code=301)
        expires = format_datetime(datetime.now(UTC) + _IMMUTABLE_FOR, usegmt=True)
        headers = {"Cache-Control": "public, immutable", "Expires": expires, "Vary": "Accept"}
        return _conditional(request, rendered, headers)

    get = ["GET"]
    return [
        Route("/openapi/v2", v2, methods=get),
        Route("/openapi/v3", v3_index, methods=get),
        Route("/openapi/v3/{path:path}", v3_document, methods=get),
    ]
