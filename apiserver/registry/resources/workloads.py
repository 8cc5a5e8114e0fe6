"""ReplicaSets, DaemonSets and PodDisruptionBudgets start with their Go zero status.

Kubernetes' strategies clear a new object's status with the Go zero value of its status
type (``rs.Status = apps.ReplicaSetStatus{}``). Some of those fields are plain integers,
not pointers, so they are always written — ``{"replicas": 0}`` — and the OpenAPI schema
lists them as required. Clearing the status to ``{}`` instead, as the generic strategy
does, leaves every create of these kinds invalid ("status.replicas: Required value").
Their strategies here write the zero value Kubernetes would, so they can be created and
their controllers (and the eviction and scale subresources) find the fields present.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .. import strategies
from ..context import Context
from ..strategy import Obj


class ZeroStatusStrategy(strategies.GenerationStrategy):
    zero_status: ClassVar[dict[str, Any]] = {}

    def prepare_for_create(self, *, ctx: Context, obj: Obj) -> None:
        super().prepare_for_create(ctx=ctx, obj=obj)
        obj["status"] = dict(self.zero_status)


class ReplicaSetStrategy(ZeroStatusStrategy):
    zero_status: ClassVar[dict[str, Any]] = {"replicas": 0}


class DaemonSetStrategy(ZeroStatusStrategy):
    zero_status: ClassVar[dict[str, Any]] = {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    }


class PodDisruptionBudgetStrategy(ZeroStatusStrategy):
    zero_status: ClassVar[dict[str, Any]] = {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    }
