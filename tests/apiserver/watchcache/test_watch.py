"""Watch semantics: initial listing, resume from a revision, Expired, selector transitions."""

from __future__ import annotations

import pytest

from apiserver.storage.interface import Storage
from apiserver.watchcache import Cacher
from kube.errors import Expired


def rv(obj: dict) -> int:
    return int(obj["metadata"]["resourceVersion"])


async def test_initial_added_then_live(storage: Storage, kit) -> None:
    for name in ("c", "a", "b"):
        await storage.create(kit.key(name), kit.pod(name))
    cacher = kit.cacher(storage)
    await cacher.start()
    try:
        async with cacher.watch(revision=0) as watcher:
            initial = await kit.take(watcher, 3)
            assert [e.type for e in initial] == ["ADDED"] * 3
            assert [e.object["metadata"]["name"] for e in initial] == ["a", "b", "c"]
            assert all(e.revision == rv(e.object) for e in initial)

            created = await storage.create(kit.key("d"), kit.pod("d"))
            updated = await kit.relabel(storage, kit.key("d"), labels={"x": "y"})
            deleted = await storage.delete(kit.key("d"))
            live = await kit.take(watcher, 3)
            assert [(e.type, e.revision) for e in live] == [
                ("ADDED", rv(created)),
                ("MODIFIED", rv(updated)),
                ("DELETED", rv(deleted)),
            ]
            assert live[1].object["metadata"]["labels"] == {"x": "y"}
            assert live[2].object["metadata"]["resourceVersion"] == str(rv(deleted))
    finally:
        await cacher.stop()


async def test_resume_from_revision_delivers_each_later_change_once_in_order(
    storage: Storage, cacher: Cacher, kit
) -> None:
    revisions = []
    for i in range(8):
        obj = await storage.create(kit.key(f"p{i}"), kit.pod(f"p{i}"))
        revisions.append(rv(obj))
    await cacher.wait_until_fresh(revisions[-1])

    watcher = cacher.watch(revision=revisions[2])
    replayed = await kit.take(watcher, 5)
    assert [e.revision for e in replayed] == revisions[3:]
    assert [e.type for e in replayed] == ["ADDED"] * 5

    live = await storage.create(kit.key("late"), kit.pod("late"))
    (event,) = await kit.take(watcher, 1)
    assert event.revision == rv(live)
    await cacher.wait_until_fresh(rv(live))
    assert watcher.pending == 0
    watcher.close()


async def test_resume_from_current_revision_gets_only_live_changes(storage: Storage, cacher: Cacher, kit) -> None:
    await storage.create(kit.key("old"), kit.pod("old"))
    obj = await storage.create(kit.key("old2"), kit.pod("old2"))
    await cacher.wait_until_fresh(rv(obj))
    watcher = cacher.watch(revision=cacher.revision)
    new = await storage.create(kit.key("new"), kit.pod("new"))
    (event,) = await kit.take(watcher, 1)
    assert (event.type, event.object["metadata"]["name"], event.revision) == ("ADDED", "new", rv(new))
    watcher.close()


async def test_future_revision_skips_changes_up_to_it(storage: Storage, cacher: Cacher, kit) -> None:
    first = await storage.create(kit.key("a"), kit.pod("a"))
    await cacher.wait_until_fresh(rv(first))
    watcher = cacher.watch(revision=rv(first) + 1)  # as if listed from storage at a newer revision
    await storage.create(kit.key("b"), kit.pod("b"))  # revision rv+1: already in that list
    third = await storage.create(kit.key("c"), kit.pod("c"))
    (event,) = await kit.take(watcher, 1)
    assert event.revision == rv(third)
    watcher.close()


async def test_revision_older_than_history_is_expired(storage: Storage, kit) -> None:
    cacher = kit.cacher(storage, history_max_events=3)
    await cacher.start()
    try:
        start = cacher.revision
        revisions = [rv(await storage.create(kit.key(f"p{i}"), kit.pod(f"p{i}"))) for i in range(6)]
        await cacher.wait_until_fresh(revisions[-1])
        with pytest.raises(Expired) as caught:
            cacher.watch(revision=start)
        assert caught.value.code == 410
        assert caught.value.message == f"too old resource version: {start} ({revisions[2]})"
        # The oldest revision still resumable: exactly the three changes held.
        watcher = cacher.watch(revision=revisions[2])
        assert [e.revision for e in await kit.take(watcher, 3)] == revisions[3:]
        watcher.close()
    finally:
        await cacher.stop()


