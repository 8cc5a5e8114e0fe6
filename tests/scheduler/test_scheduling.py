"""Whole scheduling cycles in-process: failures, events, preemption, binding errors."""

from __future__ import annotations

import orjson

from scheduler.explain import DECISION_ANNOTATION

from .fakes import Harness, make_node, make_pod


def events(h: Harness, reason: str) -> list[str]:
    return [item[3] for item in h.recorder._buffer if item[2] == reason]


async def test_failed_scheduling_message_condition_and_annotation() -> None:
    h = Harness()
    for i in range(3):
        h.add_node(make_node(f"small-{i}", cpu="1"))
    for i in range(2):
        h.add_node(
            make_node(
                f"tainted-{i}", cpu="8", taints=[{"key": "key", "value": "value", "effect": "NoSchedule"}]
            )
        )
    h.add_pod(make_pod("web-1", cpu="2"))
    await h.schedule_pending()
    message = (
        "0/5 nodes are available: 2 node(s) had untolerated taint {key: value}, 3 Insufficient cpu. "
        "preemption: 0/5 nodes are available: 2 Preemption is not helpful for scheduling, "
        "3 No preemption victims found for incoming pod."
    )
    assert events(h, "FailedScheduling") == [message]
    key, condition, nominated = h.api.status_updates[0]
    assert key == "default/web-1" and nominated == ""
    assert condition == {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": message,
    }
    summary = orjson.loads(h.api.annotations["default/web-1"][DECISION_ANNOTATION])
    assert summary["result"] == "Unschedulable"
    assert summary["rejected"] == {
        "NodeResourcesFit: Insufficient cpu": 3,
        "TaintToleration: node(s) had untolerated taint {key: value}": 2,
    }
    assert summary["nodes"] == {"all": 5, "evaluated": 5, "feasible": 0}
    # It waits in the unschedulable pool, and a new big node brings it back.
    assert h.scheduler.queue.pending()["unschedulable"] == 1
    h.add_node(make_node("big", cpu="4"))
    h.clock.step(2)
    h.scheduler.queue.flush_backoff_completed()
    await h.schedule_pending()
    assert h.node_of("default/web-1") == "big"
    assert events(h, "Scheduled") == ["Successfully assigned default/web-1 to big"]


async def test_preemption_when_not_eligible() -> None:
    h = Harness()
    h.add_node(make_node("n", cpu="1"))
    h.add_pod(make_pod("low", cpu="1", priority=0, node="n"))
    pod = make_pod("never", cpu="1", priority=100)
    pod["spec"]["preemptionPolicy"] = "Never"
    h.add_pod(pod)
    await h.schedule_pending()
    assert events(h, "FailedScheduling") == [
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
    ]
    assert h.api.deleted == []


async def test_preemption_evicts_lowest_priority_and_nominates() -> None:
    h = Harness()
    h.add_node(make_node("n1", cpu="2"))
    h.add_node(make_node("n2", cpu="2"))
    h.add_pod(make_pod("a", cpu="1", priority=10, node="n1", start_time="2024-01-01T00:00:00Z"))
    h.add_pod(make_pod("b", cpu="1", priority=10, node="n1", start_time="2024-01-01T00:00:00Z"))
    h.add_pod(make_pod("c", cpu="1", priority=1, node="n2", start_time="2024-01-01T00:00:00Z"))
    h.add_pod(make_pod("d", cpu="1", priority=50, node="n2", start_time="2024-01-01T00:00:00Z"))
    h.add_pod(make_pod("vip", cpu="1", priority=100))
    await h.schedule_pending()
    # n2's victim (priority 1) beats n1's (priority 10): lowest highest-victim priority.
    assert h.api.deleted == ["default/c"]
    key, condition, nominated = h.api.status_updates[0]
    assert (key, nominated) == ("default/vip", "n2")
    # Preemption succeeded, so only the filter reasons are reported (as in Kubernetes).
    assert condition is not None and condition["message"] == "0/2 nodes are available: 2 Insufficient cpu."
    record = h.scheduler.decisions.get("default/vip")
    assert record is not None and record.nominated_node == "n2" and record.victims == ["default/c"]
    assert events(h, "Preempted") == [
        f"Preempted by pod {h.listers['pods'].get_by_key('default/vip')['metadata']['uid']} on node n2"
    ]
    # The victim is gone (FakeApi deleted it): the next attempt binds to the nominated node.
    h.clock.step(2)
    h.scheduler.queue.flush_backoff_completed()
    await h.schedule_pending()
    assert h.node_of("default/vip") == "n2"


