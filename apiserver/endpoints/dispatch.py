"""Routing a resource request to its handler, as kube-apiserver's installed routes would.

Instead of registering hundreds of routes (one per resource × verb × scope), one entry
point looks the resource up in the registry and checks what Kubernetes' route table
would have refused: an unknown resource or subresource is a 404 ("the server could not
find the requested resource"), a verb the resource does not serve — or a method on a
path that has no such route, like POST to a named object — is a 405.

Subresources and resources that are answered rather than stored (bindings, reviews)
are handled by plug-ins registered in ``api.subresources``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from apiserver import negotiation
from apiserver.registry import API, Context, Reply, SubresourceRequest
from apiserver.requestinfo import RequestInfo
from kube.errors import MethodNotAllowed, NotFound
from kube.resources import ResourceInfo

from . import verbs, watch
from .call import Call, ClientGone
from .render import render_object
from .responses import Receive, Scope, Send, send_bytes, send_status, warning_headers

NOT_FOUND = "the server could not find the requested resource"
_VERB_HANDLERS: dict[str, Callable[[Call], Awaitable[int]]] = {
    "get": verbs.get,
    "list": verbs.list_,
    "create": verbs.create,
    "update": verbs.update,
    "patch": verbs.patch,
    "delete": verbs.delete,
    "deletecollection": verbs.delete_collection,
}
# Verbs served on the collection path of a namespaced resource without a namespace
# (``/api/v1/pods``): only reads across all namespaces, as in Kubernetes.
_ALL_NAMESPACES_VERBS = frozenset({"list", "watch"})
_WRITE_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}


class ResourceEndpoints:
    """The handler of every request whose RequestInfo is a resource request."""

    def __init__(self, *, api: API, on_watch_open: Callable[[], None] | None = None,
                 on_watch_close: Callable[[], None] | None = None) -> None:
        self.api = api
        self._on_watch_open = on_watch_open
        self._on_watch_close = on_watch_close

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, *, request: RequestInfo, query: dict[str, str], user: Any
    ) -> int:
        """Serve one request; returns the HTTP status sent (for metrics)."""
        ctx: Context | None = None
        try:
            call = self._route(scope, receive, send, request=request, query=query, user=user)
            ctx = call.ctx
            if request.subresource or call.store is None:
                return await self._plugin(call)
            if request.verb == "watch":
                return await watch.serve(call, on_open=self._on_watch_open, on_close=self._on_watch_close)
            return await _VERB_HANDLERS[request.verb](call)
        except ClientGone:
            return 499  # nginx's code for "client closed the request": nothing to answer
        except Exception as err:
            headers = warning_headers(ctx.warnings) if ctx is not None and ctx.warnings else None
            return await send_status(send, err, headers=headers)

    def _route(
        self, scope: Scope, receive: Receive, send: Send, *, request: RequestInfo, query: dict[str, str], user: Any
    ) -> Call:
        api = self.api
        info = api.resources.get(group=request.api_group, version=request.api_version, resource=request.resource)
        if info is None:
            raise NotFound(NOT_FOUND)
        verb = request.verb
        namespace = request.namespace
        if info.namespaced:
            if not namespace:
                if request.name:
                    raise NotFound(NOT_FOUND)
                if verb not in _ALL_NAMESPACES_VERBS:
                    raise MethodNotAllowed()
        elif namespace and info.resource != "namespaces":
            raise NotFound(NOT_FOUND)
        else:
            namespace = ""
        if request.subresource:
            handler = api.subresources.get(group=info.group, resource=info.resource, subresource=request.subresource)
            if handler is None or verb not in ("get", "create", "update", "patch", "delete"):
                raise NotFound(NOT_FOUND)
            if verb not in handler.verbs:
                raise MethodNotAllowed()
        elif not _verb_allowed(info, verb, named=bool(request.name)):
            raise MethodNotAllowed()
        headers = dict(scope["headers"])
        output = negotiation.negotiate(headers.get(b"accept", b"").decode("latin-1"), streaming=verb == "watch")
        ctx = Context(
            info=info, namespace=namespace, name=request.name, subresource=request.subresource, user=user
        )
        return Call(
            scope=scope,
            receive=receive,
            send=send,
            request=request,
            info=info,
            store=api.store(group=info.group, version=info.version, resource=info.resource),
            api=api,
            query=query,
            headers=headers,
            output=output,
            ctx=ctx,
        )

    async def _plugin(self, call: Call) -> int:
        """A subresource, or a resource that is answered rather than stored."""
        request, info = call.request, call.info
        handler = self.api.subresources.get(group=info.group, resource=info.resource, subresource=request.subresource)
        if handler is None:
            raise NotFound(NOT_FOUND)
        verb = request.verb
        if verb in _WRITE_KIND:
            call.apply_write_options(
                kind=_WRITE_KIND[verb],
                apply=verb == "patch" and negotiation.base_media_type(call.content_type) == negotiation.APPLY_PATCH,
            )
        body = await call.body() if verb in ("create", "update", "patch", "delete") else b""
        reply = await handler(
            SubresourceRequest(
                verb=verb,
                ctx=call.ctx,
                store=call.store,
                api=self.api,
                query=call.query,
                body=body,
                content_type=call.content_type,
                scope=call.scope,
            )
        )
        if not isinstance(reply, Reply):
            await reply(call.scope, call.receive, call.send)
            call.status = 200
            return 200
        if isinstance(reply.body, bytes):
            call.status = reply.status
            headers = warning_headers(call.ctx.warnings)
            await send_bytes(
                call.send,
                status=reply.status,
                body=reply.body,
                content_type=(reply.content_type or "application/octet-stream").encode(),
                headers=headers,
            )
            return reply.status
        body_out = reply.body
        if request.subresource == "status" and isinstance(body_out, dict):
            body_out = render_object(call.output, info=info, obj=body_out, include_object=call.include_object)
        return await call.respond(reply.status, body_out)


def _verb_allowed(info: ResourceInfo, verb: str, *, named: bool) -> bool:
    if verb not in info.verbs:
        return False
    # Methods with no route on this path: POST to a named object, PUT/PATCH to a collection.
    if verb == "create" and named:
        return False
    return not (verb in ("update", "patch") and not named)



