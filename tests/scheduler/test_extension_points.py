"""Out-of-tree plugins at Filter and Permit: errors are contained, Wait holds the binding."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from scheduler import plugins
from scheduler.framework.cycle_state import CycleState
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Code, Status

from .fakes import Harness, make_node, make_pod


class Broken:
    name = "Broken"

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        raise RuntimeError("boom")


class Gate:
    name = "Gate"

    def permit(self, state: CycleState, pod: PodInfo, node_name: str) -> tuple[Status | None, float]:
        return Status(Code.WAIT), 30.0


@pytest.fixture
def extra_plugins() -> Iterator[None]:
    plugins.REGISTRY["Broken"] = lambda args, handle: Broken()
    plugins.REGISTRY["Gate"] = lambda args, handle: Gate()
    yield
    del plugins.REGISTRY["Broken"], plugins.REGISTRY["Gate"]


def config(**profile: Any) -> dict:
    return {"profiles": [{"schedulerName": "default-scheduler"}, {"schedulerName": "custom", **profile}]}


async def test_a_plugin_exception_fails_the_pod_not_the_scheduler(extra_plugins: None) -> None:
    h = Harness(config=config(plugins={"filter": {"enabled": [{"name": "Broken"}]}}))
    h.add_node(make_node("n"))
    h.add_pod(make_pod("victim", scheduler_name="custom"))
    h.add_pod(make_pod("fine"))
    await h.schedule_pending()
    assert h.node_of("default/fine") == "n" and h.node_of("default/victim") == ""
    record = h.scheduler.decisions.get("default/victim")
    assert record is not None and record.result == "Error" and "boom" in record.message
    assert h.scheduler.queue.pending()["backoff"] == 1  # an error retries after backoff
    _, condition, _ = next(u for u in h.api.status_updates if u[0] == "default/victim")
    assert condition is not None and condition["reason"] == "SchedulerError"


async def test_permit_wait_holds_the_binding_until_allowed(extra_plugins: None) -> None:
    h = Harness(config=config(plugins={"permit": {"enabled": [{"name": "Gate"}]}}))
    h.add_node(make_node("n", cpu="1"))
    h.add_pod(make_pod("gang-0", cpu="600m", scheduler_name="custom"))
    h.add_pod(make_pod("other", cpu="600m"))
    s = h.scheduler
    await s.schedule_one()  # gang-0 is assumed and waits at Permit
    await asyncio.sleep(0)
    assert h.node_of("default/gang-0") == "" and s.cache.is_assumed(
        h.listers["pods"].get_by_key("default/gang-0")["metadata"]["uid"]
    )
    await s.schedule_one()  # the waiting pod already holds the room
    assert h.node_of("default/other") == ""
    fwk = s.profiles["custom"]
    waiting = next(iter(fwk.waiting_pods))
    waiting.allow("Gate")
    await s.drain()
    assert h.node_of("default/gang-0") == "n"


async def test_permit_rejection_releases_the_assumed_pod(extra_plugins: None) -> None:
    h = Harness(config=config(plugins={"permit": {"enabled": [{"name": "Gate"}]}}))
    h.add_node(make_node("n"))
    h.add_pod(make_pod("gang-0", scheduler_name="custom"))
    s = h.scheduler
    await s.schedule_one()
    await asyncio.sleep(0)
    next(iter(s.profiles["custom"].waiting_pods)).reject("Gate", "the gang is incomplete")
    await s.drain()
    assert h.node_of("default/gang-0") == "" and s.cache.assumed_count() == 0
    record = s.decisions.get("default/gang-0")
    assert record is not None and record.result == "Unschedulable"
    assert record.message == "0/1 nodes are available: 1 the gang is incomplete."


async def test_permit_timeout_rejects(extra_plugins: None) -> None:
    h = Harness(config=config(plugins={"permit": {"enabled": [{"name": "Gate"}]}}))
    h.add_node(make_node("n"))
    h.add_pod(make_pod("gang-0", scheduler_name="custom"))
    s = h.scheduler
    await s.schedule_one()
    h.clock.step(31)
    await s.drain()
    record = s.decisions.get("default/gang-0")
    assert record is not None and record.message == (
        "0/1 nodes are available: 1 rejected due to timeout after waiting 30s at plugin Gate."
    )
