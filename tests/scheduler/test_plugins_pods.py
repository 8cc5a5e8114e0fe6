"""PodTopologySpread and InterPodAffinity: filters against Kubernetes' documented behaviour."""

from __future__ import annotations

from .fakes import PluginBench, make_node, make_pod

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"
UNSCHED = "Unschedulable"
UNRESOLVABLE = "UnschedulableAndUnresolvable"


def zoned_nodes() -> list[dict]:
    return [
        make_node("a", labels={ZONE: "z1"}),
        make_node("b", labels={ZONE: "z1"}),
        make_node("x", labels={ZONE: "z2"}),
        make_node("y", labels={ZONE: "z2"}),
    ]


def spread(key: str, max_skew: int = 1, when: str = "DoNotSchedule", **extra: object) -> dict:
    return {"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": {"app": "web"}}, **extra}  # fmt: skip


def web(name: str, node: str = "", **kw: object) -> dict:
    return make_pod(name, labels={"app": "web"}, node=node, **kw)  # type: ignore[arg-type]


def test_spread_filter_zone_skew() -> None:
    # Kubernetes' documentation example: z1 has 2 matching pods, z2 has 0, maxSkew 1.
    bench = PluginBench(zoned_nodes(), [web("p1", "a"), web("p2", "b")])
    got = bench.filter("PodTopologySpread", web("new", spread=[spread(ZONE)]))
    not_match = (UNSCHED, ("node(s) didn't match pod topology spread constraints",))
    assert got == {"a": not_match, "b": not_match, "x": None, "y": None}


def test_spread_filter_counts_only_matching_pods_of_the_namespace() -> None:
    pods = [make_pod("other", labels={"app": "db"}, node="x"), web("elsewhere", "y", namespace="prod")]
    bench = PluginBench(zoned_nodes(), [web("p1", "a"), *pods])
    got = bench.filter("PodTopologySpread", web("new", spread=[spread(ZONE)]))
    assert got["a"] is not None and got["b"] is not None and got["x"] is None


def test_spread_filter_missing_label_is_unresolvable() -> None:
    bench = PluginBench([*zoned_nodes(), make_node("nozone")])
    got = bench.filter("PodTopologySpread", web("new", spread=[spread(ZONE)]))
    assert got["nozone"] == (
        UNRESOLVABLE,
        ("node(s) didn't match pod topology spread constraints (missing required label)",),
    )
    assert got["a"] is None


def test_spread_filter_min_domains_treats_global_minimum_as_zero() -> None:
    # Only z1 exists (one domain) but minDomains is 2: the minimum counts as 0, so a
    # domain already holding one matching pod cannot take another with maxSkew 1.
    nodes = [make_node("a", labels={ZONE: "z1"}), make_node("b", labels={ZONE: "z1"})]
    bench = PluginBench(nodes, [web("p1", "a")])
    got = bench.filter("PodTopologySpread", web("new", spread=[spread(ZONE, minDomains=2)]))
    assert got["a"] is not None and got["b"] is not None
    assert (
        PluginBench(nodes, [web("p1", "a")]).filter("PodTopologySpread", web("n", spread=[spread(ZONE)]))["a"]
        is None
    )


def test_spread_filter_honours_node_affinity_policy() -> None:
    # z2 is excluded by the pod's own selector, so it is not a domain: z1 is the minimum.
    nodes = [make_node("a", labels={ZONE: "z1", "pool": "x"}), make_node("x", labels={ZONE: "z2"})]
    bench = PluginBench(nodes, [web("p1", "a")])
    got = bench.filter("PodTopologySpread", web("new", spread=[spread(ZONE)], node_selector={"pool": "x"}))
    assert got["a"] is None


def test_spread_score_prefers_less_loaded_hosts() -> None:
    nodes = [make_node("a"), make_node("b"), make_node("c")]
    bench = PluginBench(nodes, [web("1", "a"), web("2", "a"), web("3", "b")])
    pod = web("new", spread=[spread(HOST, when="ScheduleAnyway")])
    # raw = count × log(3 + 2) + (maxSkew − 1): a 2×1.609 → 3, b → 2, c → 0
    assert bench.score("PodTopologySpread", pod, normalized=False) == {"a": 3, "b": 2, "c": 0}
    assert bench.score("PodTopologySpread", pod) == {"a": 0, "b": 33, "c": 100}


