"""Assemble a :class:`~scheduler.scheduler.Scheduler` from a configuration.

Kept apart from the process wiring (:mod:`scheduler.app`) so tests can build a complete
scheduler in-process — real profiles, queue, cache and plugins — around fake listers
and a fake API, and drive it pod by pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kube.client.clock import Clock, RealClock
from scheduler.algorithm import Algorithm
from scheduler.apicalls import ApiCalls
from scheduler.config import SchedulerConfig
from scheduler.explain import DecisionStore
from scheduler.framework.runtime import Framework
from scheduler.framework.services import Services
from scheduler.internal.cache import Cache
from scheduler.internal.queue import SchedulingQueue
from scheduler.internal.snapshot import Snapshot
from scheduler.metrics import Metrics
from scheduler.plugins import DEFAULT_PLUGINS, DEFAULT_WEIGHTS, REGISTRY
from scheduler.recorder import EventRecorder
from scheduler.scheduler import Scheduler


def build_scheduler(
    config: SchedulerConfig,
    *,
    api: ApiCalls | None,
    recorder: EventRecorder | None,
    listers: Mapping[str, Any],
    clock: Clock | None = None,
    decisions: DecisionStore | None = None,
    annotate: bool = True,
) -> Scheduler:
    clock = clock or RealClock()
    snapshot = Snapshot()
    cache = Cache(clock=clock)
    holder: dict[str, SchedulingQueue] = {}

    def nominated(node_name: str) -> list[Any]:
        return holder["queue"].nominator.pods_for_node(node_name) if "queue" in holder else []

    services = Services(
        snapshot=lambda: snapshot,
        nominated_pods_for_node=nominated,
        listers=listers,
        api=api,
        recorder=recorder,
        clock=clock,
    )
    profiles = {
        p.scheduler_name: Framework(
            p,
            registry=REGISTRY,
            default_plugins=DEFAULT_PLUGINS,
            default_weights=DEFAULT_WEIGHTS,
            services=services,
        )
        for p in config.profiles
    }
    sorts = {type(f.queue_sort) for f in profiles.values()}
    if len(sorts) > 1:
        raise ValueError(
            "profiles[*].plugins.queueSort: Invalid value: all profiles must use the same queueSort plugin"
        )
    first = next(iter(profiles.values()))

    def pre_enqueue(pod: Any) -> str | None:
        fwk = profiles.get(pod.scheduler_name)
        return fwk.run_pre_enqueue(pod) if fwk is not None else None

    queue = SchedulingQueue(
        less=first.queue_sort.less,
        clock=clock,
        initial_backoff=config.pod_initial_backoff_seconds,
        max_backoff=config.pod_max_backoff_seconds,
        registrations={name: fwk.event_registrations() for name, fwk in profiles.items()},
        pre_enqueue=pre_enqueue,
    )
    holder["queue"] = queue
    algorithm = Algorithm(
        percentage_of_nodes_to_score=config.percentage_of_nodes_to_score, nominator=queue.nominator
    )
    metrics = Metrics()
    metrics.watch_queue(queue.pending)
    return Scheduler(
        profiles=profiles,
        queue=queue,
        cache=cache,
        snapshot=snapshot,
        algorithm=algorithm,
        api=api,
        recorder=recorder,
        pods=listers.get("pods"),
        metrics=metrics,
        decisions=decisions,
        clock=clock,
        annotate=annotate,
    )
