"""Taints and tolerations, parsed once, matched as component-helpers' ``corev1`` does.

A node's taints are read when the node enters the scheduler's cache and a pod's
tolerations when the pod enters the queue, so the per-node check in Filter is a loop
over small tuples of strings. ``NoSchedule`` and ``NoExecute`` taints keep pods off a
node unless tolerated (TaintToleration's Filter); ``PreferNoSchedule`` only lowers the
node's score.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
UNSCHEDULABLE_TAINT_KEY = "node.kubernetes.io/unschedulable"


class Taint:
    __slots__ = ("effect", "key", "value")

    def __init__(self, key: str, value: str = "", effect: str = "") -> None:
        self.key = key
        self.value = value
        self.effect = effect

    @classmethod
    def parse(cls, raw: Any) -> Taint:
        raw = raw if isinstance(raw, dict) else {}
        return cls(str(raw.get("key") or ""), str(raw.get("value") or ""), str(raw.get("effect") or ""))

    def __repr__(self) -> str:
        return f"Taint({self.key}={self.value}:{self.effect})"


class Toleration:
    __slots__ = ("effect", "key", "operator", "value")

    def __init__(self, key: str = "", operator: str = "", value: str = "", effect: str = "") -> None:
        self.key = key
        self.operator = operator or "Equal"
        self.value = value
        self.effect = effect

    @classmethod
    def parse(cls, raw: Any) -> Toleration:
        raw = raw if isinstance(raw, dict) else {}
        return cls(
            str(raw.get("key") or ""),
            str(raw.get("operator") or ""),
            str(raw.get("value") or ""),
            str(raw.get("effect") or ""),
        )

    def tolerates(self, taint: Taint) -> bool:
        """``Toleration.ToleratesTaint``: an empty effect matches every effect, an empty
        key with ``Exists`` matches every key."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        if self.operator == "Equal":
            return self.value == taint.value
        return False


def parse_taints(raw: Iterable[Any] | None) -> tuple[Taint, ...]:
    return tuple(Taint.parse(t) for t in raw or ())


def parse_tolerations(raw: Iterable[Any] | None) -> tuple[Toleration, ...]:
    return tuple(Toleration.parse(t) for t in raw or ())


def tolerated(taint: Taint, tolerations: Sequence[Toleration]) -> bool:
    return any(t.tolerates(taint) for t in tolerations)


def find_untolerated(
    taints: Sequence[Taint], tolerations: Sequence[Toleration], keep: Callable[[Taint], bool]
) -> Taint | None:
    """The first taint selected by ``keep`` that no toleration tolerates."""
    for taint in taints:
        if keep(taint) and not tolerated(taint, tolerations):
            return taint
    return None


def do_not_schedule(taint: Taint) -> bool:
    return taint.effect in (NO_SCHEDULE, NO_EXECUTE)
