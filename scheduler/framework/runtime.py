"""One profile's plugins, wired to the extension points and run in order.

The :class:`Framework` is built from a profile: it instantiates each named plugin once
(through the registry, with the profile's args), resolves which extension points each
plugin takes part in (multiPoint expansion by looking at what the plugin implements),
and offers one ``run_*`` method per extension point with the rules of Kubernetes'
``frameworkImpl``: the first rejection wins, Skip switches a plugin off for the cycle,
scores are normalized then multiplied by the plugin's weight. It also is the
:class:`~scheduler.framework.interfaces.Handle` its plugins receive.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kube.client.clock import Clock
from scheduler.config import PluginRef, Profile

from .cycle_state import CycleState
from .events import WILDCARD, ActionType, ClusterEvent, ClusterEventWithHint, HintFn
from .interfaces import (
    MAX_NODE_SCORE,
    MIN_NODE_SCORE,
    BatchFilterPlugin,
    BatchScorePlugin,
    BindPlugin,
    EnqueueExtensions,
    FilterPlugin,
    NormalizeScorePlugin,
    PermitPlugin,
    Plugin,
    PostBindPlugin,
    PostFilterPlugin,
    PostFilterResult,
    PreBindPlugin,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    QueueSortPlugin,
    ReservePlugin,
    ScorePlugin,
)
from .nodeinfo import NodeInfo
from .pluginset import FrameworkError, resolve_plugins
from .podinfo import PodInfo
from .services import PluginScores, Services
from .status import Code, Status
from .waiting import WaitingPods

Factory = Callable[[dict[str, Any], "Framework"], Plugin]


class Framework:
    def __init__(
        self,
        profile: Profile,
        *,
        registry: Mapping[str, Factory],
        default_plugins: list[PluginRef],
        default_weights: Mapping[str, int],
        services: Services,
    ) -> None:
        self.profile = profile
        self.profile_name = profile.scheduler_name
        self.services = services
        self.percentage_of_nodes_to_score = profile.percentage_of_nodes_to_score
        self.waiting_pods = WaitingPods()
        self.plugins: dict[str, Plugin] = {}
        points, self.weights = resolve_plugins(
            profile, default_plugins=default_plugins, default_weights=default_weights,
            instantiate=lambda name: self._plugin(name, registry),
        )  # fmt: skip
        self.pre_enqueue_plugins: list[Any] = points["preEnqueue"]
        self.pre_filter_plugins: list[PreFilterPlugin] = points["preFilter"]  # type: ignore[assignment]
        self.filter_plugins: list[FilterPlugin] = points["filter"]  # type: ignore[assignment]
        self.post_filter_plugins: list[PostFilterPlugin] = points["postFilter"]  # type: ignore[assignment]
        self.pre_score_plugins: list[PreScorePlugin] = points["preScore"]  # type: ignore[assignment]
        self.score_plugins: list[ScorePlugin] = points["score"]  # type: ignore[assignment]
        self.reserve_plugins: list[ReservePlugin] = points["reserve"]  # type: ignore[assignment]
        self.permit_plugins: list[PermitPlugin] = points["permit"]  # type: ignore[assignment]
        self.pre_bind_plugins: list[PreBindPlugin] = points["preBind"]  # type: ignore[assignment]
        self.bind_plugins: list[BindPlugin] = points["bind"]  # type: ignore[assignment]
        self.post_bind_plugins: list[PostBindPlugin] = points["postBind"]  # type: ignore[assignment]
        sorts: list[QueueSortPlugin] = points["queueSort"]  # type: ignore[assignment]
        if len(sorts) != 1:
            raise FrameworkError(
                f"profile {self.profile_name!r}: exactly one queueSort plugin is required, got {len(sorts)}"
            )
        if not self.bind_plugins:
            raise FrameworkError(f"profile {self.profile_name!r}: at least one bind plugin is required")
        self.queue_sort = sorts[0]
        # isinstance() against a Protocol costs microseconds: decide each plugin's calls once.
        self._filter_batch: dict[str, Any] = {
            p.name: p.filter_nodes if isinstance(p, BatchFilterPlugin) else None for p in self.filter_plugins
        }
        self._score_calls: list[tuple[ScorePlugin, Any, Any]] = [
            (
                p,
                p.score_nodes if isinstance(p, BatchScorePlugin) else None,
                p.normalize_score if isinstance(p, NormalizeScorePlugin) else None,
            )
            for p in self.score_plugins
        ]
        self._pre_filter_ext: list[tuple[str, Any]] = [
            (p.name, p.pre_filter_extensions()) for p in self.pre_filter_plugins
        ]
        unused = set(profile.plugin_args) - set(self.plugins)
        if unused:
            raise FrameworkError(
                f"profile {self.profile_name!r}: pluginConfig for disabled plugin(s) {sorted(unused)}"
            )

    def _plugin(self, name: str, registry: Mapping[str, Factory]) -> Plugin:
        plugin = self.plugins.get(name)
        if plugin is None:
            factory = registry.get(name)
            if factory is None:
                raise FrameworkError(f"plugin {name!r} not found in the registry")
            plugin = factory(dict(self.profile.plugin_args.get(name, {})), self)
            self.plugins[name] = plugin
        return plugin

    # --- the Handle plugins see -----------------------------------------------------------

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def api(self) -> Any:
        return self.services.api

    @property
    def recorder(self) -> Any:
        return self.services.recorder

    def snapshot(self) -> Any:
        return self.services.snapshot()

    def lister(self, resource: str) -> Any:
        return self.services.listers.get(resource)

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return self.services.nominated_pods_for_node(node_name)

    # --- queueing -----------------------------------------------------------------------

    def run_pre_enqueue(self, pod: PodInfo) -> str | None:
        """None when the pod may enter activeQ, else the refusing plugin's message."""
        for plugin in self.pre_enqueue_plugins:
            status = plugin.pre_enqueue(pod)
            if status is not None and not status.is_success():
                return f"{plugin.name}: {status.message()}"
        return None

    def event_registrations(self) -> list[tuple[ClusterEvent, str, HintFn | None]]:
        """Which plugin wants which event (plugins that say nothing get every event)."""
        out: list[tuple[ClusterEvent, str, HintFn | None]] = []
        seen: set[str] = set()
        for plugin in [*self.pre_enqueue_plugins, *self.pre_filter_plugins, *self.filter_plugins,
                       *self.reserve_plugins, *self.permit_plugins]:  # fmt: skip
            if plugin.name in seen:
                continue
            seen.add(plugin.name)
            events: list[ClusterEventWithHint]
            if isinstance(plugin, EnqueueExtensions):
                events = plugin.events_to_register()
            else:
                events = [ClusterEventWithHint(ClusterEvent(WILDCARD, ActionType.all()))]
            out.extend((e.event, plugin.name, e.hint) for e in events)
        return out

    # --- filtering ----------------------------------------------------------------------

    def run_pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        result: PreFilterResult | None = None
        narrowed_by: list[str] = []
        for plugin in self.pre_filter_plugins:
            try:
                r, status = plugin.pre_filter(state, pod, nodes)
            except Exception as err:  # a plugin bug is this pod's error, not the scheduler's death
                return None, Status.as_error(err, plugin=plugin.name)
            if status is not None and status.code is not Code.SUCCESS:
                if status.code is Code.SKIP:
                    state.skip_filter_plugins.add(plugin.name)
                    continue
                return None, status.with_plugin(plugin.name)
            if r is not None and r.node_names is not None:
                narrowed_by.append(plugin.name)
                result = PreFilterResult(set(r.node_names)) if result is None else result.merge(r)
                result.narrowed_by = list(narrowed_by)
                if not result.node_names:
                    names = ", ".join(narrowed_by)
                    return None, Status.unresolvable(
                        f"node(s) didn't satisfy plugin(s) [{names}] simultaneously", plugin=plugin.name
                    )
        return result, None

    def active_filters(self, state: CycleState) -> list[FilterPlugin]:
        skip = state.skip_filter_plugins
        return [p for p in self.filter_plugins if p.name not in skip] if skip else list(self.filter_plugins)

    def run_filter(
        self, state: CycleState, pod: PodInfo, node: NodeInfo, filters: Sequence[FilterPlugin] | None = None
    ) -> Status | None:
        for plugin in self.active_filters(state) if filters is None else filters:
            status = plugin.filter(state, pod, node)
            if status is not None and status.code is not Code.SUCCESS:
                return status.with_plugin(plugin.name)
        return None

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], filters: Sequence[FilterPlugin]
    ) -> list[Status | None]:
        """``run_filter`` for many nodes, plugin by plugin: a node leaves at its first
        rejection, so each node meets the same plugins in the same order as one by one."""
        statuses: list[Status | None] = [None] * len(nodes)
        remaining = list(range(len(nodes)))
        for plugin in filters:
            if not remaining:
                break
            subset = [nodes[i] for i in remaining] if len(remaining) != len(nodes) else nodes
            batch = self._filter_batch.get(plugin.name)
            if batch is not None:
                results = batch(state, pod, subset)
            else:
                results = [plugin.filter(state, pod, n) for n in subset]
            if not any(results):
                continue
            kept = []
            for i, status in zip(remaining, results, strict=True):
                if status is None or status.code is Code.SUCCESS:
                    kept.append(i)
                else:
                    statuses[i] = status.with_plugin(plugin.name)
            remaining = kept
        return statuses

    def run_filter_plugins_with_nominated_pods(
        self, state: CycleState, pod: PodInfo, node: NodeInfo
    ) -> Status | None:
        """Filter as if higher-or-equal priority pods nominated to ``node`` were there
        already — and, when there are some, also without them (both must pass), since
        a nominated pod may end up elsewhere."""
        nominated = [
            p
            for p in self.nominated_pods_for_node(node.name)
            if p.uid != pod.uid and p.priority >= pod.priority
        ]
        if not nominated:
            return self.run_filter(state, pod, node)
        state_with = state.clone()
        node_with = node.clone()
        for other in nominated:
            node_with.add_pod(other)
            status = self.run_pre_filter_extension_add_pod(state_with, pod, other, node_with)
            if status is not None:
                return status
        status = self.run_filter(state_with, pod, node_with)
        if status is not None:
            return status
        return self.run_filter(state, pod, node)

    def run_pre_filter_extension_add_pod(
        self, state: CycleState, pod: PodInfo, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status | None:
        for name, ext in self._pre_filter_ext:
            if ext is None or name in state.skip_filter_plugins:
                continue
            status = ext.add_pod(state, pod, pod_to_add, node)
            if status is not None and not status.is_success():
                return status.with_plugin(name)
        return None

    def run_pre_filter_extension_remove_pod(
        self, state: CycleState, pod: PodInfo, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status | None:
        for name, ext in self._pre_filter_ext:
            if ext is None or name in state.skip_filter_plugins:
                continue
            status = ext.remove_pod(state, pod, pod_to_remove, node)
            if status is not None and not status.is_success():
                return status.with_plugin(name)
        return None

    async def run_post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Any
    ) -> tuple[PostFilterResult | None, Status]:
        result: PostFilterResult | None = None
        messages: list[str] = []
        for plugin in self.post_filter_plugins:
            r, status = await plugin.post_filter(state, pod, statuses)
            if status is None or status.is_success():
                return r, Status(Code.SUCCESS, status.reasons if status else (), plugin=plugin.name)
            if status.code is Code.ERROR:
                return None, status.with_plugin(plugin.name)
            messages.extend(status.reasons)
            result = r if r is not None else result
        return result, Status(Code.UNSCHEDULABLE, messages)

    # --- scoring ------------------------------------------------------------------------

    def run_pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        for plugin in self.pre_score_plugins:
            status = plugin.pre_score(state, pod, nodes)
            if status is None or status.code is Code.SUCCESS:
                continue
            if status.code is Code.SKIP:
                state.skip_score_plugins.add(plugin.name)
                continue
            return status.with_plugin(plugin.name)
        return None

    def run_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[PluginScores]:
        """Raw, then normalized scores per plugin; the weighted score is normalized × weight.
        Raises ValueError for a plugin scoring outside 0..100 after normalization."""
        out: list[PluginScores] = []
        skip = state.skip_score_plugins
        for plugin, batch, normalize in self._score_calls:
            if plugin.name in skip:
                continue
            if batch is not None:
                raw = batch(state, pod, nodes)
            else:
                raw = [plugin.score(state, pod, n) for n in nodes]
            normalized = raw
            if normalize is not None:
                normalized = list(raw)
                status = normalize(state, pod, normalized, nodes)
                if status is not None and not status.is_success():
                    raise ValueError(f"plugin {plugin.name} normalize failed: {status.message()}")
            if normalized and (max(normalized) > MAX_NODE_SCORE or min(normalized) < MIN_NODE_SCORE):
                bad = next(s for s in normalized if s > MAX_NODE_SCORE or s < 0)
                raise ValueError(
                    f"plugin {plugin.name!r} returns an invalid score {bad}, it should in the range of "
                    f"[0, {MAX_NODE_SCORE}] after normalizing"
                )
            out.append(PluginScores(plugin.name, self.weights[plugin.name], raw, normalized))
        return out

    # --- reserving, permitting, binding -------------------------------------------------

    def run_reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for plugin in self.reserve_plugins:
            status = plugin.reserve(state, pod, node_name)
            if status is not None and not status.is_success():
                return status.with_plugin(plugin.name)
        return None

    def run_unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        for plugin in reversed(self.reserve_plugins):
            plugin.unreserve(state, pod, node_name)

    def run_permit(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        waits: dict[str, float] = {}
        for plugin in self.permit_plugins:
            status, timeout = plugin.permit(state, pod, node_name)
            if status is None or status.is_success():
                continue
            if status.code is Code.WAIT:
                waits[plugin.name] = timeout
                continue
            return status.with_plugin(plugin.name)
        if waits:
            self.waiting_pods.add(pod, waits, self.services.clock)
            return Status(Code.WAIT, ("one or more plugins asked to wait",))
        return None

    async def wait_on_permit(self, pod: PodInfo) -> Status | None:
        return await self.waiting_pods.wait(pod.uid)

    async def run_pre_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for plugin in self.pre_bind_plugins:
            status = await plugin.pre_bind(state, pod, node_name)
            if status is not None and not status.is_success():
                return status.with_plugin(plugin.name)
        return None

    async def run_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for plugin in self.bind_plugins:
            status = await plugin.bind(state, pod, node_name)
            if status is not None and status.code is Code.SKIP:
                continue
            if status is not None and not status.is_success():
                return status.with_plugin(plugin.name)
            return None
        return Status.as_error("no bind plugin bound the pod")

    def run_post_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        for plugin in self.post_bind_plugins:
            plugin.post_bind(state, pod, node_name)

    def has_post_filter_plugins(self) -> bool:
        return bool(self.post_filter_plugins)

    def has_score_plugins(self) -> bool:
        return bool(self.score_plugins)

    def has_filter_plugins(self) -> bool:
        return bool(self.filter_plugins)
