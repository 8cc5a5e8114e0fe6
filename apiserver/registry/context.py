"""What a registry operation knows about the request that caused it.

Kubernetes threads a ``context.Context`` carrying the namespace, the user and the
warning recorder through every strategy hook. Ours is a small mutable record with the
same job: the handler fills it from the URL and query, the store and strategies read it
and append warnings, and the handler turns ``warnings`` into ``Warning`` headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kube.model import FieldValidation
from kube.resources import ResourceInfo


@dataclass(slots=True, kw_only=True)
class Context:
    info: ResourceInfo
    namespace: str = ""
    """The request's namespace; ``""`` for cluster-scoped resources and all-namespace lists."""
    name: str = ""
    subresource: str = ""
    user: Any = None
    """The authenticated ``UserInfo`` (None for internal callers such as bootstrap)."""
    dry_run: bool = False
    field_manager: str = ""
    field_validation: FieldValidation = FieldValidation.WARN
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if message and message not in self.warnings:
            self.warnings.append(message)

    def child(self, *, info: ResourceInfo, namespace: str, name: str, subresource: str = "") -> Context:
        """A context for an operation another resource's handler performs on this one
        (a binding writing a pod, a scale writing a deployment); warnings are shared."""
        return Context(
            info=info,
            namespace=namespace,
            name=name,
            subresource=subresource,
            user=self.user,
            dry_run=self.dry_run,
            field_manager=self.field_manager,
            field_validation=self.field_validation,
            warnings=self.warnings,
        )
