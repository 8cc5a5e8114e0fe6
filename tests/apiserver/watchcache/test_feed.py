"""Shared feeds: the plain push-mode watchers of a bucket take each change through one
``Feed``; every connection must still get every event exactly once, in order, when
rounds are sliced, when a watch ends mid-round, when one sink gets an event of its own
(a bookmark) and when the plan is rebuilt with frames still owed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from apiserver.endpoints.feed import Feed
from apiserver.endpoints.flusher import chunk
from apiserver.storage.interface import Storage
from apiserver.watchcache import Cacher, Watcher
from apiserver.watchcache.events import BOOKMARK, bookmark

from .test_push import FakeConnection, attach, event, turn


@pytest.fixture
async def live(storage: Storage, kit: Any) -> AsyncIterator[Cacher]:
    cacher = kit.cacher(storage, bookmark_interval=3600)
    await cacher.start()
    yield cacher
    await cacher.stop()


async def create(storage: Storage, cacher: Cacher, kit: Any, name: str) -> None:
    obj = await storage.create(kit.key(name), kit.pod(name))
    await cacher.wait_until_fresh(int(obj["metadata"]["resourceVersion"]))


def names(conn: FakeConnection) -> list[str]:
    return [e["object"]["metadata"].get("name", "") for e in conn.events()]


async def watching(cacher: Cacher, n: int) -> tuple[list[Watcher], list[FakeConnection]]:
    conns = [FakeConnection() for _ in range(n)]
    watchers = [cacher.watch(revision=cacher.revision) for _ in conns]
    sinks = [attach(w, c) for w, c in zip(watchers, conns, strict=True)]
    assert all(s.feed is None for s in sinks)
    return watchers, conns


def feed_of(watcher: Watcher) -> Feed:
    feed = watcher.sink.feed  # type: ignore[union-attr]
    assert isinstance(feed, Feed)
    return feed


async def fed(
    storage: Storage, cacher: Cacher, kit: Any, n: int
) -> tuple[list[Watcher], list[FakeConnection], Feed]:
    """``n`` plain push watchers that got a first event, "a", through their feed."""
    watchers, conns = await watching(cacher, n)
    await create(storage, cacher, kit, "a")
    for _ in range(8):
        await asyncio.sleep(0)
    assert all(names(c) == ["a"] for c in conns)
    return watchers, conns, feed_of(watchers[0])


async def test_plain_watchers_share_one_feed_and_one_join(
    storage: Storage, live: Cacher, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    joins: list[int] = []

    def counting(frames: list[bytes]) -> bytes:
        joins.append(len(frames))
        return chunk(frames)

    monkeypatch.setattr("apiserver.endpoints.feed.chunk", counting)
    watchers, conns = await watching(live, 5)
    await create(storage, live, kit, "a")
    feed = feed_of(watchers[0])
    assert all(feed_of(w) is feed for w in watchers)
    await create(storage, live, kit, "b")
    await turn()
    # One chunk per connection per turn, the same bytes for all: joined once per turn.
    assert all(names(c) == ["a", "b"] for c in conns)
    assert all(len(c.writes) == len(conns[0].writes) for c in conns)
    assert len(joins) == len(conns[0].writes)
    assert feed.frames == []  # everyone has had everything: nothing kept
    for w in watchers:
        w.close()


async def test_a_round_is_sliced_and_late_frames_reach_everyone_once(
    storage: Storage, live: Cacher, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("apiserver.endpoints.flusher.SLICE", 4)
    watchers, conns, feed = await fed(storage, live, kit, 10)
    feed.push(event("b", 900))
    await asyncio.sleep(0)  # the first slice: four connections
    first = [len(c.writes) == 2 for c in conns]
    assert sum(first) == 4 and all(len(c.writes) in (1, 2) for c in conns)
    feed.push(event("c", 901))  # arrives mid-round
    for _ in range(8):
        await asyncio.sleep(0)
    assert all(names(c) == ["a", "b", "c"] for c in conns)
    # The six still ahead got b and c together; the first four got c in a second round.
    assert [len(c.writes) for c in conns] == [3 if done else 2 for done in first]
    assert feed.frames == []
    for w in watchers:
        w.close()


async def test_an_event_for_one_sink_waits_behind_what_the_feed_owes_it(
    storage: Storage, live: Cacher, kit: Any
) -> None:
    watchers, conns, feed = await fed(storage, live, kit, 3)
    feed.push(event("b", 900))
    mark = bookmark(kind="Pod", api_version="v1", revision=900)
    assert watchers[1].offer(mark)  # before the flush: b must still come first
    await turn()
    assert names(conns[0]) == ["a", "b"]
    assert [e["type"] for e in conns[1].events()] == ["ADDED", "ADDED", BOOKMARK]
    assert names(conns[1])[:2] == ["a", "b"]
    assert names(conns[2]) == ["a", "b"]
    for w in watchers:
        w.close()


async def test_a_watch_closed_by_its_own_write_does_not_cost_the_others_an_event(
    storage: Storage, live: Cacher, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("apiserver.endpoints.flusher.SLICE", 4)
    watchers, conns, feed = await fed(storage, live, kit, 10)
    conns[2].closing = True  # the client went away: found when its turn comes
    feed.push(event("b", 900))
    feed.push(event("c", 901))
    for _ in range(8):
        await asyncio.sleep(0)
    assert feed.dissolved and watchers[2].done
    for i, conn in enumerate(conns):
        assert names(conn) == (["a"] if i == 2 else ["a", "b", "c"]), i
    await create(storage, live, kit, "d")  # a new plan, a new feed, without the closed one
    for _ in range(8):
        await asyncio.sleep(0)
    assert all(names(c)[-1] == "d" for i, c in enumerate(conns) if i != 2)
    assert feed_of(watchers[0]) is not feed
    for w in watchers:
        w.close()


async def test_a_slow_watcher_is_ended_without_the_batch_and_the_rest_go_on(
    storage: Storage, live: Cacher, kit: Any
) -> None:
    watchers, conns, _ = await fed(storage, live, kit, 4)
    conns[1].buffered = 10 << 20
    await create(storage, live, kit, "b")
    await turn()
    await turn()
    assert watchers[1].done and watchers[1].reason is not None
    assert names(conns[1]) == ["a"]  # b was not written: a relist resumes after a
    assert all(names(c) == ["a", "b"] for i, c in enumerate(conns) if i != 1)
    for w in watchers:
        w.close()


async def test_frames_owed_when_the_plan_changes_come_before_later_ones(
    storage: Storage, live: Cacher, kit: Any
) -> None:
    watchers, conns, feed = await fed(storage, live, kit, 3)
    feed.push(event("b", 900))  # not written yet when a new watcher comes
    newcomer = live.watch(revision=live.revision)
    assert feed.dissolved
    attach(newcomer, FakeConnection())
    await create(storage, live, kit, "c")
    await turn()
    await turn()
    assert all(names(c) == ["a", "b", "c"] for c in conns)
    for w in [*watchers, newcomer]:
        w.close()
