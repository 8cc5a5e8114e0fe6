from __future__ import annotations

import orjson

from scheduler.explain import DECISION_ANNOTATION

from .fakes import Harness, make_node, make_pod


async def test_pods_spread_over_nodes_and_carry_their_decision() -> None:
    h = Harness()
    for i in range(3):
        h.add_node(make_node(f"node-{i}", cpu="2", memory="4Gi"))
    for i in range(6):
        h.add_pod(make_pod(f"web-{i}", cpu="500m", memory="512Mi"))
    assert await h.schedule_pending() == 6
    placed = [h.node_of(f"default/web-{i}") for i in range(6)]
    assert all(placed)
    # LeastAllocated + BalancedAllocation spread equal pods evenly.
    assert sorted(placed.count(f"node-{i}") for i in range(3)) == [2, 2, 2]
    summary = orjson.loads(h.api.binding_annotations["default/web-0"][DECISION_ANNOTATION])
    assert summary["result"] == "Scheduled"
    assert summary["node"] == placed[0]
    assert summary["nodes"] == {"all": 3, "evaluated": 3, "feasible": 3}
    assert set(summary["score"]["plugins"]) >= {"NodeResourcesFit", "NodeResourcesBalancedAllocation"}
