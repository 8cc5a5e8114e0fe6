"""The scheduler's Prometheus metrics, named as kube-scheduler names them.

- ``scheduler_schedule_attempts_total{result,profile}`` — attempts by outcome
  (``scheduled``, ``unschedulable``, ``error``);
- ``scheduler_scheduling_attempt_duration_seconds{result,profile}`` — one attempt, pop to
  the end of the scheduling cycle (the algorithm, not the bind);
- ``scheduler_e2e_scheduling_duration_seconds{result,profile}`` — one attempt including
  the binding cycle (kube-scheduler's older e2e latency);
- ``scheduler_pod_scheduling_sli_duration_seconds{attempts}`` — a pod's first pop to its
  successful bind, over all attempts (the scheduling SLI);
- ``scheduler_pending_pods{queue}`` — pods waiting in active / backoff / unschedulable /
  gated, read from the queue at scrape time;
- ``scheduler_preemption_victims``, ``scheduler_preemption_attempts_total``.

Each Scheduler has its own registry, so two in one process (tests) do not collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

SCHEDULED = "scheduled"
UNSCHEDULABLE = "unschedulable"
ERROR = "error"

_DURATION_BUCKETS = tuple(0.001 * 2**i for i in range(15))  # 1 ms .. 16 s
_SLI_BUCKETS = tuple(0.01 * 2**i for i in range(20))  # 10 ms .. ~1.5 h


class _PendingCollector:
    def __init__(self, pending: Callable[[], dict[str, int]]) -> None:
        self.pending = pending

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "scheduler_pending_pods", "Number of pending pods, by the queue type.", labels=["queue"]
        )
        for queue, count in self.pending().items():
            family.add_metric([queue], count)
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.schedule_attempts = Counter(
            "scheduler_schedule_attempts",
            "Number of attempts to schedule pods, by the result.",
            ["result", "profile"],
            registry=r,
        )
        self.attempt_duration = Histogram(
            "scheduler_scheduling_attempt_duration_seconds",
            "Scheduling attempt latency in seconds (scheduling algorithm + binding decision).",
            ["result", "profile"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.e2e_duration = Histogram(
            "scheduler_e2e_scheduling_duration_seconds",
            "E2e scheduling latency in seconds (scheduling algorithm + binding).",
            ["result", "profile"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.sli_duration = Histogram(
            "scheduler_pod_scheduling_sli_duration_seconds",
            "E2e latency for a pod being scheduled, from the time the pod enters the queue.",
            ["attempts"],
            buckets=_SLI_BUCKETS,
            registry=r,
        )
        self.preemption_victims = Histogram(
            "scheduler_preemption_victims", "Number of selected preemption victims",
            buckets=(1, 2, 4, 8, 16, 32, 64), registry=r,
        )  # fmt: skip
        self.preemption_attempts = Counter(
            "scheduler_preemption_attempts", "Total preemption attempts in the cluster till now", registry=r
        )

        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def watch_queue(self, pending: Callable[[], dict[str, int]]) -> None:
        self.registry.register(_PendingCollector(pending))

    def attempt(self, *, result: str, profile: str, seconds: float) -> None:
        children = self._children.get((result, profile))
        if children is None:
            # labels() looks the child up under a lock each time: keep them.
            children = (
                self.schedule_attempts.labels(result, profile),
                self.attempt_duration.labels(result, profile),
            )
            self._children[(result, profile)] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def attempts_label(attempts: int) -> str:
    """Capped so the label set stays small, as kube-scheduler does."""
    return "15+" if attempts >= 15 else str(attempts)
