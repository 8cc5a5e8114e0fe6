"""The cache with a fake clock: assume, confirm, forget, expire; incremental snapshots."""

from __future__ import annotations

import pytest

from kube.client.clock import FakeClock
from scheduler.framework.podinfo import PodInfo
from scheduler.internal.cache import Cache, CacheError
from scheduler.internal.snapshot import Snapshot

from .fakes import make_node, make_pod


def setup(ttl: float = 30.0) -> tuple[Cache, FakeClock]:
    clock = FakeClock()
    cache = Cache(ttl=ttl, clock=clock)
    cache.add_node(make_node("n1", cpu="4"))
    cache.add_node(make_node("n2", cpu="4"))
    return cache, clock


def requested(cache: Cache, node: str) -> int:
    snap = Snapshot()
    cache.update_snapshot(snap)
    info = snap.get(node)
    assert info is not None
    return info.requested.milli_cpu


def test_assume_then_confirm() -> None:
    cache, _ = setup()
    pod = PodInfo(make_pod("p", cpu="1"))
    cache.assume_pod(pod.with_node("n1"))
    assert cache.is_assumed(pod.uid) and requested(cache, "n1") == 1000
    cache.add_pod(PodInfo(make_pod("p", cpu="1", node="n1", uid=pod.uid)))
    assert not cache.is_assumed(pod.uid) and requested(cache, "n1") == 1000


def test_confirmation_on_another_node_follows_the_truth() -> None:
    cache, _ = setup()
    pod = PodInfo(make_pod("p", cpu="1"))
    cache.assume_pod(pod.with_node("n1"))
    cache.add_pod(PodInfo(make_pod("p", cpu="1", node="n2", uid=pod.uid)))
    assert requested(cache, "n1") == 0 and requested(cache, "n2") == 1000


def test_forget_releases_resources_and_rejects_unknown_pods() -> None:
    cache, _ = setup()
    pod = PodInfo(make_pod("p", cpu="1")).with_node("n1")
    cache.assume_pod(pod)
    cache.forget_pod(pod)
    assert requested(cache, "n1") == 0
    with pytest.raises(CacheError):
        cache.forget_pod(pod)
    cache.assume_pod(pod)
    with pytest.raises(CacheError):
        cache.assume_pod(pod)


def test_assumed_pod_expires_only_after_binding_finished_and_ttl() -> None:
    cache, clock = setup(ttl=30)
    pod = PodInfo(make_pod("p", cpu="1")).with_node("n1")
    cache.assume_pod(pod)
    clock.step(100)
    assert cache.cleanup_assumed_pods() == []  # the bind has not returned yet: keep it
    cache.finish_binding(pod)
    clock.step(29)
    assert cache.cleanup_assumed_pods() == []
    clock.step(2)
    assert [p.key for p in cache.cleanup_assumed_pods()] == ["default/p"]
    assert requested(cache, "n1") == 0 and cache.pod_count() == 0


def test_snapshot_copies_only_changed_nodes() -> None:
    cache, _ = setup()
    snap = Snapshot()
    cache.update_snapshot(snap)
    n1, n2 = snap.get("n1"), snap.get("n2")
    cache.add_pod(PodInfo(make_pod("p", cpu="1", node="n1")))
    cache.update_snapshot(snap)
    assert snap.get("n2") is n2  # untouched node: same copy
    assert snap.get("n1") is not n1 and n1 is not None and n1.requested.milli_cpu == 0
    assert snap.get("n1").requested.milli_cpu == 1000  # type: ignore[union-attr]


def test_node_removed_with_pods_stays_counted_until_pods_go() -> None:
    cache, _ = setup()
    node = make_node("n1", cpu="4")
    pod = PodInfo(make_pod("p", cpu="1", node="n1"))
    cache.add_pod(pod)
    cache.remove_node(node)
    snap = Snapshot()
    cache.update_snapshot(snap)
    assert [n.name for n in snap.node_info_list] == ["n2"]
    cache.remove_pod(pod)
    cache.add_node(node)
    cache.update_snapshot(snap)
    assert sorted(n.name for n in snap.node_info_list) == ["n1", "n2"]
    assert snap.get("n1").requested.milli_cpu == 0  # type: ignore[union-attr]


def test_snapshot_interleaves_zones() -> None:
    cache = Cache(clock=FakeClock())
    for name, zone in (("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("c1", "c"), ("c2", "c")):
        cache.add_node(make_node(name, labels={"topology.kubernetes.io/zone": zone}))
    snap = Snapshot()
    cache.update_snapshot(snap)
    assert [n.name for n in snap.node_info_list] == ["a1", "b1", "c1", "a2", "c2", "a3"]


def test_image_states_count_nodes_across_the_cluster() -> None:
    cache = Cache(clock=FakeClock())
    cache.add_node(make_node("n1", images=[(["img:1"], 100)]))
    cache.add_node(make_node("n2", images=[(["img:1"], 100)]))
    snap = Snapshot()
    cache.update_snapshot(snap)
    assert snap.get("n1").image_states["img:1"].num_nodes == 2  # type: ignore[union-attr]
    cache.remove_node(make_node("n2"))
    assert snap.get("n1").image_states["img:1"].num_nodes == 1  # type: ignore[union-attr]


def test_snapshot_counts_rare_node_traits_incrementally() -> None:
    cache, _ = setup()
    snap = Snapshot()
    cache.update_snapshot(snap)
    assert (snap.traits.tainted, snap.traits.unschedulable) == (0, 0)
    old = make_node("n1", cpu="4")
    new = make_node("n1", cpu="4", taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}], unschedulable=True)
    cache.update_node(old, new)
    cache.update_snapshot(snap)
    assert (snap.traits.tainted, snap.traits.unschedulable) == (1, 1)
    cache.update_node(new, old)
    cache.update_snapshot(snap)
    assert (snap.traits.tainted, snap.traits.unschedulable) == (0, 0)