async def test_revision_from_before_the_cache_started_is_expired(storage: Storage, kit) -> None:
    before = rv(await storage.create(kit.key("a"), kit.pod("a")))
    await storage.create(kit.key("b"), kit.pod("b"))
    cacher = kit.cacher(storage)
    await cacher.start()
    try:
        with pytest.raises(Expired):
            cacher.watch(revision=before)
        cacher.watch(revision=cacher.revision).close()  # the list revision itself is fine
    finally:
        await cacher.stop()


async def test_label_selector_transitions_become_added_and_deleted(storage: Storage, cacher: Cacher, kit) -> None:
    watcher = cacher.watch(revision=0, label_selector=kit.labels("app=web"))
    key = kit.key("p")
    await storage.create(key, kit.pod("p", labels={"app": "db"}))  # not matching: nothing
    became = await kit.relabel(storage, key, labels={"app": "web"})
    still = await kit.relabel(storage, key, labels={"app": "web", "tier": "1"})
    left = await kit.relabel(storage, key, labels={"app": "db"})
    await storage.delete(key)  # no longer matching: nothing
    events = await kit.take(watcher, 3)
    assert [(e.type, e.revision) for e in events] == [
        ("ADDED", rv(became)),
        ("MODIFIED", rv(still)),
        ("DELETED", rv(left)),
    ]
    # As the Kubernetes cache watcher: the DELETED carries the content the watcher last
    # saw, versioned at the change that removed it from its view.
    assert events[2].object["metadata"]["labels"] == {"app": "web", "tier": "1"}
    assert events[2].object["metadata"]["resourceVersion"] == str(rv(left))
    assert still["metadata"]["resourceVersion"] != str(rv(left))
    await cacher.wait_until_fresh(cacher.revision)
    assert watcher.pending == 0
    watcher.close()


async def test_binding_a_pod_is_added_for_its_kubelet(storage: Storage, cacher: Cacher, kit) -> None:
    kubelet = cacher.watch(revision=0, field_selector=kit.fields("spec.nodeName=node-a"))
    key = kit.key("p")
    await storage.create(key, kit.pod("p"))
    bound = await kit.relabel(storage, key, node="node-a")
    moved = await kit.relabel(storage, key, node="node-b")
    events = await kit.take(kubelet, 2)
    assert [(e.type, e.revision) for e in events] == [("ADDED", rv(bound)), ("DELETED", rv(moved))]
    assert events[1].object["spec"]["nodeName"] == "node-a"
    kubelet.close()


async def test_replay_applies_the_filter_too(storage: Storage, cacher: Cacher, kit) -> None:
    start = cacher.revision
    await storage.create(kit.key("x", "other"), kit.pod("x", namespace="other"))
    mine = await storage.create(kit.key("y", "mine"), kit.pod("y", namespace="mine"))
    await cacher.wait_until_fresh(rv(mine))
    watcher = cacher.watch(revision=start, namespace="mine")
    (event,) = await kit.take(watcher, 1)
    assert event.object["metadata"]["name"] == "y"
    watcher.close()


async def test_client_close_ends_iteration_and_unregisters(storage: Storage, cacher: Cacher, kit) -> None:
    watcher = cacher.watch(revision=0)
    assert cacher.watcher_count == 1
    watcher.close()
    watcher.close()
    assert cacher.watcher_count == 0
    assert await kit.drain(watcher) == []


async def test_event_frame_is_the_watch_json_line(storage: Storage, cacher: Cacher, kit) -> None:
    import orjson

    watcher = cacher.watch(revision=0)
    await storage.create(kit.key("p"), kit.pod("p"))
    (event,) = await kit.take(watcher, 1)
    line = event.frame()
    assert line.endswith(b"\n")
    assert orjson.loads(line) == {"type": "ADDED", "object": event.object}
    assert event.frame() is line  # encoded once, shared
    watcher.close()


async def test_scheduler_view_of_unassigned_pods(storage: Storage, cacher: Cacher, kit) -> None:
    # kube-scheduler's selector: an empty exact value is not an index lookup, and binding
    # a pod takes it out of this view.
    selector = kit.fields("spec.nodeName=,status.phase!=Succeeded,status.phase!=Failed")
    scheduler = cacher.watch(revision=0, field_selector=selector)
    key = kit.key("p")
    created = await storage.create(key, kit.pod("p"))
    bound = await kit.relabel(storage, key, node="node-a")
    events = await kit.take(scheduler, 2)
    assert [(e.type, e.revision) for e in events] == [("ADDED", rv(created)), ("DELETED", rv(bound))]
    assert "nodeName" not in events[1].object["spec"]
    scheduler.close()
