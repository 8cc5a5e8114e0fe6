"""Stop, storage watch breaks, compaction and relist."""

from __future__ import annotations

import asyncio

import pytest

from apiserver.storage.interface import Storage
from apiserver.watchcache import Cacher
from kube.errors import TooManyRequests


def rv(obj: dict) -> int:
    return int(obj["metadata"]["resourceVersion"])


async def test_stop_ends_every_watcher(storage: Storage, kit) -> None:
    cacher = kit.cacher(storage)
    await cacher.start()
    waiting = cacher.watch(revision=0)
    idle = cacher.watch(revision=0, field_selector=kit.fields("spec.nodeName=n"))
    reader = asyncio.create_task(kit.drain(waiting))
    await asyncio.sleep(0)
    await cacher.stop()
    assert await asyncio.wait_for(reader, 5) == []
    assert await kit.drain(idle) == []
    assert waiting.reason == idle.reason == "watch cache stopped"
    assert cacher.watcher_count == 0
    with pytest.raises(TooManyRequests):
        cacher.watch(revision=0)


async def test_broken_storage_watch_is_resumed_without_closing_watchers(memory_storage, kit) -> None:
    cacher: Cacher = kit.cacher(memory_storage)
    await cacher.start()
    try:
        watcher = cacher.watch(revision=0)
        first = await memory_storage.create(kit.key("a"), kit.pod("a"))
        await cacher.wait_until_fresh(rv(first))
        memory_storage.break_watches(ConnectionError("storage restarted"))
        second = await memory_storage.create(kit.key("b"), kit.pod("b"))
        events = await kit.take(watcher, 2)
        assert [e.revision for e in events] == [rv(first), rv(second)]
        assert not watcher.done
        third = await memory_storage.create(kit.key("c"), kit.pod("c"))
        assert [e.revision for e in await kit.take(watcher, 1)] == [rv(third)]
        watcher.close()
    finally:
        await cacher.stop()


async def test_compaction_past_the_cache_relists_and_ends_watchers(memory_storage, kit) -> None:
    cacher: Cacher = kit.cacher(memory_storage)
    await cacher.start()
    try:
        await memory_storage.create(kit.key("a"), kit.pod("a"))
        seen = await memory_storage.create(kit.key("b"), kit.pod("b"))
        await cacher.wait_until_fresh(rv(seen))
        watcher = cacher.watch(revision=0)
        # While the cache is cut off, changes happen and history is compacted past it:
        # the re-watch from its revision is Expired, so it must relist.
        memory_storage.break_watches(ConnectionError("storage restarted"))
        await memory_storage.delete(kit.key("a"))
        latest = await memory_storage.create(kit.key("c"), kit.pod("c"))
        await memory_storage.compact(rv(latest))

        await cacher.wait_until_fresh(rv(latest))
        assert [o["metadata"]["name"] for o in cacher.list()[0]] == ["b", "c"]
        # The open watcher saw its initial listing, then is ended: its position can't be
        # continued across the gap, so its client relists.
        assert [e.object["metadata"]["name"] for e in await kit.drain(watcher)] == ["a", "b"]
        assert watcher.reason is not None and "relist" in watcher.reason
        # A resume from before the relist is Expired; a fresh watch works.
        from kube.errors import Expired

        with pytest.raises(Expired):
            cacher.watch(revision=rv(seen))
        fresh = cacher.watch(revision=0)
        assert [e.object["metadata"]["name"] for e in await kit.take(fresh, 2)] == ["b", "c"]
        fresh.close()
    finally:
        await cacher.stop()


async def test_one_storage_watch_serves_many_watchers(memory_storage, kit) -> None:
    cacher: Cacher = kit.cacher(memory_storage)
    await cacher.start()
    try:
        watchers = [cacher.watch(revision=0) for _ in range(50)]
        await memory_storage.create(kit.key("a"), kit.pod("a"))
        for w in watchers:
            assert [e.type for e in await kit.take(w, 1)] == ["ADDED"]
        assert memory_storage.open_watches == 1
    finally:
        await cacher.stop()
