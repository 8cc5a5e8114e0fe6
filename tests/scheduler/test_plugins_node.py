"""TaintToleration, NodeAffinity, NodePorts, NodeUnschedulable, NodeName, ImageLocality, PrioritySort."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.framework.podinfo import PodInfo, QueuedPodInfo
from scheduler.plugins.imagelocality import MB, calculate_priority
from scheduler.plugins.prioritysort import PrioritySort

from .fakes import PluginBench, make_node, make_pod

UNRESOLVABLE = "UnschedulableAndUnresolvable"


def taint(key: str, value: str = "", effect: str = "NoSchedule") -> dict:
    return {"key": key, "value": value, "effect": effect}


@pytest.mark.parametrize(
    ("tolerations", "want"),
    [
        ([], (UNRESOLVABLE, ("node(s) had untolerated taint {dedicated: user1}",))),
        ([{"key": "dedicated", "operator": "Equal", "value": "user1", "effect": "NoSchedule"}], None),
        ([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}],
         (UNRESOLVABLE, ("node(s) had untolerated taint {dedicated: user1}",))),
        ([{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}], None),
        ([{"key": "dedicated", "operator": "Exists"}], None),  # empty effect matches every effect
        ([{"operator": "Exists"}], None),  # empty key with Exists tolerates everything
        ([{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}],
         (UNRESOLVABLE, ("node(s) had untolerated taint {dedicated: user1}",))),
    ],
)  # fmt: skip
def test_taint_toleration_filter(tolerations: list, want: Any) -> None:
    bench = PluginBench([make_node("n", taints=[taint("dedicated", "user1")])])
    assert bench.filter("TaintToleration", make_pod("p", tolerations=tolerations))["n"] == want


def test_taint_toleration_prefer_no_schedule_only_scores() -> None:
    nodes = [
        make_node("clean"),
        make_node("one", taints=[taint("a", "1", "PreferNoSchedule")]),
        make_node("two", taints=[taint("a", "1", "PreferNoSchedule"), taint("b", "2", "PreferNoSchedule")]),
    ]
    bench = PluginBench(nodes)
    pod = make_pod("p")
    assert bench.filter("TaintToleration", pod) == {"clean": None, "one": None, "two": None}
    assert bench.score("TaintToleration", pod, normalized=False) == {"clean": 0, "one": 1, "two": 2}
    # Reversed: the fewest untolerated PreferNoSchedule taints gets 100.
    assert bench.score("TaintToleration", pod) == {"clean": 100, "one": 50, "two": 0}
    tolerant = make_pod("t", tolerations=[{"key": "b", "operator": "Exists", "effect": "PreferNoSchedule"}])
    assert bench.score("TaintToleration", tolerant, normalized=False) == {"clean": 0, "one": 1, "two": 1}


def labelled_nodes() -> list[dict]:
    return [
        make_node("n1", labels={"zone": "a", "disk": "ssd", "gen": "3"}),
        make_node("n2", labels={"zone": "b", "disk": "hdd", "gen": "5"}),
        make_node("n3", labels={"zone": "c"}),
    ]


def required(*exprs: dict, fields: list | None = None) -> dict:
    term: dict = {"matchExpressions": list(exprs)} if exprs else {}
    if fields:
        term["matchFields"] = fields
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


@pytest.mark.parametrize(
    ("kw", "passing"),
    [
        ({"node_selector": {"disk": "ssd"}}, {"n1"}),
        ({"affinity": required({"key": "zone", "operator": "In", "values": ["a", "b"]})}, {"n1", "n2"}),
        ({"affinity": required({"key": "zone", "operator": "NotIn", "values": ["a"]})}, {"n2", "n3"}),
        ({"affinity": required({"key": "disk", "operator": "Exists"})}, {"n1", "n2"}),
        ({"affinity": required({"key": "disk", "operator": "DoesNotExist"})}, {"n3"}),
        ({"affinity": required({"key": "gen", "operator": "Gt", "values": ["4"]})}, {"n2"}),
        ({"affinity": required({"key": "gen", "operator": "Lt", "values": ["4"]})}, {"n1"}),
        ({"affinity": required(fields=[{"key": "metadata.name", "operator": "In", "values": ["n3"]}])}, {"n3"}),
        # nodeSelector and affinity must both hold.
        ({"node_selector": {"disk": "ssd"}, "affinity": required({"key": "zone", "operator": "In", "values": ["b"]})}, set()),
    ],
)  # fmt: skip
def test_node_affinity_filter(kw: dict, passing: set) -> None:
    got = PluginBench(labelled_nodes()).filter("NodeAffinity", make_pod("p", **kw))
    assert {n for n, s in got.items() if s is None} == passing
    for s in got.values():
        if s is not None:
            assert s == (UNRESOLVABLE, ("node(s) didn't match Pod's node affinity/selector",))


def test_node_affinity_prefilter_narrows_to_named_nodes() -> None:
    bench = PluginBench(labelled_nodes())
    from scheduler.framework.cycle_state import CycleState

    plugin = bench.fwk.plugins["NodeAffinity"]
    pod = PodInfo(
        make_pod(
            "p", affinity=required(fields=[{"key": "metadata.name", "operator": "In", "values": ["n2"]}])
        )
    )
    result, status = plugin.pre_filter(CycleState(), pod, bench.snapshot.node_info_list)  # type: ignore[attr-defined]
    assert status is None and result.node_names == {"n2"}


def test_node_affinity_preferred_score() -> None:
    preferred = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 2, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}},
        {"weight": 8, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}},
    ]}}  # fmt: skip
    bench = PluginBench(labelled_nodes())
    pod = make_pod("p", affinity=preferred)
    assert bench.score("NodeAffinity", pod, normalized=False) == {"n1": 10, "n2": 8, "n3": 0}
    assert bench.score("NodeAffinity", pod) == {"n1": 100, "n2": 80, "n3": 0}


def test_node_ports() -> None:
    nodes = [make_node("n1"), make_node("n2"), make_node("n3")]
    pods = [
        make_pod("a", node="n1", ports=[{"containerPort": 80, "hostPort": 8080}]),
        make_pod("b", node="n2", ports=[{"containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.2"}]),
        make_pod("c", node="n3", ports=[{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}]),
    ]
    bench = PluginBench(nodes, pods)
    conflict = ("Unschedulable", ("node(s) didn't have free ports for the requested pod ports",))
    any_ip = make_pod("p", ports=[{"containerPort": 80, "hostPort": 8080}])
    assert bench.filter("NodePorts", any_ip) == {"n1": conflict, "n2": conflict, "n3": None}
    other_ip = make_pod("q", ports=[{"containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.3"}])
    assert bench.filter("NodePorts", other_ip) == {"n1": conflict, "n2": None, "n3": None}


def test_node_unschedulable_and_its_toleration() -> None:
    bench = PluginBench([make_node("cordoned", unschedulable=True), make_node("open")])
    got = bench.filter("NodeUnschedulable", make_pod("p"))
    assert got == {"cordoned": (UNRESOLVABLE, ("node(s) were unschedulable",)), "open": None}
    tolerant = make_pod(
        "t",
        tolerations=[
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}
        ],
    )
    assert bench.filter("NodeUnschedulable", tolerant)["cordoned"] is None


def test_node_name() -> None:
    bench = PluginBench([make_node("n1"), make_node("n2")])
    pod = make_pod("p")
    pod["spec"]["nodeName"] = "n2"
    assert bench.filter("NodeName", pod) == {
        "n1": (UNRESOLVABLE, ("node(s) didn't match the requested node name",)),
        "n2": None,
    }


def test_image_locality() -> None:
    nodes = [
        make_node("small", images=[(["gcr.io/40:latest"], 40 * MB)]),
        make_node("big", images=[(["gcr.io/300:latest", "gcr.io/300:v1"], 300 * MB)]),
        make_node("none"),
    ]
    bench = PluginBench(nodes)
    pod = make_pod("p", image="gcr.io/300")  # no tag: normalized to :latest
    pod["spec"]["containers"].append({"name": "b", "image": "gcr.io/40:latest"})
    got = bench.score("ImageLocality", pod)
    # Each image is on one of three nodes, so it counts a third of its size.
    assert got == {
        "small": calculate_priority(40 * MB // 3, 2),
        "big": calculate_priority(int(300 * MB * 1 / 3), 2),
        "none": 0,
    }
    assert got["big"] > got["small"] == 0


def test_priority_sort() -> None:
    sort = PrioritySort()
    high = QueuedPodInfo(PodInfo(make_pod("h", priority=10)), timestamp=5.0)
    low_old = QueuedPodInfo(PodInfo(make_pod("l", priority=1)), timestamp=1.0)
    low_new = QueuedPodInfo(PodInfo(make_pod("m", priority=1)), timestamp=2.0)
    assert sort.less(high, low_old) and not sort.less(low_old, high)
    assert sort.less(low_old, low_new) and not sort.less(low_new, low_old)
