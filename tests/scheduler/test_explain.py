"""Decision records, their store, and the ≤ 4 KiB pod annotation — at 5,000 nodes."""

from __future__ import annotations

import orjson

from scheduler.explain import MAX_SUMMARY_BYTES, DecisionRecord, DecisionStore, summarize
from scheduler.framework.diagnosis import NodeToStatus
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.services import PluginScores
from scheduler.framework.status import Status

from .fakes import Harness, make_node, make_pod


def test_summary_of_a_failure_on_5000_nodes_with_5000_distinct_reasons_fits() -> None:
    record = DecisionRecord(
        pod="ns/p", uid="u", profile="default-scheduler", attempt=1, result="Unschedulable"
    )
    record.num_all_nodes = 5000
    statuses = NodeToStatus()
    for i in range(5000):
        key = f"dedicated-{i:05d}-" + "x" * 200
        statuses.set(
            f"node-{i:05d}",
            Status.unresolvable(f"node(s) had untolerated taint {{{key}: value}}", plugin="TaintToleration"),
        )
    record.rejections = statuses
    record.message = "0/5000 nodes are available: " + ", ".join(f"1 reason {i}" for i in range(5000))
    text = summarize(record)
    assert len(text.encode()) <= MAX_SUMMARY_BYTES
    summary = orjson.loads(text)
    assert summary["nodes"] == {"all": 5000, "evaluated": 5000, "feasible": 0}
    assert sum(summary["rejected"].values()) == 5000


async def test_summary_of_a_success_on_5000_nodes_fits_and_names_the_runners_up() -> None:
    h = Harness()
    for i in range(5000):
        h.add_node(make_node(f"node-with-a-rather-long-name-{i:05d}", cpu="8"))
    h.add_pod(make_pod("web", cpu="1"))
    await h.schedule_pending()
    text = h.api.binding_annotations["default/web"]["scheduler.kubesim.io/decision"]
    assert len(text.encode()) <= MAX_SUMMARY_BYTES
    summary = orjson.loads(text)
    assert summary["nodes"] == {"all": 5000, "evaluated": 500, "feasible": 500}
    assert len(summary["runnersUp"]) == 3
    assert summary["score"]["total"] >= max(r["total"] for r in summary["runnersUp"])
    assert summary["score"]["total"] == sum(summary["score"]["plugins"].values())
    assert summary["details"] == "/debug/decisions/default/web"


def test_full_record_tables() -> None:
    record = DecisionRecord(
        pod="ns/p", uid="u", profile="default-scheduler", attempt=1, result="Scheduled", node="b"
    )
    record.num_all_nodes, record.feasible_nodes = 3, 2
    record.rejections = NodeToStatus()
    record.rejections.set("c", Status.unschedulable("Insufficient cpu", plugin="NodeResourcesFit"))
    record.scored = [NodeInfo(make_node("a")), NodeInfo(make_node("b"))]
    record.plugin_scores = [
        PluginScores("TaintToleration", 3, [1, 0], [0, 100]),
        PluginScores("NodeResourcesFit", 1, [40, 30], [40, 30]),
    ]
    record.totals = [40, 330]
    full = record.to_dict()
    assert full["filtered"] == {
        "c": {"plugin": "NodeResourcesFit", "code": "Unschedulable", "reasons": ["Insufficient cpu"]}
    }
    assert full["scored"][0] == {
        "node": "b", "total": 330,
        "plugins": {"TaintToleration": {"raw": 0, "normalized": 100, "weighted": 300},
                    "NodeResourcesFit": {"raw": 30, "normalized": 30, "weighted": 30}},
    }  # fmt: skip
    assert full["nodes"] == {"all": 3, "evaluated": 3, "feasible": 2}


def test_store_is_bounded_by_count_and_entries() -> None:
    store = DecisionStore(max_decisions=3, max_entries=10_000)
    for i in range(5):
        store.add(DecisionRecord(pod=f"ns/p{i}", uid=str(i), profile="x", attempt=1))
    assert [r.pod for r in store.recent()] == ["ns/p4", "ns/p3", "ns/p2"]
    assert store.get("ns/p0") is None and store.get("ns/p4") is not None
    big = DecisionRecord(pod="ns/big", uid="b", profile="x", attempt=1)
    big.rejections = NodeToStatus()
    for i in range(20_000):
        big.rejections.set(f"n{i}", Status.unschedulable("x"))
    store.add(big)
    assert len(store) == 0  # a record larger than the budget does not stay
