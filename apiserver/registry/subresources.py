"""Subresources (``pods/x/status``, ``pods/x/binding``, ``deployments/x/scale``, ...) as plug-ins.

A subresource is a different view of, or action on, one object, and each one behaves
differently: ``status`` is the object with a narrower write rule, ``scale`` is a
different kind (``autoscaling/v1 Scale``) computed from the object, ``binding`` and
``eviction`` are POSTed actions, ``log`` streams text. So the endpoints do not know
any of them: they look up a handler by (group, resource, subresource) here and hand it
a ``SubresourceRequest``. A handler answers with a ``Reply`` (a JSON-able object and a
status code) or with any ASGI app for streaming (e.g. a Starlette ``StreamingResponse``).

Writes go through the parent's ``ResourceStore`` (``store.guaranteed_update`` with a
transform and a strategy), so concurrency, dry-run and finalizers behave as for the
object itself. ``status`` for every kind that has one and ``namespaces/finalize`` are
registered here; others add theirs with ``Subresources.register``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from apiserver import negotiation
from kube.errors import MethodNotAllowed

from .context import Context

if TYPE_CHECKING:
    from . import API
    from .store import ResourceStore

Scope = MutableMapping[str, Any]
ASGIResponse = Callable[[Scope, Any, Any], Awaitable[None]]


@dataclass(slots=True, kw_only=True)
class SubresourceRequest:
    verb: str
    """``get``, ``create`` (POST), ``update`` (PUT), ``patch``, ``delete``."""
    ctx: Context
    """Namespace, parent object name, subresource, user, dryRun, fieldManager, warnings."""
    store: ResourceStore | None
    """The parent resource's store; None for resources answered rather than stored
    (``bindings``, the access reviews), registered with subresource ``""``."""
    api: API
    """Every resource's store, for handlers that touch others (eviction reads PDBs)."""
    query: dict[str, str]
    body: bytes = b""
    content_type: str = ""
    scope: Scope = field(default_factory=dict)
    """The raw ASGI scope, e.g. for the server's shutdown event while streaming."""

    @property
    def parent(self) -> ResourceStore:
        """The parent's store, for handlers of real subresources."""
        if self.store is None:
            raise MethodNotAllowed()
        return self.store

    def object(self) -> Any:
        """The request body decoded (JSON or YAML)."""
        return negotiation.decode_body(content_type=self.content_type, body=self.body)

    @property
    def patch_type(self) -> str:
        return negotiation.base_media_type(self.content_type)

    def patch(self) -> Any:
        patch_type = self.patch_type
        if patch_type not in negotiation.PATCH_TYPES:
            raise negotiation.unsupported_patch_type(self.content_type)
        return negotiation.decode_patch(patch_type=patch_type, body=self.body)


@dataclass(slots=True, kw_only=True)
class Reply:
    body: Any
    """A JSON-able object (encoded as the client asked), or bytes sent as they are."""
    status: int = 200
    content_type: str = ""
    """Only for bytes bodies; JSON-able bodies use the negotiated media type."""


class SubresourceHandler(Protocol):
    verbs: frozenset[str]

    async def __call__(self, request: SubresourceRequest) -> Reply | ASGIResponse: ...


class StatusHandler:
    """``/status``: read the object; write only its status."""

    verbs = frozenset({"get", "update", "patch"})

    async def __call__(self, request: SubresourceRequest) -> Reply | ASGIResponse:
        store, ctx = request.parent, request.ctx
        if request.verb == "get":
            return Reply(body=await store.get(ctx))
        strategy = store.strategy.status_strategy()
        if request.verb == "update":
            obj, _ = await store.update(ctx, request.object(), strategy=strategy)
            return Reply(body=obj)
        if request.verb == "patch":
            obj, _ = await store.patch(
                ctx,
                patch_type=request.patch_type,
                patch=request.patch(),
                force=request.query.get("force") == "true",
                strategy=strategy,
            )
            return Reply(body=obj)
        raise MethodNotAllowed()


class NamespaceFinalizeHandler:
    """``PUT /api/v1/namespaces/<name>/finalize``: the namespace controller's way of
    removing its entries from ``spec.finalizers`` once a namespace is empty."""

    verbs = frozenset({"update"})

    async def __call__(self, request: SubresourceRequest) -> Reply | ASGIResponse:
        store = request.parent
        finalize = getattr(store.strategy, "finalize_strategy", None)
        strategy = finalize() if finalize is not None else store.strategy.status_strategy()
        obj, _ = await store.update(request.ctx, request.object(), strategy=strategy)
        return Reply(body=obj)


class Subresources:
    """Handlers by (group, resource, subresource)."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str, str], SubresourceHandler] = {}

    def register(self, *, group: str, resource: str, subresource: str, handler: SubresourceHandler) -> None:
        self._handlers[(group, resource, subresource)] = handler

    def get(self, *, group: str, resource: str, subresource: str) -> SubresourceHandler | None:
        return self._handlers.get((group, resource, subresource))

    def __contains__(self, key: tuple[str, str, str]) -> bool:
        return key in self._handlers


def install_defaults(subresources: Subresources, *, resources: Any) -> None:
    """``status`` for every stored resource that declares it, and ``namespaces/finalize``."""
    status = StatusHandler()
    for info in resources:
        if info.stored and "status" in info.subresources:
            subresources.register(group=info.group, resource=info.resource, subresource="status", handler=status)
    subresources.register(group="", resource="namespaces", subresource="finalize", handler=NamespaceFinalizeHandler())
