"""Node sampling, round robin, tie breaks and the FailedScheduling message."""

from __future__ import annotations

import random

import pytest

from scheduler.algorithm import Algorithm, num_feasible_nodes_to_find
from scheduler.framework.diagnosis import Diagnosis, FitError
from scheduler.framework.status import Status

from .fakes import Harness, make_node, make_pod


@pytest.mark.parametrize(
    ("nodes", "percentage", "want"),
    [
        (10, 0, 10),  # below 100 nodes: all of them
        (100, 0, 100),
        (1000, 0, 420),  # 50 - 1000/125 = 42%
        (5000, 0, 500),  # 50 - 40 = 10%
        (6000, 0, 300),  # 50 - 48 = 2% → the 5% floor
        (1000, 5, 100),  # never fewer than 100
        (1000, 50, 500),
        (1000, 100, 1000),
    ],
)
def test_num_feasible_nodes_to_find(nodes: int, percentage: int, want: int) -> None:
    assert num_feasible_nodes_to_find(percentage, nodes) == want


def test_select_host_breaks_ties_uniformly() -> None:
    algo = Algorithm(rng=random.Random(7))
    picks = [algo.select_host(["a", "b", "c", "d"], [5, 9, 9, 9]) for _ in range(3000)]
    assert set(picks) == {"b", "c", "d"}
    assert all(800 < picks.count(n) < 1200 for n in "bcd")


async def test_filtering_stops_at_enough_feasible_nodes_and_round_robins() -> None:
    h = Harness(config={"percentageOfNodesToScore": 10})
    for i in range(1000):
        h.add_node(make_node(f"n{i:04d}"))
    h.add_pod(make_pod("p1"))
    h.add_pod(make_pod("p2"))
    await h.schedule_pending()
    first = h.scheduler.decisions.get("default/p1")
    second = h.scheduler.decisions.get("default/p2")
    assert first is not None and second is not None
    assert (first.feasible_nodes, first.evaluated_nodes) == (100, 100)
    # The second cycle starts where the first stopped: a disjoint window of nodes.
    assert set(first.scored_nodes).isdisjoint(second.scored_nodes)
    assert h.scheduler.algorithm.next_start_node_index == 200


def test_fit_error_message_sorts_reasons_as_strings() -> None:
    d = Diagnosis()
    for i in range(10):
        d.node_to_status.set(f"a{i}", Status.unschedulable("Insufficient cpu"))
    for i in range(2):
        d.node_to_status.set(f"b{i}", Status.unresolvable("node(s) had untolerated taint {key: value}"))
    d.node_to_status.set("c", Status.unschedulable("Insufficient cpu", "Insufficient memory"))
    d.post_filter_msg = "preemption: 0/13 nodes are available: 13 Preemption is not helpful for scheduling."
    msg = FitError(pod_key="default/p", num_all_nodes=13, diagnosis=d).message()
    assert msg == (
        "0/13 nodes are available: 1 Insufficient memory, 11 Insufficient cpu, "
        "2 node(s) had untolerated taint {key: value}. "
        "preemption: 0/13 nodes are available: 13 Preemption is not helpful for scheduling."
    )


def test_fit_error_message_for_a_prefilter_rejection() -> None:
    d = Diagnosis()
    d.pre_filter_msg = "node(s) didn't match pod affinity rules"
    d.node_to_status.absent = Status.unresolvable("node(s) didn't match pod affinity rules")
    assert FitError(pod_key="x", num_all_nodes=3, diagnosis=d).message() == (
        "0/3 nodes are available: node(s) didn't match pod affinity rules."
    )
