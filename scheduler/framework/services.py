"""What a profile's framework is lent by the scheduler, and what scoring hands back.

:class:`Services` bundles the scheduler-owned things plugins may reach through their
handle — the cycle's snapshot, nominated pods, listers, the API writer, the event
recorder, the clock — so a Framework can be built around fakes in tests.
:class:`PluginScores` is one score plugin's output over the scored nodes, kept as is
by the decision record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kube.client.clock import Clock, RealClock

from .podinfo import PodInfo


@dataclass(slots=True)
class Services:
    """What the scheduler lends every profile (its plugins reach them via the handle)."""

    snapshot: Callable[[], Any]
    nominated_pods_for_node: Callable[[str], list[PodInfo]] = lambda _node: []
    listers: Mapping[str, Any] = field(default_factory=dict)
    api: Any = None
    recorder: Any = None
    clock: Clock = field(default_factory=RealClock)


@dataclass(slots=True)
class PluginScores:
    """One score plugin's results over the scored nodes, aligned with them."""

    name: str
    weight: int
    raw: list[int]
    normalized: list[int]
