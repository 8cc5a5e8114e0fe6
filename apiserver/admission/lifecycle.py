"""NamespaceLifecycle, the half the store does not already do.

The store itself refuses creating objects in a namespace that is missing or being
terminated (``API._namespace_gate``, run for every namespaced create). What remains
of Kubernetes' plugin is protecting the namespaces a cluster cannot work without:
``default``, ``kube-system`` and ``kube-public`` may not be deleted, by anyone.
"""

from __future__ import annotations

from typing import ClassVar

from apiserver.registry import Context
from apiserver.registry.admission import Operation

from .chain import Base, Obj, forbidden

IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


class NamespaceLifecycle(Base):
    name: ClassVar[str] = "NamespaceLifecycle"
    resources: ClassVar[frozenset[tuple[str, str]]] = frozenset({("", "namespaces")})

    async def validate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        if operation is Operation.DELETE and ctx.name in IMMORTAL_NAMESPACES:
            raise forbidden(ctx, old, "this namespace may not be deleted")
