"""Where admission control plugs into the store.

Kubernetes runs mutating admission before an object is prepared and validated, and
validating admission after, inside the store, so that it sees the final object of a
retried update. The store calls an ``Admission`` at exactly those two points; the
default admits everything. Plugins (NamespaceLifecycle-style checks live in the store
already; quotas, limit ranges, service accounts come later) implement this protocol.
"""

from __future__ import annotations

import enum
from typing import Any, Protocol

from .context import Context

Obj = dict[str, Any]


class Operation(enum.StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class Admission(Protocol):
    async def mutate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        """May change ``obj`` in place; raise a StatusError to refuse."""
        ...

    async def validate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        """Must not change anything; raise a StatusError to refuse."""
        ...


class AdmitAll:
    async def mutate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        return None

    async def validate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        return None
