"""Conformance, part 3: watch — every event after a revision, once, in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apiserver.storage import Storage, WatchEvent, prefix_for
from kube.errors import Expired

from .helpers import Obj, assert_quiet, check, history, next_event, pod, pod_key, relabel, rv, take


async def test_watch_from_a_revision_replays_everything_after_it(store: Storage) -> None:
    start = await store.current_revision()
    expected = await history(store)
    watch = store.watch(prefix_for("pods"), revision=start)
    check(await take(watch, len(expected)), expected)
    await assert_quiet(watch)

    # From the middle: only what came later.
    middle = rv(expected[3][2])
    later = store.watch(prefix_for("pods"), revision=middle)
    at_middle = {pod_key("a"): expected[3][2], pod_key("b"): expected[1][2]}
    check(await take(later, 3), expected[4:], before=at_middle)
    await assert_quiet(later)
    for w in (watch, later):
        await w.aclose()  # type: ignore[attr-defined]


async def test_watch_sees_only_its_prefix(store: Storage) -> None:
    start = await store.current_revision()
    await store.create(pod_key("x", "other"), pod("x", "other"))
    mine = await store.create(pod_key("y", "mine"), pod("y", "mine"))
    await store.create(pod_key("z", "other"), pod("z", "other"))
    watch = store.watch(prefix_for("pods", "mine"), revision=start)
    assert (await next_event(watch)).object == mine
    await assert_quiet(watch)
    await watch.aclose()  # type: ignore[attr-defined]


async def test_watch_started_while_writes_race_misses_and_repeats_nothing(store: Storage) -> None:
    for i in range(5):
        await store.create(pod_key(f"pre{i}"), pod(f"pre{i}"))
    start = await store.current_revision()
    n = 60

    async def writes() -> list[Obj]:
        out = []
        for i in range(n):
            if i % 3 == 2:
                out.append(await store.guaranteed_update(pod_key(f"w{i - 1}"), relabel))
            else:
                out.append(await store.create(pod_key(f"w{i}"), pod(f"w{i}")))
            await asyncio.sleep(0)
        return out

    async def watching() -> list[WatchEvent]:
        watch = store.watch(prefix_for("pods"), revision=start)
        try:
            got = await take(watch, n)
            await assert_quiet(watch)
            return got
        finally:
            await watch.aclose()  # type: ignore[attr-defined]

    written, seen = await asyncio.gather(writes(), watching())
    assert [e.object for e in seen] == written
    assert [e.revision for e in seen] == sorted({e.revision for e in seen})


async def test_watch_of_a_compacted_revision_is_expired(store: Storage) -> None:
    start = await store.current_revision()
    await history(store)
    compact_at = await store.current_revision()
    await store.compact(compact_at)

    watch = store.watch(prefix_for("pods"), revision=start)  # no error until iterated
    with pytest.raises(Expired) as err:
        await next_event(watch)
    assert err.value.message.startswith(f"too old resource version: {start} (")
    assert err.value.code == 410

    # Watching from the compaction point on works.
    fresh = store.watch(prefix_for("pods"), revision=compact_at)
    created = await store.create(pod_key("after"), pod("after"))
    assert (await next_event(fresh)).object == created
    await fresh.aclose()  # type: ignore[attr-defined]


async def test_aclose_ends_a_pending_next_and_releases_the_watch(store: Storage) -> None:
    opened: Any = store
    base = opened.open_watches
    watches = [store.watch(prefix_for("pods"), revision=await store.current_revision()) for _ in range(3)]
    created = await store.create(pod_key("a"), pod("a"))
    for w in watches:  # each is live: it has seen the event
        assert (await next_event(w)).object == created
    pending = [asyncio.ensure_future(anext(w)) for w in watches]
    await asyncio.sleep(0.05)
    assert opened.open_watches == base + 3
    for w in watches:
        await w.aclose()  # type: ignore[attr-defined]
    for p in pending:
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(p, 5)
    assert opened.open_watches == base
    await store.create(pod_key("b"), pod("b"))  # the store is unaffected


async def test_a_timed_out_next_loses_no_event(store: Storage) -> None:
    watch = store.watch(prefix_for("pods"), revision=await store.current_revision())
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(watch), 0.05)
    created = await store.create(pod_key("a"), pod("a"))
    assert (await next_event(watch)).object == created
    await assert_quiet(watch)
    await watch.aclose()  # type: ignore[attr-defined]


async def test_closing_the_store_ends_its_watches(backend: Any) -> None:
    store = await backend.open()
    watch = store.watch(prefix_for("pods"), revision=await store.current_revision())
    pending = asyncio.ensure_future(anext(watch))
    await asyncio.sleep(0.05)
    await store.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(pending, 5)
