"""One small protocol per extension point, in the order a pod meets them.

    QueueSort → PreFilter → Filter → (PostFilter on failure) → PreScore → Score
    (+ NormalizeScore) → Reserve → Permit → [binding cycle] PreBind → Bind → PostBind

A plugin is any object with a ``name`` implementing one or more of these; the framework
finds out which by looking (``isinstance`` against these runtime-checkable protocols)
and calls each at its point. Plugins know nothing of the queue or the cache: they read
the pod, the :class:`~scheduler.framework.nodeinfo.NodeInfo` they are given, the
:class:`~scheduler.framework.cycle_state.CycleState` and, through :class:`Handle`, the
cycle's snapshot. Success is ``None``.

Two optional batch methods exist only for speed: ``filter_nodes`` and ``score_nodes``
answer for a list of nodes at once (a list comprehension instead of a Python call per
node). They must give exactly what calling ``filter``/``score`` per node would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .cycle_state import CycleState
from .events import ClusterEventWithHint
from .nodeinfo import NodeInfo
from .podinfo import PodInfo, QueuedPodInfo
from .status import Status

if TYPE_CHECKING:
    from .diagnosis import NodeToStatus

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0


@dataclass(slots=True)
class PreFilterResult:
    """Nodes a PreFilter already knows are the only candidates (None: all nodes)."""

    node_names: set[str] | None = None
    narrowed_by: list[str] = field(default_factory=list)
    """The PreFilter plugins that narrowed the node set (named in the absent nodes' status)."""

    def merge(self, other: PreFilterResult | None) -> PreFilterResult:
        if other is None or other.node_names is None:
            return self
        if self.node_names is None:
            return PreFilterResult(set(other.node_names), [*self.narrowed_by, *other.narrowed_by])
        return PreFilterResult(self.node_names & other.node_names, [*self.narrowed_by, *other.narrowed_by])


@dataclass(slots=True)
class PostFilterResult:
    nominated_node_name: str = ""
    victims: list[str] = field(default_factory=list)
    """``namespace/name`` of pods preempted for the nomination (for the decision record)."""


@runtime_checkable
class Plugin(Protocol):
    name: str


@runtime_checkable
class QueueSortPlugin(Plugin, Protocol):
    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool: ...


@runtime_checkable
class PreFilterExtensions(Protocol):
    """Keep PreFilter's state true when the preemption dry-run adds or removes pods."""

    def add_pod(
        self, state: CycleState, pod: PodInfo, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status | None: ...

    def remove_pod(
        self, state: CycleState, pod: PodInfo, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status | None: ...


@runtime_checkable
class PreFilterPlugin(Plugin, Protocol):
    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]: ...

    def pre_filter_extensions(self) -> PreFilterExtensions | None: ...


@runtime_checkable
class FilterPlugin(Plugin, Protocol):
    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None: ...


@runtime_checkable
class BatchFilterPlugin(FilterPlugin, Protocol):
    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[Status | None]: ...


@runtime_checkable
class PostFilterPlugin(Plugin, Protocol):
    async def post_filter(
        self, state: CycleState, pod: PodInfo, statuses: NodeToStatus
    ) -> tuple[PostFilterResult | None, Status | None]: ...


@runtime_checkable
class PreScorePlugin(Plugin, Protocol):
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None: ...


@runtime_checkable
class ScorePlugin(Plugin, Protocol):
    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        """A raw score (raise to report an error)."""
        ...


@runtime_checkable
class BatchScorePlugin(ScorePlugin, Protocol):
    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]: ...


@runtime_checkable
class NormalizeScorePlugin(ScorePlugin, Protocol):
    def normalize_score(
        self, state: CycleState, pod: PodInfo, scores: list[int], nodes: Sequence[NodeInfo]
    ) -> Status | None:
        """Rescale ``scores`` (aligned with ``nodes``) in place to 0..MAX_NODE_SCORE."""
        ...


@runtime_checkable
class ReservePlugin(Plugin, Protocol):
    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None: ...

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None: ...


@runtime_checkable
class PermitPlugin(Plugin, Protocol):
    def permit(self, state: CycleState, pod: PodInfo, node_name: str) -> tuple[Status | None, float]:
        """(status, timeout seconds); a Wait status holds the pod until allowed, rejected or timed out."""
        ...


@runtime_checkable
class PreBindPlugin(Plugin, Protocol):
    async def pre_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None: ...


@runtime_checkable
class BindPlugin(Plugin, Protocol):
    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        """Bind, or answer Skip to let the next bind plugin do it."""
        ...


@runtime_checkable
class PostBindPlugin(Plugin, Protocol):
    def post_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> None: ...


@runtime_checkable
class EnqueueExtensions(Plugin, Protocol):
    def events_to_register(self) -> list[ClusterEventWithHint]: ...


class Handle(Protocol):
    """What the framework lends to plugins (Kubernetes' ``framework.Handle``)."""

    @property
    def profile_name(self) -> str: ...

    def snapshot(self) -> Any:
        """The cycle's :class:`~scheduler.internal.snapshot.Snapshot`."""
        ...

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]: ...

    def run_filter_plugins_with_nominated_pods(
        self, state: CycleState, pod: PodInfo, node: NodeInfo
    ) -> Status | None: ...

    def run_pre_filter_extension_add_pod(
        self, state: CycleState, pod: PodInfo, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status | None: ...

    def run_pre_filter_extension_remove_pod(
        self, state: CycleState, pod: PodInfo, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status | None: ...

    def lister(self, resource: str) -> Any:
        """A read-only store of API objects (``pods``, ``poddisruptionbudgets``,
        ``namespaces``, ``services``, ``replicasets``, ``statefulsets``,
        ``replicationcontrollers``) kept current by the scheduler's informers."""
        ...

    @property
    def api(self) -> Any:
        """The scheduler's API writes (:class:`~scheduler.apicalls.ApiCalls`)."""
        ...

    @property
    def recorder(self) -> Any:
        """The event recorder (:class:`~scheduler.recorder.EventRecorder`)."""
        ...
