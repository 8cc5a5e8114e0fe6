"""The ASGI application: authentication, then resource requests or everything else.

Two layers, for speed and for clarity:

- ``KubeApp`` sees every request first. Health probes pass without credentials, and
  ``KubeApp`` answers the ones ``Health.routes`` would (``GET``/``HEAD`` of
  ``/healthz``, ``/livez``, ``/readyz`` and ``/<probe>/<check>``) itself, through
  ``Health.respond``, the routes' own response writer: the framework's routing and middleware
  cost more than the checks, and load balancers probe often. Every
  other request must authenticate (401 Status otherwise) and, when an ``Authorizer`` is
  configured, be authorized (403). The path is parsed once into a ``RequestInfo``
  (what authorization decides on); resource requests (``/api/v1/namespaces/x/pods/y``)
  go straight to ``ResourceEndpoints`` — the hot path, with no framework routing — and
  are counted in the request metrics.
- A FastAPI app serves the rest: health, ``/metrics``, the root path list, and whatever
  the discovery and OpenAPI modules provide (``/api``, ``/apis``, ``/version``,
  ``/openapi/v2``, ``/openapi/v3``). Those modules plug in by exposing
  ``routes(registry) -> list[starlette Route]``; ``create_app`` mounts them when they
  exist. Anything unmatched is a 404 Status, never an HTML page. Likewise a protobuf
  body decoder (``apiserver.protobuf``) is registered with negotiation when present.

The authenticated user is put in the scope (``scope["kubesim.user"]``) with the
RequestInfo (``scope["kubesim.request_info"]``) for the routes that need them.
"""

from __future__ import annotations

import importlib
import logging
import ssl
import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import orjson
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from apiserver import negotiation, requestinfo
from apiserver.authn import Authenticator, CertificateAuthenticator
from apiserver.endpoints import NOT_FOUND, ResourceEndpoints, send_status, status_of
from apiserver.endpoints.responses import Receive, Scope, Send
from apiserver.health import PATHS as HEALTH_PATHS
from apiserver.health import Health
from apiserver.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from apiserver.metrics import Metrics
from apiserver.registry import API
from kube.errors import MethodNotAllowed, NotFound, StatusError, Unauthorized

logger = logging.getLogger("apiserver")

USER_SCOPE_KEY = "kubesim.user"
REQUEST_INFO_SCOPE_KEY = "kubesim.request_info"
QUERY_SCOPE_KEY = "kubesim.query"
"""The parsed query parameters, when a filter in front already parsed them with the RequestInfo."""
# Modules written beside this one that serve non-resource paths; each exposes
# ``routes(registry) -> list[Route]``. Missing ones are skipped (their paths 404).
PLUGIN_MODULES = ("apiserver.discovery", "apiserver.openapi")


class Authorizer(Protocol):
    """Decides whether ``user`` may do what ``request`` asks (RBAC plugs in here). One
    that decides without waiting may also offer ``authorize_now`` (the same, not a
    coroutine), which is then called instead: a coroutine per request costs more than
    the admin's decision."""

    async def authorize(self, *, user: Any, request: requestinfo.RequestInfo) -> None:
        """Return to allow; raise a StatusError (Forbidden, 403) to refuse."""
        ...


