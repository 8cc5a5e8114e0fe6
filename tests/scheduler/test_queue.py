"""The scheduling queue with a fake clock: order, backoff, requeue on events, flushes."""

from __future__ import annotations

import asyncio

import pytest

from kube.client.clock import FakeClock
from scheduler.framework.events import (
    ASSIGNED_POD_DELETE,
    NODE,
    NODE_ADD,
    ActionType,
    ClusterEvent,
    QueueingHint,
)
from scheduler.framework.podinfo import PodInfo
from scheduler.internal.queue import SchedulingQueue
from scheduler.plugins.prioritysort import PrioritySort

from .fakes import make_pod


def new_queue(clock: FakeClock, **kw: object) -> SchedulingQueue:
    return SchedulingQueue(less=PrioritySort().less, clock=clock, **kw)  # type: ignore[arg-type]


async def pop_key(q: SchedulingQueue) -> str:
    qpi = await asyncio.wait_for(q.pop(), 1)
    assert qpi is not None
    return qpi.key


async def test_active_queue_orders_by_priority_then_arrival() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    for name, prio in (("low", 1), ("high", 100), ("mid", 10), ("mid2", 10)):
        q.add(PodInfo(make_pod(name, priority=prio)))
        clock.step(1)
    assert [await pop_key(q) for _ in range(4)] == [
        "default/high",
        "default/mid",
        "default/mid2",
        "default/low",
    ]


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (9, 10)])
async def test_backoff_doubles_from_one_second_to_ten(attempts: int, seconds: float) -> None:
    q = new_queue(FakeClock())
    q.add(PodInfo(make_pod("p")))
    qpi = await q.pop()
    assert qpi is not None
    qpi.attempts = attempts
    assert q.backoff_duration(qpi) == seconds


async def test_failed_pod_waits_out_its_backoff() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    q.add(PodInfo(make_pod("p")))
    qpi = await q.pop()
    assert qpi is not None
    q.add_unschedulable_if_not_present(qpi, cycle=q.scheduling_cycle)  # an error: no plugin rejected it
    assert q.pending()["backoff"] == 1
    clock.step(0.9)
    assert q.flush_backoff_completed() == 0
    clock.step(0.2)
    assert q.flush_backoff_completed() == 1
    assert q.pending() == {"active": 1, "backoff": 0, "unschedulable": 0, "gated": 0}


async def test_unschedulable_pod_moves_only_for_events_its_plugins_registered() -> None:
    clock = FakeClock()
    registrations = {"default-scheduler": [
        (ClusterEvent(NODE, ActionType.ADD | ActionType.UPDATE_NODE_ALLOCATABLE), "NodeResourcesFit", None),
        (ClusterEvent("AssignedPod", ActionType.DELETE), "NodeResourcesFit", None),
        (ClusterEvent(NODE, ActionType.UPDATE_NODE_TAINT), "TaintToleration", None),
    ]}  # fmt: skip
    q = new_queue(clock, registrations=registrations)
    q.add(PodInfo(make_pod("p")))
    qpi = await q.pop()
    assert qpi is not None
    cycle = q.scheduling_cycle
    qpi.unschedulable_plugins = {"TaintToleration"}
    q.add_unschedulable_if_not_present(qpi, cycle=cycle)
    assert q.pending()["unschedulable"] == 1
    assert q.move_all_to_active_or_backoff(ASSIGNED_POD_DELETE) == 0  # Fit's event: not ours
    assert q.move_all_to_active_or_backoff(ClusterEvent(NODE, ActionType.UPDATE_NODE_TAINT)) == 1
    # Still inside its 1 s backoff: it waits in backoffQ, then becomes active.
    assert q.pending()["backoff"] == 1
    clock.step(1.1)
    q.flush_backoff_completed()
    assert q.pending()["active"] == 1


async def test_queueing_hint_can_skip() -> None:
    clock = FakeClock()
    seen = []

    def hint(pod: PodInfo, old: object, new: object) -> QueueingHint:
        seen.append(new)
        return QueueingHint.QUEUE if new == "big-node" else QueueingHint.SKIP

    q = new_queue(clock, registrations={"default-scheduler": [(NODE_ADD, "NodeResourcesFit", hint)]})
    q.add(PodInfo(make_pod("p")))
    qpi = await q.pop()
    assert qpi is not None
    qpi.unschedulable_plugins = {"NodeResourcesFit"}
    q.add_unschedulable_if_not_present(qpi, cycle=q.scheduling_cycle)
    clock.step(20)
    assert q.move_all_to_active_or_backoff(NODE_ADD, None, "small-node") == 0
    assert q.move_all_to_active_or_backoff(NODE_ADD, None, "big-node") == 1
    assert seen == ["small-node", "big-node"] and q.pending()["active"] == 1


