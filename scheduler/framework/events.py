"""Cluster events, and which of them may make a rejected pod schedulable.

A pod that no node could take waits in the queue's unschedulable pool until something
changes. Not every change matters: a pod label change cannot help a pod rejected for
insufficient CPU, while the deletion of a pod on some node can.
Each plugin declares the events that can undo its rejections (``events_to_register``),
optionally with a hint function that looks at the object and says Queue or Skip; the
queue moves a pod back only for events some plugin that rejected it cares about
(Kubernetes' ``ClusterEventWithHint`` / ``QueueingHint``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ActionType(enum.IntFlag):
    ADD = enum.auto()
    DELETE = enum.auto()
    UPDATE_NODE_ALLOCATABLE = enum.auto()
    UPDATE_NODE_LABEL = enum.auto()
    UPDATE_NODE_TAINT = enum.auto()
    UPDATE_NODE_CONDITION = enum.auto()
    UPDATE_NODE_ANNOTATION = enum.auto()
    UPDATE_POD_LABEL = enum.auto()
    UPDATE_POD_SCALE_DOWN = enum.auto()
    UPDATE_POD_TOLERATION = enum.auto()
    UPDATE_POD_OTHER = enum.auto()
    UPDATE_OTHER = enum.auto()

    @classmethod
    def update(cls) -> ActionType:
        return (
            cls.UPDATE_NODE_ALLOCATABLE
            | cls.UPDATE_NODE_LABEL
            | cls.UPDATE_NODE_TAINT
            | cls.UPDATE_NODE_CONDITION
            | cls.UPDATE_NODE_ANNOTATION
            | cls.UPDATE_POD_LABEL
            | cls.UPDATE_POD_SCALE_DOWN
            | cls.UPDATE_POD_TOLERATION
            | cls.UPDATE_POD_OTHER
            | cls.UPDATE_OTHER
        )

    @classmethod
    def all(cls) -> ActionType:
        return cls.ADD | cls.DELETE | cls.update()


# Resources events are about. "Pod" is the unscheduled pod itself; "AssignedPod" a pod
# already on a node (what frees or takes capacity); "*" matches every resource.
POD = "Pod"
ASSIGNED_POD = "AssignedPod"
NODE = "Node"
PDB = "PodDisruptionBudget"
NAMESPACE = "Namespace"
WILDCARD = "*"


class QueueingHint(enum.Enum):
    SKIP = "Skip"
    QUEUE = "Queue"


HintFn = Callable[[Any, Any, Any], QueueingHint]
"""(the waiting pod's PodInfo, old object or None, new object or None) → hint."""


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    resource: str
    action: ActionType
    label: str = ""

    def matches(self, other: ClusterEvent) -> bool:
        """Whether this registration covers the concrete event ``other``."""
        if self.resource != WILDCARD and other.resource != WILDCARD and self.resource != other.resource:
            return False
        return bool(self.action & other.action)

    def __str__(self) -> str:
        return self.label or f"{self.resource}{self.action.name}"


@dataclass(frozen=True, slots=True)
class ClusterEventWithHint:
    event: ClusterEvent
    hint: HintFn | None = None


# Events the scheduler itself emits.
NODE_ADD = ClusterEvent(NODE, ActionType.ADD, "NodeAdd")
ASSIGNED_POD_DELETE = ClusterEvent(ASSIGNED_POD, ActionType.DELETE, "AssignedPodDelete")
ASSIGNED_POD_ADD = ClusterEvent(ASSIGNED_POD, ActionType.ADD, "AssignedPodAdd")
UNSCHEDULABLE_TIMEOUT = ClusterEvent(WILDCARD, ActionType.all(), "UnschedulableTimeout")
FORCE_ACTIVATE = ClusterEvent(WILDCARD, ActionType.all(), "ForceActivate")


def node_update_actions(old: dict[str, Any], new: dict[str, Any]) -> ActionType:
    """What changed about a node that scheduling cares about (``nodeSchedulingPropertiesChange``)."""
    action = ActionType(0)
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    old_status, new_status = old.get("status") or {}, new.get("status") or {}
    old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
    if bool(old_spec.get("unschedulable")) != bool(new_spec.get("unschedulable")):
        action |= ActionType.UPDATE_NODE_TAINT
    if old_spec.get("taints") != new_spec.get("taints"):
        action |= ActionType.UPDATE_NODE_TAINT
    if old_status.get("allocatable") != new_status.get("allocatable"):
        action |= ActionType.UPDATE_NODE_ALLOCATABLE
    if (old_meta.get("labels") or {}) != (new_meta.get("labels") or {}):
        action |= ActionType.UPDATE_NODE_LABEL
    if _conditions(old_status) != _conditions(new_status):
        action |= ActionType.UPDATE_NODE_CONDITION
    if (old_meta.get("annotations") or {}) != (new_meta.get("annotations") or {}):
        action |= ActionType.UPDATE_NODE_ANNOTATION
    return action


def _conditions(status: dict[str, Any]) -> dict[str, str]:
    return {
        str(c.get("type")): str(c.get("status"))
        for c in status.get("conditions") or []
        if isinstance(c, dict)
    }