class ConnectionCachingAuthenticator:
    """Remembers, per TLS connection, whom its client certificate names.

    A certificate is fixed for the life of a connection, so checking it on every
    request (parsing its validity dates costs tens of microseconds) is wasted work on
    keep-alive connections. The answer is kept in the connection's ``tls`` extension
    dict (one per connection, see ``apiserver.tls``) until the certificate expires.
    Requests carrying an ``Authorization`` header always go to the wrapped
    authenticator: their user may come from the token. Only users are remembered,
    never a refusal, so a certificate that is not yet valid is asked about again.
    """

    _KEY = "kubesim.authenticated"

    def __init__(self, inner: Authenticator) -> None:
        self.inner = inner

    def cached_user(self, scope: Scope, *, authorization: bool) -> Any:
        """The user this connection's certificate was found to name, or None when the
        request must be authenticated in full (no answer yet, expired, or a token)."""
        if authorization:
            return None
        extensions = scope.get("extensions")
        tls = extensions.get("tls") if extensions else None
        if not isinstance(tls, dict):
            return None
        cached = tls.get(self._KEY)
        if cached is not None and time.time() < cached[1]:
            return cached[0]
        return None

    async def authenticate(self, scope: Scope) -> Any:
        tls = (scope.get("extensions") or {}).get("tls")
        if not isinstance(tls, dict) or not tls.get("peer_cert") or _has_authorization(scope):
            return await self.inner.authenticate(scope)
        cached = tls.get(self._KEY)
        if cached is not None and time.time() < cached[1]:
            return cached[0]
        user = await self.inner.authenticate(scope)
        if user is not None:
            tls[self._KEY] = (user, ssl.cert_time_to_seconds(tls["peer_cert"]["notAfter"]))
        return user


def _has_authorization(scope: Scope) -> bool:
    return any(name == b"authorization" for name, _ in scope["headers"])


def install_body_decoders() -> None:
    """Accept protobuf request bodies (kubectl ≥ 1.32 sends them) when the decoder exists."""
    try:
        from apiserver import protobuf
    except ModuleNotFoundError as err:
        if err.name != "apiserver.protobuf":
            raise
        return
    negotiation.register_decoder(protobuf.PROTOBUF, protobuf.decode)


def _status_response(err: StatusError) -> Response:
    return Response(err.to_json(), status_code=err.code, media_type="application/json")


def plugin_routes(api: API, modules: Iterable[str] = PLUGIN_MODULES) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                logger.info("%s is not available; its paths answer 404", name)
                continue
            raise
        routes.extend(module.routes(api.resources))
    return routes


def _inner_app(*, api: API, metrics: Metrics, health: Health, extra_routes: Sequence[BaseRoute]) -> FastAPI:
    routes: list[BaseRoute] = [*health.routes(), *extra_routes]

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(metrics.expose(), media_type=METRICS_CONTENT_TYPE)

    routes.append(Route("/metrics", metrics_endpoint, methods=["GET"]))

    async def root(_request: Request) -> Response:
        paths = sorted({"/api", "/apis", "/metrics", "/version", *HEALTH_PATHS, *_route_paths(routes)})
        return Response(orjson.dumps({"paths": paths}), media_type="application/json")

    routes.append(Route("/", root, methods=["GET"]))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, routes=routes)

    async def http_error(_request: Request, exc: Exception) -> Response:
        code = getattr(exc, "status_code", 500)
        if code == 404:
            return _status_response(NotFound(NOT_FOUND))
        if code == 405:
            return _status_response(MethodNotAllowed())
        return _status_response(status_of(exc))

    async def status_error(_request: Request, exc: Exception) -> Response:
        return _status_response(status_of(exc))

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(StatusError, status_error)
    app.add_exception_handler(Exception, status_error)
    return app


def _route_paths(routes: Iterable[BaseRoute]) -> list[str]:
    out = []
    for route in routes:
        path = getattr(route, "path", "")
        if path and "{" not in path:
            out.append(path)
    return out


