"""NodeResourcesFit and NodeResourcesBalancedAllocation, with Kubernetes' documented cases."""

from __future__ import annotations

from typing import Any

import pytest

from .fakes import PluginBench, make_node, make_pod


def two_container_pod(name: str = "p", **kw: Any) -> dict:
    # Kubernetes' scoring tests: 1000m/2000 + 2000m/3000 = 3000m cpu, 5000 bytes memory.
    pod = make_pod(name, **kw)
    pod["spec"]["containers"] = [
        {"name": "a", "image": "i", "resources": {"requests": {"cpu": "1000m", "memory": "2000"}}},
        {"name": "b", "image": "i", "resources": {"requests": {"cpu": "2000m", "memory": "3000"}}},
    ]
    return pod


def scoring_nodes() -> list[dict]:
    return [make_node("node1", cpu="4000m", memory="10000"), make_node("node2", cpu="6000m", memory="10000")]


def test_fit_filter_reports_every_shortfall() -> None:
    nodes = [
        make_node("n1", cpu="10", memory="20Gi", pods="3"),
        make_node("n2", cpu="10", memory="20Gi", pods="110"),
    ]
    used = [
        make_pod("u1", cpu="9", memory="19Gi", node="n1"),
        make_pod("u2", node="n1"),
        make_pod("u3", node="n1"),
    ]
    bench = PluginBench(nodes, used)
    got = bench.filter("NodeResourcesFit", make_pod("p", cpu="2", memory="2Gi"))
    assert got["n1"] == ("Unschedulable", ("Too many pods", "Insufficient cpu", "Insufficient memory"))
    assert got["n2"] is None


@pytest.mark.parametrize(
    ("pod_kw", "want"),
    [
        ({"cpu": "1"}, None),
        ({"cpu": "1001m"}, ("Unschedulable", ("Insufficient cpu",))),
        ({"memory": "1Gi"}, None),
        ({"memory": "1025Mi"}, ("Unschedulable", ("Insufficient memory",))),
        ({}, None),  # a best-effort pod needs only a pod slot
    ],
)
def test_fit_filter_boundaries(pod_kw: dict, want: Any) -> None:
    bench = PluginBench(
        [make_node("n", cpu="2", memory="2Gi")], [make_pod("u", cpu="1", memory="1Gi", node="n")]
    )
    assert bench.filter("NodeResourcesFit", make_pod("p", **pod_kw))["n"] == want


def test_fit_filter_init_containers_and_overhead() -> None:
    bench = PluginBench([make_node("n", cpu="2", memory="8Gi")])
    pod = make_pod(
        "p",
        cpu="500m",
        init_containers=[{"name": "i", "image": "x", "resources": {"requests": {"cpu": "2"}}}],
    )
    assert bench.filter("NodeResourcesFit", pod)["n"] is None  # the init peak, 2 cpu, fits exactly
    pod = make_pod("p", cpu="1900m", overhead={"cpu": "200m"})
    assert bench.filter("NodeResourcesFit", pod)["n"] == ("Unschedulable", ("Insufficient cpu",))


def test_fit_filter_extended_resources_and_ignored() -> None:
    nodes = [make_node("gpu", extra={"example.com/gpu": "2"}), make_node("plain")]
    pod = make_pod("p")
    pod["spec"]["containers"][0]["resources"] = {
        "requests": {"example.com/gpu": "1"},
        "limits": {"example.com/gpu": "1"},
    }
    bench = PluginBench(nodes)
    got = bench.filter("NodeResourcesFit", pod)
    assert got == {"gpu": None, "plain": ("Unschedulable", ("Insufficient example.com/gpu",))}
    config = {
        "profiles": [
            {
                "pluginConfig": [
                    {"name": "NodeResourcesFit", "args": {"ignoredResources": ["example.com/gpu"]}}
                ]
            }
        ]
    }
    assert PluginBench(nodes, config=config).filter("NodeResourcesFit", pod)["plain"] is None


def test_least_allocated_score() -> None:
    # node1: cpu (4000-3000)*100/4000 = 25, memory 50 → 37; node2: 50, 50 → 50.
    bench = PluginBench(scoring_nodes())
    assert bench.score("NodeResourcesFit", two_container_pod()) == {"node1": 37, "node2": 50}


def test_least_allocated_counts_defaults_for_pods_without_requests() -> None:
    # Non-zero defaults: 100m cpu; 200Mi memory exceeds 10000 bytes, so memory scores 0.
    bench = PluginBench([make_node("n", cpu="4000m", memory="10000")])
    assert bench.score("NodeResourcesFit", make_pod("p")) == {"n": (97 + 0) // 2}


def test_most_allocated_score() -> None:
    config = {
        "profiles": [
            {
                "pluginConfig": [
                    {"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "MostAllocated"}}}
                ]
            }
        ]
    }
    bench = PluginBench(scoring_nodes(), config=config)
    assert bench.score("NodeResourcesFit", two_container_pod()) == {"node1": (75 + 50) // 2, "node2": 50}


def test_requested_to_capacity_ratio_score() -> None:
    shape = [{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}]
    args = {
        "scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": shape}}
    }
    bench = PluginBench(
        scoring_nodes(), config={"profiles": [{"pluginConfig": [{"name": "NodeResourcesFit", "args": args}]}]}
    )
    # node1: cpu 75% → 25, memory 50% → 50 → round(37.5) = 38; node2: 50% → 50, 50 → 50.
    assert bench.score("NodeResourcesFit", two_container_pod()) == {"node1": 38, "node2": 50}


def test_balanced_allocation_score() -> None:
    # node1: cpu 0.75, memory 0.5 → std 0.125 → 87; node2: 0.5 and 0.5 → 100.
    bench = PluginBench(scoring_nodes())
    assert bench.score("NodeResourcesBalancedAllocation", two_container_pod()) == {"node1": 87, "node2": 100}


def test_balanced_allocation_skips_best_effort_pods() -> None:
    bench = PluginBench(scoring_nodes(), [make_pod("u", cpu="3", node="node1")])
    assert bench.score("NodeResourcesBalancedAllocation", make_pod("p")) == {"node1": 0, "node2": 0}