def test_spread_system_defaults_follow_the_workload_selector() -> None:
    nodes = [make_node("a", labels={ZONE: "z1"}), make_node("b", labels={ZONE: "z2"})]
    bench = PluginBench(nodes, [web("1", "a"), web("2", "a")])
    bench.harness.listers["replicasets"].add({
        "metadata": {"name": "web-rs", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}},
    })  # fmt: skip
    scores = bench.score("PodTopologySpread", web("new"))
    assert scores["b"] > scores["a"]
    # Without a workload selecting it, a pod gets no default spreading.
    assert PluginBench(nodes, [web("1", "a")]).score("PodTopologySpread", web("new")) == {"a": 0, "b": 0}


def affinity(kind: str, key: str, labels: dict, *, required: bool = True, weight: int = 10) -> dict:
    term = {"labelSelector": {"matchLabels": labels}, "topologyKey": key}
    if required:
        return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    return {
        kind: {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": weight, "podAffinityTerm": term}]
        }
    }


def test_pod_affinity_filter() -> None:
    bench = PluginBench(zoned_nodes(), [make_pod("db", labels={"app": "db"}, node="a")])
    got = bench.filter(
        "InterPodAffinity", make_pod("p", affinity=affinity("podAffinity", ZONE, {"app": "db"}))
    )
    no = (UNRESOLVABLE, ("node(s) didn't match pod affinity rules",))
    assert got == {"a": None, "b": None, "x": no, "y": no}


def test_pod_affinity_first_pod_of_a_self_affine_group_goes_anywhere() -> None:
    bench = PluginBench(zoned_nodes())
    pod = make_pod("p", labels={"app": "db"}, affinity=affinity("podAffinity", ZONE, {"app": "db"}))
    assert set(bench.filter("InterPodAffinity", pod).values()) == {None}
    stranger = make_pod("q", labels={"app": "web"}, affinity=affinity("podAffinity", ZONE, {"app": "db"}))
    assert None not in bench.filter("InterPodAffinity", stranger).values()


def test_pod_anti_affinity_filter_and_its_symmetry() -> None:
    bench = PluginBench(zoned_nodes(), [make_pod("db", labels={"app": "db"}, node="a")])
    got = bench.filter(
        "InterPodAffinity", make_pod("p", affinity=affinity("podAntiAffinity", HOST, {"app": "db"}))
    )
    assert got == {
        "a": (UNSCHED, ("node(s) didn't match pod anti-affinity rules",)),
        "b": None,
        "x": None,
        "y": None,
    }
    # An existing pod's anti-affinity keeps matching pods out of its zone.
    guard = make_pod(
        "guard", labels={"app": "guard"}, node="x", affinity=affinity("podAntiAffinity", ZONE, {"app": "web"})
    )
    bench = PluginBench(zoned_nodes(), [guard])
    got = bench.filter("InterPodAffinity", web("w"))
    existing = (UNSCHED, ("node(s) didn't satisfy existing pods anti-affinity rules",))
    assert got == {"a": None, "b": None, "x": existing, "y": existing}


def test_pod_affinity_namespace_selector() -> None:
    namespaces = [
        {"metadata": {"name": "default", "labels": {"team": "a"}}},
        {"metadata": {"name": "prod", "labels": {"team": "b"}}},
    ]
    bench = PluginBench(
        zoned_nodes(),
        [make_pod("db", namespace="prod", labels={"app": "db"}, node="x")],
        namespaces=namespaces,
    )
    term = {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": ZONE,
            "namespaceSelector": {"matchLabels": {"team": "b"}}}  # fmt: skip
    pod = make_pod("p", affinity={"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}})
    got = bench.filter("InterPodAffinity", pod)
    assert {n for n, s in got.items() if s is None} == {"x", "y"}


def test_pod_affinity_preferred_score() -> None:
    bench = PluginBench(zoned_nodes(), [make_pod("db", labels={"app": "db"}, node="a")])
    pod = make_pod("p", affinity=affinity("podAffinity", ZONE, {"app": "db"}, required=False, weight=5))
    assert bench.score("InterPodAffinity", pod, normalized=False) == {"a": 5, "b": 5, "x": 0, "y": 0}
    assert bench.score("InterPodAffinity", pod) == {"a": 100, "b": 100, "x": 0, "y": 0}
    anti = make_pod("q", affinity=affinity("podAntiAffinity", ZONE, {"app": "db"}, required=False, weight=5))
    assert bench.score("InterPodAffinity", anti) == {"a": 0, "b": 0, "x": 100, "y": 100}


def test_existing_pods_required_affinity_attracts_with_hard_weight() -> None:
    magnet = make_pod(
        "m", labels={"app": "m"}, node="x", affinity=affinity("podAffinity", ZONE, {"app": "web"})
    )
    bench = PluginBench(zoned_nodes(), [magnet])
    assert bench.score("InterPodAffinity", web("w"), normalized=False) == {"a": 0, "b": 0, "x": 1, "y": 1}