class KubeApp:
    def __init__(
        self,
        *,
        api: API,
        metrics: Metrics,
        health: Health,
        authenticator: Authenticator,
        authorizer: Authorizer | None = None,
        extra_routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.api = api
        self.metrics = metrics
        self.health = health
        self.authenticator = authenticator
        # A filter in front (``apiserver.filters``) named the user: read it, no await.
        self._user_in_scope = bool(getattr(authenticator, "scope_provided", False))
        self.authorizer = authorizer
        self._authorize_now = getattr(authorizer, "authorize_now", None)
        self.endpoints = ResourceEndpoints(
            api=api, on_watch_open=metrics.watch_opened, on_watch_close=metrics.watch_closed
        )
        self.inner = _inner_app(api=api, metrics=metrics, health=health, extra_routes=extra_routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)  # lifespan; websockets are routed by plug-ins
            return
        path: str = scope["path"]
        info: requestinfo.RequestInfo | None = scope.get(REQUEST_INFO_SCOPE_KEY)
        if info is None and _is_health(path):  # a filter in front that parsed the path passed probes by
            target = _health_target(path, scope["method"])
            if target is None:
                await self.inner(scope, receive, send)  # a 404/405 Status or a slash redirect
            else:
                await self.health.respond(scope, send, endpoint=target[0], only=target[1])
            return
        if self._user_in_scope:
            user = scope.get(USER_SCOPE_KEY)
            if user is None:
                await send_status(send, Unauthorized())
                return
        else:
            try:
                user = await self.authenticator.authenticate(scope)
                if user is None:
                    raise Unauthorized()
            except Exception as err:
                await send_status(send, err)
                return
            scope[USER_SCOPE_KEY] = user
        query: dict[str, str] | None = scope.get(QUERY_SCOPE_KEY)
        if info is None or query is None:
            query = requestinfo.parse_query(scope.get("query_string", b""))
            info = requestinfo.parse(method=scope["method"], path=path, query=query)
            scope[REQUEST_INFO_SCOPE_KEY] = info
        resource_request = info.is_resource_request and bool(info.resource)
        metrics = self.metrics
        verb = info.verb
        if resource_request:
            metrics.begin(verb)
        started = time.perf_counter()
        code = 500
        try:
            if self.authorizer is not None:
                try:
                    if self._authorize_now is not None:
                        self._authorize_now(user=user, request=info)
                    else:
                        await self.authorizer.authorize(user=user, request=info)
                except Exception as err:
                    code = await send_status(send, err)
                    return
            if resource_request:
                code = await self.endpoints(scope, receive, send, request=info, query=query, user=user)
            else:
                await self.inner(scope, receive, send)
        finally:
            if resource_request:
                metrics.end(
                    verb=verb, resource=info.resource, code=code, seconds=time.perf_counter() - started
                )


def _is_health(path: str) -> bool:
    return path.startswith(HEALTH_PATHS) and any(path == p or path.startswith(p + "/") for p in HEALTH_PATHS)


_HEALTH_METHODS = frozenset({"GET", "HEAD"})


def _health_target(path: str, method: str) -> tuple[str, str | None] | None:
    """(endpoint, single check) when ``Health.routes`` would serve this request, else None
    (the routes then answer as before: 405 for another method, 404 for a deeper path)."""
    if method not in _HEALTH_METHODS:
        return None
    for endpoint in HEALTH_PATHS:
        if path == endpoint:
            return endpoint, None
        if path.startswith(endpoint) and path[len(endpoint)] == "/":
            check = path[len(endpoint) + 1 :]
            return (endpoint, check) if check and "/" not in check else None
    return None


def _per_connection(authenticator: Authenticator) -> Authenticator:
    # An authenticator that reads the user a front filter found (``scope_provided``)
    # must be asked on every request: the filter may impersonate per request.
    if getattr(authenticator, "scope_provided", False):
        return authenticator
    return ConnectionCachingAuthenticator(authenticator)


def create_app(
    *,
    api: API,
    metrics: Metrics,
    health: Health,
    authenticator: Authenticator | None = None,
    authorizer: Authorizer | None = None,
    extra_routes: Sequence[BaseRoute] | None = None,
) -> KubeApp:
    """The API server's ASGI app. Without an ``authorizer`` every authenticated caller
    may do anything. ``extra_routes`` defaults to what the discovery and OpenAPI
    modules export."""
    routes = plugin_routes(api) if extra_routes is None else list(extra_routes)
    install_body_decoders()
    return KubeApp(
        api=api,
        metrics=metrics,
        health=health,
        authenticator=_per_connection(authenticator or CertificateAuthenticator()),
        authorizer=authorizer,
        extra_routes=routes,
    )


__all__ = ["REQUEST_INFO_SCOPE_KEY", "USER_SCOPE_KEY", "Authorizer", "KubeApp", "create_app", "plugin_routes"]
