"""The admission chain: plugins run in a fixed order inside the store's write path.

The store (``apiserver.registry.store``) calls ``mutate`` before it prepares and
validates an object and ``validate`` right before it writes, and — for DELETE —
``validate`` with the object being deleted as ``old``. This chain fans those calls out
to the plugins, in Kubernetes' recommended order, each one only for the resources it
declares (a lookup table per resource, so a configmap write does not visit the pod
plugins).

``mutate`` sees the object as the client sent it, before defaults are applied (in
Kubernetes, defaulting happens at decode time, earlier). Plugins therefore treat every
field as possibly missing or mistyped and leave judging the shape to validation: an
admission plugin must never turn a malformed body into a 500.

A plugin refuses with a StatusError; ``forbidden`` builds the usual
``pods "x" is forbidden: <why>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

from apiserver.registry import Context
from apiserver.registry.admission import Operation
from kube.errors import Forbidden

Obj = dict[str, Any]


class Plugin(Protocol):
    name: ClassVar[str]
    resources: ClassVar[frozenset[tuple[str, str]]]
    """(group, resource) pairs the plugin looks at; ``("*", "*")`` for every one."""

    def bind(self, api: Any) -> None: ...

    async def mutate(
        self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None
    ) -> None: ...

    async def validate(
        self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None
    ) -> None: ...


class Base:
    """Defaults for plugins: bound to the API, doing nothing."""

    name: ClassVar[str] = ""
    resources: ClassVar[frozenset[tuple[str, str]]] = frozenset()

    def __init__(self) -> None:
        self.api: Any = None

    def bind(self, api: Any) -> None:
        self.api = api

    async def mutate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        return None

    async def validate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        return None


class AdmissionChain:
    """An ``apiserver.registry.admission.Admission`` made of plugins."""

    def __init__(self, plugins: Sequence[Plugin]) -> None:
        self.plugins = tuple(plugins)
        # Per (group, resource): the plugins whose mutate, and those whose validate, do
        # something — a plugin that keeps Base's no-op is not awaited for nothing.
        self._by_resource: dict[tuple[str, str], tuple[tuple[Plugin, ...], tuple[Plugin, ...]]] = {}

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.plugins]

    def bind(self, api: Any) -> None:
        for plugin in self.plugins:
            plugin.bind(api)

    def _for(self, ctx: Context) -> tuple[tuple[Plugin, ...], tuple[Plugin, ...]]:
        key = (ctx.info.group, ctx.info.resource)
        found = self._by_resource.get(key)
        if found is None:
            plugins = [p for p in self.plugins if key in p.resources or ("*", "*") in p.resources]
            found = self._by_resource[key] = (
                tuple(p for p in plugins if _overrides(p, "mutate")),
                tuple(p for p in plugins if _overrides(p, "validate")),
            )
        return found

    async def mutate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        for plugin in self._for(ctx)[0]:
            await plugin.mutate(ctx=ctx, operation=operation, obj=obj, old=old)

    async def validate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        for plugin in self._for(ctx)[1]:
            await plugin.validate(ctx=ctx, operation=operation, obj=obj, old=old)


def _overrides(plugin: Plugin, method: str) -> bool:
    """False when ``plugin`` inherits ``Base``'s do-nothing ``method``."""
    return getattr(type(plugin), method, None) is not getattr(Base, method)


def object_name(ctx: Context, obj: Obj | None) -> str:
    """The name a refusal names: the URL's, else the body's, else its generateName."""
    if ctx.name:
        return ctx.name
    meta = (obj or {}).get("metadata") if isinstance(obj, dict) else None
    if isinstance(meta, dict):
        return str(meta.get("name") or meta.get("generateName") or "")
    return ""


def forbidden(ctx: Context, obj: Obj | None, why: str) -> Forbidden:
    return Forbidden.of(resource=ctx.info.resource, group=ctx.info.group, name=object_name(ctx, obj), err=why)


def user_of(ctx: Context) -> Any:
    """The requesting user, or None for the API server's own writes."""
    return ctx.user


def as_dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
