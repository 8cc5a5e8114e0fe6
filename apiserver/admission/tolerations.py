"""DefaultTolerationSeconds: pods survive a node's brief disappearance for 5 minutes.

The node lifecycle controller taints an unreachable or not-ready node with
``NoExecute``, which evicts every pod that does not tolerate the taint. Kubernetes
gives each new pod that does not already say otherwise a toleration of both taints for
300 seconds, so a node that reboots or loses its network for a moment does not lose
its pods. A pod that tolerates the key (or every key) with a NoExecute (or any) effect
keeps its own choice.
"""

from __future__ import annotations

from typing import ClassVar

from apiserver.registry import Context
from apiserver.registry.admission import Operation

from .chain import Base, Obj, as_dict

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_SECONDS = 300


def _tolerates(tolerations: list[object], key: str) -> bool:
    for raw in tolerations:
        toleration = as_dict(raw)
        if toleration.get("key") in (key, "", None) and toleration.get("effect") in ("NoExecute", "", None):
            return True
    return False


class DefaultTolerationSeconds(Base):
    name: ClassVar[str] = "DefaultTolerationSeconds"
    resources: ClassVar[frozenset[tuple[str, str]]] = frozenset({("", "pods")})

    def __init__(self, *, seconds: int = DEFAULT_SECONDS) -> None:
        super().__init__()
        self.seconds = seconds

    async def mutate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        if operation is not Operation.CREATE or ctx.subresource or not isinstance(obj, dict):
            return
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        tolerations = spec.get("tolerations")
        if tolerations is None:
            tolerations = []
        if not isinstance(tolerations, list):
            return  # validation reports the type
        added = [
            {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": self.seconds}
            for key in (NOT_READY, UNREACHABLE)
            if not _tolerates(tolerations, key)
        ]
        if added:
            spec["tolerations"] = [*tolerations, *added]
