"""Property: whatever the cluster and the pods, every placement satisfies every constraint."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.framework.podinfo import PodInfo
from scheduler.framework.resources import Resource

from .fakes import Harness, make_node, make_pod

ZONE = "topology.kubernetes.io/zone"

nodes_st = st.lists(
    st.tuples(
        st.integers(1, 8),  # cpu
        st.integers(1, 16),  # memory GiB
        st.sampled_from(["a", "b", "c"]),  # zone
        st.booleans(),  # tainted
        st.integers(1, 6),  # pod slots
    ),
    min_size=1,
    max_size=8,
)
pods_st = st.lists(
    st.tuples(
        st.integers(0, 4000),  # milli-cpu
        st.integers(0, 6),  # memory GiB
        st.booleans(),  # tolerates the taint
        st.sampled_from([None, "a", "b"]),  # zone selector
        st.booleans(),  # anti-affinity to its own app per host
        st.integers(0, 3),  # priority
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nodes=nodes_st, pods=pods_st)
def test_placements_respect_resources_taints_selectors_and_anti_affinity(nodes: list, pods: list) -> None:
    asyncio.run(_check(nodes, pods))


async def _check(nodes: list, pods: list) -> None:
    h = Harness()
    node_objs = {}
    for i, (cpu, mem, zone, tainted, slots) in enumerate(nodes):
        taints = [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}] if tainted else None
        node = make_node(
            f"n{i}", cpu=str(cpu), memory=f"{mem}Gi", pods=str(slots), labels={ZONE: zone}, taints=taints
        )
        node_objs[f"n{i}"] = node
        h.add_node(node)
    for j, (cpu, mem, tolerant, zone, anti, prio) in enumerate(pods):
        tolerations = [{"key": "dedicated", "operator": "Exists"}] if tolerant else None
        affinity = None
        if anti:
            term = {
                "labelSelector": {"matchLabels": {"app": "anti"}},
                "topologyKey": "kubernetes.io/hostname",
            }
            affinity = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
        h.add_pod(make_pod(
            f"p{j}", cpu=f"{cpu}m" if cpu else None, memory=f"{mem}Gi" if mem else None,
            tolerations=tolerations, node_selector={ZONE: zone} if zone else None, affinity=affinity,
            labels={"app": "anti" if anti else "plain"}, priority=prio,
        ))  # fmt: skip
    for _ in range(3):  # a few rounds, so preempted and retried pods settle
        await h.schedule_pending()
        h.clock.step(11)
        h.scheduler.queue.flush_backoff_completed()
    await h.schedule_pending()

    placed: dict[str, list[PodInfo]] = {}
    for pod in h.listers["pods"].list():
        node = pod["spec"].get("nodeName")
        if node:
            placed.setdefault(node, []).append(PodInfo(pod))
    for node_name, infos in placed.items():
        node = node_objs[node_name]
        total = Resource()
        for info in infos:
            total.add(info.requests)
            if node["spec"].get("taints"):
                assert info.tolerations, f"{info.key} on tainted {node_name}"
            selector = info.pod["spec"].get("nodeSelector") or {}
            assert all(node["metadata"]["labels"].get(k) == v for k, v in selector.items())
        alloc = Resource.from_list(node["status"]["allocatable"])
        assert total.milli_cpu <= alloc.milli_cpu and total.memory <= alloc.memory
        assert len(infos) <= alloc.allowed_pods
        assert sum(1 for i in infos if i.labels.get("app") == "anti" and i.has_required_anti_affinity) <= 1
    assert h.scheduler.cache.assumed_count() == 0
