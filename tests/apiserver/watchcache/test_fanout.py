"""Fan-out: indexes route events only to watchers that can care; slow watchers are
closed without holding up the others; bookmarks."""

from __future__ import annotations

import asyncio

from apiserver.storage.interface import Storage
from apiserver.watchcache import CacheEvent, Cacher


def rv(obj: dict) -> int:
    return int(obj["metadata"]["resourceVersion"])


async def test_node_index_keeps_other_nodes_events_away(storage: Storage, cacher: Cacher, kit) -> None:
    node_a = cacher.watch(revision=0, field_selector=kit.fields("spec.nodeName=node-a"))
    node_b = cacher.watch(revision=0, field_selector=kit.fields("spec.nodeName=node-b"))
    everything = cacher.watch(revision=0)
    before = cacher.stats.considered

    last = {}
    for i in range(10):
        last = await storage.create(kit.key(f"p{i}"), kit.pod(f"p{i}", node="node-b"))
    await cacher.wait_until_fresh(rv(last))

    assert len(await kit.take(node_b, 10)) == 10
    assert len(await kit.take(everything, 10)) == 10
    assert node_a.pending == 0
    # 10 events × (node-b's watcher + the unindexed one): node-a's watcher was never
    # even looked at. Without the index this would be 30.
    assert cacher.stats.considered - before == 20
    for w in (node_a, node_b, everything):
        w.close()


async def test_moving_between_nodes_reaches_both_kubelets(storage: Storage, cacher: Cacher, kit) -> None:
    node_a = cacher.watch(revision=0, field_selector=kit.fields("spec.nodeName=node-a"))
    node_b = cacher.watch(revision=0, field_selector=kit.fields("spec.nodeName=node-b"))
    key = kit.key("p")
    await storage.create(key, kit.pod("p", node="node-a"))
    await kit.relabel(storage, key, node="node-b")
    assert [e.type for e in await kit.take(node_a, 2)] == ["ADDED", "DELETED"]
    assert [e.type for e in await kit.take(node_b, 1)] == ["ADDED"]
    node_a.close()
    node_b.close()


async def test_node_watcher_with_namespace_still_checks_namespace(storage: Storage, cacher: Cacher, kit) -> None:
    watcher = cacher.watch(revision=0, namespace="ns1", field_selector=kit.fields("spec.nodeName=n"))
    await storage.create(kit.key("x", "ns2"), kit.pod("x", namespace="ns2", node="n"))
    ok = await storage.create(kit.key("y", "ns1"), kit.pod("y", namespace="ns1", node="n"))
    (event,) = await kit.take(watcher, 1)
    assert event.revision == rv(ok)
    watcher.close()


async def test_namespace_index(storage: Storage, cacher: Cacher, kit) -> None:
    ns1 = cacher.watch(revision=0, namespace="ns1")
    ns2 = cacher.watch(revision=0, namespace="ns2")
    before = cacher.stats.considered
    last = {}
    for i in range(5):
        last = await storage.create(kit.key(f"p{i}", "ns2"), kit.pod(f"p{i}", namespace="ns2"))
    await cacher.wait_until_fresh(rv(last))
    assert len(await kit.take(ns2, 5)) == 5
    assert ns1.pending == 0
    assert cacher.stats.considered - before == 5
    ns1.close()
    ns2.close()


async def test_slow_watcher_is_closed_while_others_keep_receiving(storage: Storage, kit) -> None:
    cacher = kit.cacher(storage, watcher_buffer=2, slow_watcher_budget=0.01)
    await cacher.start()
    try:
        slow = cacher.watch(revision=0)  # never read while events flow
        fast = cacher.watch(revision=0)
        received: list[CacheEvent] = []

        async def read_fast() -> None:
            async for event in fast:
                received.append(event)
                if len(received) == 10:
                    return

        reader = asyncio.create_task(read_fast())
        for i in range(10):
            await storage.create(kit.key(f"p{i}"), kit.pod(f"p{i}"))
        await asyncio.wait_for(reader, 5)

        assert [e.object["metadata"]["name"] for e in received] == [f"p{i}" for i in range(10)]
        assert slow.done and slow.reason is not None and "too slow" in slow.reason
        assert cacher.stats.closed_slow == 1
        # The closed watcher still hands over what it had buffered, then ends; its
        # client resumes (or relists) from the last revision it saw.
        leftover = await kit.drain(slow)
        assert [e.object["metadata"]["name"] for e in leftover] == ["p0", "p1"]
        assert cacher.watcher_count == 1
        fast.close()
    finally:
        await cacher.stop()


async def test_bookmarks_only_for_watchers_that_allow_them(storage: Storage, cacher: Cacher, kit) -> None:
    wants = cacher.watch(revision=0, allow_bookmarks=True)
    plain = cacher.watch(revision=0)
    obj = await storage.create(kit.key("p"), kit.pod("p"))
    await cacher.wait_until_fresh(rv(obj))
    cacher.send_bookmarks()
    added, mark = await kit.take(wants, 2)
    assert added.type == "ADDED"
    assert mark.type == "BOOKMARK"
    assert mark.revision == rv(obj)
    assert mark.object == {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": str(rv(obj))}}
    assert [e.type for e in await kit.take(plain, 1)] == ["ADDED"]
    assert plain.pending == 0
    wants.close()
    plain.close()


async def test_bookmarks_arrive_on_their_interval(storage: Storage, kit) -> None:
    cacher = kit.cacher(storage, bookmark_interval=0.01, kind="Pod", api_version="v1")
    await cacher.start()
    try:
        watcher = cacher.watch(revision=0, allow_bookmarks=True)
        (mark,) = await kit.take(watcher, 1)
        assert mark.type == "BOOKMARK"
        assert mark.object["metadata"]["resourceVersion"] == str(cacher.revision)
        watcher.close()
    finally:
        await cacher.stop()


async def test_no_bookmark_below_a_future_start(storage: Storage, cacher: Cacher, kit) -> None:
    watcher = cacher.watch(revision=cacher.revision + 100, allow_bookmarks=True)
    cacher.send_bookmarks()
    assert watcher.pending == 0
    watcher.close()
