"""Serving discovery and ``/version`` over HTTP, from documents rendered once.

Every kubectl command fetches ``/api`` and ``/apis``, so these are among the most
requested paths; they are rendered once per registry change (``Registry.generation``)
and served from bytes. Aggregated answers carry an ``ETag`` (a conditional GET costs a
304) and ``Vary: Accept``, since one URL has two forms.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from apiserver.version import version_info
from kube.errors import NotFound
from kube.resources import Registry

from .documents import (
    aggregated,
    aggregated_content_type,
    api_group,
    api_group_list,
    api_versions,
    resource_list,
    wanted_aggregated_version,
)

NOT_FOUND_MESSAGE = "the server could not find the requested resource"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A document as sent: its JSON bytes and a strong validator for them."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, doc: Any) -> Rendered:
        body = orjson.dumps(doc)
        return cls(body=body, etag=hashlib.sha512(body).hexdigest().upper())


class RenderCache:
    """Rendered documents, all dropped as soon as ``generation()`` (the registry's
    change counter, for instance) returns something new.

    Building a document walks the whole registry (and, for OpenAPI, converts schemas),
    while serving one should cost a dictionary lookup. Only documents that exist are
    kept: a miss for a path a client made up must not grow the cache.
    """

    def __init__(self, generation: Callable[[], Hashable]) -> None:
        self._current = generation
        self._lock = threading.Lock()
        self._generation: Hashable = object()  # matches no real generation
        self._docs: dict[Hashable, Rendered] = {}

    def get(self, key: Hashable, build: Callable[[], Any]) -> Rendered | None:
        generation = self._current()
        with self._lock:
            if generation != self._generation:
                self._docs.clear()
                self._generation = generation
            found = self._docs.get(key)
        if found is not None:
            return found
        doc = build()
        if doc is None:
            return None
        rendered = doc if isinstance(doc, Rendered) else Rendered.of(doc)
        with self._lock:
            if self._generation == generation:
                self._docs[key] = rendered
        return rendered


def json_response(
    body: bytes,
    *,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        body, status_code=status, media_type=None, headers={"Content-Type": content_type, **(headers or {})}
    )


def not_found() -> Response:
    err = NotFound(NOT_FOUND_MESSAGE)
    return json_response(err.to_json(), status=err.code)


def _aggregated_response(request: Request, rendered: Rendered, version: str) -> Response:
    etag = f'"{rendered.etag}"'
    headers = {"ETag": etag, "Vary": "Accept"}
    content_type = aggregated_content_type(version)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={**headers, "Content-Type": content_type})
    return json_response(rendered.body, content_type=content_type, headers=headers)


def routes(registry: Registry) -> list[BaseRoute]:
    """The routes of ``/version``, ``/api``, ``/apis`` and everything below them that is
    not a resource. Every route is GET-only and expects an authenticated request (the
    caller authenticates); unknown groups and versions answer a 404 Status."""
    cache = RenderCache(lambda: registry.generation)

    async def version(_request: Request) -> Response:
        return json_response(orjson.dumps(version_info()))

    async def api(request: Request) -> Response:
        wanted = wanted_aggregated_version(request.headers.get("accept", ""))
        if wanted is not None:
            rendered = cache.get(
                ("aggregated", True, wanted), lambda: aggregated(registry, wanted, core=True)
            )
            assert rendered is not None
            return _aggregated_response(request, rendered, wanted)
        host = request.headers.get("host", "")
        return json_response(orjson.dumps(api_versions(server_address=host)), headers={"Vary": "Accept"})

    async def apis(request: Request) -> Response:
        wanted = wanted_aggregated_version(request.headers.get("accept", ""))
        if wanted is not None:
            rendered = cache.get(("aggregated", False, wanted), lambda: aggregated(registry, wanted))
            assert rendered is not None
            return _aggregated_response(request, rendered, wanted)
        rendered = cache.get(("groups",), lambda: api_group_list(registry))
        assert rendered is not None
        return json_response(rendered.body, headers={"Vary": "Accept"})

    async def group(request: Request) -> Response:
        name = request.path_params["group"]
        rendered = cache.get(("group", name), lambda: api_group(registry, name))
        return not_found() if rendered is None else json_response(rendered.body)

    async def resources(request: Request) -> Response:
        name = request.path_params.get("group", "")
        version = request.path_params["version"]
        rendered = cache.get(("resources", name, version), lambda: resource_list(registry, name, version))
        return not_found() if rendered is None else json_response(rendered.body)

    get = ["GET"]
    return [
        Route("/version", version, methods=get),
        Route("/api", api, methods=get),
        Route("/apis", apis, methods=get),
        Route("/api/{version}", resources, methods=get),
        Route("/apis/{group}", group, methods=get),
        Route("/apis/{group}/{version}", resources, methods=get),
    ]