async def test_event_during_the_cycle_sends_the_pod_to_backoff_not_the_pool() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    q.add(PodInfo(make_pod("p")))
    qpi = await q.pop()
    assert qpi is not None
    cycle = q.scheduling_cycle
    q.move_all_to_active_or_backoff(NODE_ADD)  # arrives while p is in flight
    qpi.unschedulable_plugins = {"NodeResourcesFit"}
    q.add_unschedulable_if_not_present(qpi, cycle=cycle)
    assert q.pending()["backoff"] == 1 and q.pending()["unschedulable"] == 0


async def test_unschedulable_pods_are_flushed_after_five_minutes() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    q.add(PodInfo(make_pod("p")))
    qpi = await q.pop()
    assert qpi is not None
    qpi.unschedulable_plugins = {"X"}
    q.add_unschedulable_if_not_present(qpi, cycle=q.scheduling_cycle)
    clock.step(299)
    assert q.flush_unschedulable_leftover() == 0
    clock.step(2)
    assert q.flush_unschedulable_leftover() == 1
    assert q.pending()["active"] == 1


async def test_run_loop_flushes_backoff_on_its_own() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    q.add(PodInfo(make_pod("p")))
    qpi = await q.pop()
    assert qpi is not None
    q.add_unschedulable_if_not_present(qpi, cycle=q.scheduling_cycle)
    runner = asyncio.ensure_future(q.run())
    await asyncio.sleep(0)
    for _ in range(3):
        clock.step(1.0)
        await asyncio.sleep(0)
    assert q.pending()["active"] == 1
    q.close()
    clock.step(1.0)  # the loop notices the close at its next tick
    await asyncio.wait_for(runner, 1)


async def test_updates_and_deletes() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    old = PodInfo(make_pod("p", priority=1))
    q.add(old)
    q.add(PodInfo(make_pod("other", priority=5)))
    # Raising p's priority re-sorts it ahead.
    q.update(old, PodInfo(make_pod("p", priority=10, uid=old.uid)))
    assert await pop_key(q) == "default/p"
    q.delete(PodInfo(make_pod("other")))
    assert q.pending()["active"] == 0


async def test_unschedulable_pod_requeued_when_its_spec_changes_but_not_for_status() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    pod = make_pod("p")
    q.add(PodInfo(pod))
    qpi = await q.pop()
    assert qpi is not None
    qpi.unschedulable_plugins = {"NodeAffinity"}
    q.add_unschedulable_if_not_present(qpi, cycle=q.scheduling_cycle)
    status_only = {**pod, "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled"}]}}
    q.update(PodInfo(pod), PodInfo(status_only))
    decision = {
        **pod,
        "metadata": {**pod["metadata"], "annotations": {"scheduler.kubesim.io/decision": "{}"}},
    }
    q.update(PodInfo(pod), PodInfo(decision))
    assert q.pending()["unschedulable"] == 1
    relabelled = {**pod, "metadata": {**pod["metadata"], "labels": {"x": "y"}}}
    q.update(PodInfo(pod), PodInfo(relabelled))
    assert q.pending()["unschedulable"] == 0


async def test_gated_pods_wait_until_their_gates_are_removed() -> None:
    def gate(pod: PodInfo) -> str | None:
        return "gated" if (pod.pod["spec"].get("schedulingGates")) else None

    q = new_queue(FakeClock(), pre_enqueue=gate)
    gated = make_pod("g")
    gated["spec"]["schedulingGates"] = [{"name": "example.com/wait"}]
    q.add(PodInfo(gated))
    assert q.pending()["gated"] == 1 and q.pending()["active"] == 0
    open_pod = {**gated, "spec": {**gated["spec"], "schedulingGates": []}}
    q.update(PodInfo(gated), PodInfo(open_pod))
    assert q.pending()["active"] == 1 and q.pending()["gated"] == 0