async def test_preemption_respects_pod_disruption_budgets() -> None:
    pdb = {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "protect", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "db"}}},
        "status": {"disruptionsAllowed": 0},
    }  # fmt: skip
    h = Harness()
    h.listers["poddisruptionbudgets"].add(pdb)
    h.add_node(make_node("n1", cpu="1"))
    h.add_node(make_node("n2", cpu="1"))
    h.add_pod(make_pod("db", cpu="1", priority=1, labels={"app": "db"}, node="n1"))
    h.add_pod(make_pod("batch", cpu="1", priority=5, labels={"app": "batch"}, node="n2"))
    h.add_pod(make_pod("vip", cpu="1", priority=100))
    await h.schedule_pending()
    # The PDB-protected pod has the lower priority, but violating a budget weighs more.
    assert h.api.deleted == ["default/batch"]


async def test_nominated_space_is_not_given_to_a_lower_priority_pod() -> None:
    h = Harness()
    h.add_node(make_node("n", cpu="2"))
    h.add_pod(make_pod("low", cpu="2", priority=1, node="n"))
    h.add_pod(make_pod("vip", cpu="2", priority=100))
    await h.schedule_pending()
    assert h.api.deleted == ["default/low"]
    # A lower-priority pod arriving now must not take the room preemption freed.
    h.add_pod(make_pod("sneaky", cpu="1", priority=0))
    await h.schedule_pending()
    assert h.node_of("default/sneaky") == ""
    h.clock.step(2)
    h.scheduler.queue.flush_backoff_completed()
    await h.schedule_pending()
    assert h.node_of("default/vip") == "n"


async def test_bind_failure_forgets_the_pod_and_retries() -> None:
    h = Harness()
    h.add_node(make_node("n", cpu="1"))
    h.api.fail_binds = 1
    h.add_pod(make_pod("p", cpu="1"))
    await h.schedule_pending()
    assert h.node_of("default/p") == "" and h.scheduler.cache.assumed_count() == 0
    assert h.scheduler.queue.pending()["backoff"] == 1  # an error: backoff, not the pool
    h.clock.step(2)
    h.scheduler.queue.flush_backoff_completed()
    await h.schedule_pending()
    assert h.node_of("default/p") == "n"


async def test_pods_for_other_schedulers_are_left_alone() -> None:
    h = Harness()
    h.add_node(make_node("n"))
    h.add_pod(make_pod("mine"))
    h.add_pod(make_pod("theirs", scheduler_name="other-scheduler"))
    await h.schedule_pending()
    assert h.node_of("default/mine") == "n" and h.node_of("default/theirs") == ""
    assert h.scheduler.queue.pending()["active"] == 0


async def test_priority_from_priority_class_when_admission_did_not_set_it() -> None:
    h = Harness()
    h.listers["priorityclasses"].add({"metadata": {"name": "high"}, "value": 1000})
    h.add_node(make_node("n", cpu="1"))
    low = make_pod("low", cpu="1")
    high = make_pod("high", cpu="1")
    high["spec"]["priorityClassName"] = "high"
    h.add_pod(low)
    h.add_pod(high)
    await h.schedule_pending()
    assert h.node_of("default/high") == "n" and h.node_of("default/low") == ""
