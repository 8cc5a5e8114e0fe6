"""Push-mode watches: the sink, the per-loop flusher and the watch handler's push path,
against a fake connection that frames ASGI body messages the way uvicorn's httptools
protocol does and records direct writes in the same byte stream."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from apiserver.endpoints import watch as watch_endpoint
from apiserver.endpoints.flusher import Flusher, chunk
from apiserver.endpoints.watchsink import SLOW_REASON, ChunkSink
from apiserver.storage.interface import Storage
from apiserver.watchcache import CacheEvent, Cacher, Watcher
from apiserver.watchcache.events import ADDED, BOOKMARK


class FakeConnection:
    """A transport plus an ASGI ``send`` writing to it, as uvicorn does after the head."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.buffered = 0  # what get_write_buffer_size reports
        self.closing = False
        self.aborted = False
        self.ended = False
        self.block_send = False

    # asyncio.WriteTransport, the part the sink uses
    def write(self, data: bytes) -> None:
        assert not self.ended, "written after the last chunk"
        self.writes.append(bytes(data))

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def is_closing(self) -> bool:
        return self.closing

    def abort(self) -> None:
        self.aborted = True

    async def send(self, message: dict[str, Any]) -> None:
        if self.block_send:
            await asyncio.Event().wait()
        body, more = message.get("body", b""), message.get("more_body", False)
        self.write((b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + (b"" if more else b"0\r\n\r\n"))
        self.ended = not more

    def chunks(self) -> list[bytes]:
        """The chunk bodies received, checking the framing on the way."""
        stream, out = b"".join(self.writes), []
        while stream:
            head, _, rest = stream.partition(b"\r\n")
            size = int(head, 16)
            out.append(rest[:size])
            assert rest[size : size + 2] == b"\r\n", "bad chunk framing"
            stream = rest[size + 2 :]
            if size == 0:
                assert not stream, "bytes after the last chunk"
        return out

    def events(self) -> list[dict[str, Any]]:
        lines = b"".join(self.chunks()).splitlines()
        return [orjson.loads(line) for line in lines]


def attach(watcher: Watcher, conn: FakeConnection, **kwargs: Any) -> ChunkSink:
    assert watcher.initial_batch(100) == []
    sink = ChunkSink(
        transport=conn,  # type: ignore[arg-type]
        watcher=watcher,
        flusher=Flusher.of(asyncio.get_running_loop()),
        **kwargs,
    )
    watcher.attach(sink)
    return sink


def event(name: str, revision: int) -> CacheEvent:
    obj = {"kind": "Pod", "metadata": {"name": name, "resourceVersion": str(revision)}}
    return CacheEvent(ADDED, obj, revision)


async def turn() -> None:
    """Let the loop run the scheduled flush."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def test_chunk_framing() -> None:
    assert chunk([b"a\n", b"bc\n"]) == b"5\r\na\nbc\n\r\n"
    assert chunk([b"x" * 300]) == b"12c\r\n" + b"x" * 300 + b"\r\n"


async def test_events_of_one_turn_go_out_as_one_shared_chunk(cacher: Cacher) -> None:
    conns = [FakeConnection() for _ in range(3)]
    watchers = [cacher.watch(revision=cacher.revision) for _ in conns]
    for watcher, conn in zip(watchers, conns, strict=True):
        attach(watcher, conn)
    events = [event(f"p{i}", 100 + i) for i in range(3)]
    for e in events:
        for watcher in watchers:
            assert watcher.offer(e)
    assert all(conn.writes == [] for conn in conns)  # nothing written before the flush
    await turn()
    assert all(len(conn.writes) == 1 for conn in conns)
    # Joined once: every connection got the very same bytes object's content.
    assert conns[0].writes[0] == chunk([e.frame() for e in events])
    assert [e["object"]["metadata"]["name"] for e in conns[1].events()] == ["p0", "p1", "p2"]
    # The next turn's event is a chunk of its own.
    watchers[0].offer(event("p3", 103))
    await turn()
    assert len(conns[0].writes) == 2 and len(conns[1].writes) == 1
    for watcher in watchers:
        watcher.close()


async def test_identical_batches_share_one_join(cacher: Cacher, monkeypatch: pytest.MonkeyPatch) -> None:
    joins: list[int] = []
    real_chunk = chunk

    def counting(frames: list[bytes]) -> bytes:
        joins.append(len(frames))
        return real_chunk(frames)

    monkeypatch.setattr("apiserver.endpoints.watchsink.chunk", counting)
    conns = [FakeConnection() for _ in range(50)]
    watchers = [cacher.watch(revision=cacher.revision) for _ in conns]
    for watcher, conn in zip(watchers, conns, strict=True):
        attach(watcher, conn)
    for e in (event("a", 200), event("b", 201)):
        for watcher in watchers:
            watcher.offer(e)
    watchers[0].offer(event("c", 202))  # one watcher's batch differs
    await turn()
    assert sorted(joins) == [2, 3]
    for watcher in watchers:
        watcher.close()


async def test_a_flush_writes_one_slice_of_connections_per_loop_turn(
    cacher: Cacher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("apiserver.endpoints.flusher.SLICE", 4)
    conns = [FakeConnection() for _ in range(10)]
    watchers = [cacher.watch(revision=cacher.revision) for _ in conns]
    for watcher, conn in zip(watchers, conns, strict=True):
        attach(watcher, conn)
    for watcher in watchers:
        watcher.offer(event("a", 300))
    written: list[int] = []

    def count() -> None:  # scheduled after the first flush: runs between two slices
        written.append(sum(len(conn.writes) for conn in conns))

    loop = asyncio.get_running_loop()
    loop.call_soon(count)
    await asyncio.sleep(0)
    # An event for an already written watcher while the flush is under way goes out in
    # the same round, after the connections still waiting.
    watchers[0].offer(event("b", 301))
    for _ in range(5):
        await asyncio.sleep(0)
    assert written == [4]
    assert [len(conn.writes) for conn in conns] == [2] + [1] * 9
    assert [e["object"]["metadata"]["name"] for e in conns[0].events()] == ["a", "b"]
    for watcher in watchers:
        watcher.close()


async def test_push_keeps_initial_events_buffered_events_and_bookmarks_in_order(
    storage: Storage, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cacher = kit.cacher(storage, bookmark_interval=3600)
    await cacher.start()
    try:
        for i in range(5):
            last = await storage.create(kit.key(f"old{i}"), kit.pod(f"old{i}"))
        await cacher.wait_until_fresh(int(last["metadata"]["resourceVersion"]))
        watcher = cacher.watch(revision=0, allow_bookmarks=True)
        # A change while the initial listing is still unsent waits in the buffer.
        mid = await storage.create(kit.key("mid"), kit.pod("mid"))
        await cacher.wait_until_fresh(int(mid["metadata"]["resourceVersion"]))
        assert watcher.pending == 1

        conn = FakeConnection()
        monkeypatch.setattr(watch_endpoint, "INITIAL_BATCH", 2)  # several initial chunks
        task = asyncio.create_task(watch_endpoint.push(watcher, send=conn.send, transport=conn))  # type: ignore[arg-type]
        for _ in range(10):
            await asyncio.sleep(0)
        cacher.send_bookmarks()
        late = await storage.create(kit.key("late"), kit.pod("late"))
        await cacher.wait_until_fresh(int(late["metadata"]["resourceVersion"]))
        await turn()
        await cacher.stop()  # the server ends the watch: the stream ends cleanly
        await asyncio.wait_for(task, 5)

        events = conn.events()
        names = [e["object"]["metadata"].get("name", "") for e in events]
        types = [e["type"] for e in events]
        assert names[:5] == [f"old{i}" for i in range(5)]
        assert names[5] == "mid"
        assert types[6] == BOOKMARK
        assert names[7] == "late"
        assert len(events) == 8
        assert conn.ended
        # Three initial chunks of at most two events, then live ones.
        assert len(conn.chunks()) >= 5
    finally:
        await cacher.stop()


async def test_send_initial_events_prefix_comes_first(cacher: Cacher) -> None:
    watcher = cacher.watch(revision=cacher.revision, allow_bookmarks=True)
    watcher.prepend([event("listed", 1), CacheEvent(BOOKMARK, {"metadata": {"resourceVersion": "1"}}, 1)])
    conn = FakeConnection()
    task = asyncio.create_task(watch_endpoint.push(watcher, send=conn.send, transport=conn))  # type: ignore[arg-type]
    await turn()
    watcher.offer(event("live", 2))
    await turn()
    watcher.terminate("done")
    await asyncio.wait_for(task, 5)
    assert [e["type"] for e in conn.events()] == [ADDED, BOOKMARK, ADDED]
    assert conn.events()[2]["object"]["metadata"]["name"] == "live"


async def test_server_end_delivers_what_is_pending_then_the_last_chunk(cacher: Cacher) -> None:
    watcher = cacher.watch(revision=cacher.revision)
    conn = FakeConnection()
    task = asyncio.create_task(watch_endpoint.push(watcher, send=conn.send, transport=conn))  # type: ignore[arg-type]
    await turn()
    watcher.offer(event("a", 5))
    watcher.offer(event("b", 6))
    watcher.terminate("watch cache relisted")  # before the flush ran
    await asyncio.wait_for(task, 5)
    assert [e["object"]["metadata"]["name"] for e in conn.events()] == ["a", "b"]
    assert conn.ended
    await turn()  # the flush that was scheduled finds nothing left
    assert conn.ended


async def test_client_hang_up_drops_pending(cacher: Cacher) -> None:
    watcher = cacher.watch(revision=cacher.revision)
    conn = FakeConnection()
    task = asyncio.create_task(watch_endpoint.push(watcher, send=conn.send, transport=conn))  # type: ignore[arg-type]
    await turn()
    watcher.offer(event("a", 5))
    watcher.close()
    await asyncio.wait_for(task, 5)
    assert conn.events() == []
    assert cacher.watcher_count == 0


async def test_a_closed_connection_closes_the_watcher_at_the_next_flush(cacher: Cacher) -> None:
    watcher = cacher.watch(revision=cacher.revision)
    conn = FakeConnection()
    sink = attach(watcher, conn)
    conn.closing = True
    watcher.offer(event("a", 5))
    await turn()
    assert watcher.done and watcher.reason is None
    assert sink.ended.result() is False
    assert conn.writes == []
    assert cacher.watcher_count == 0


async def test_a_full_write_buffer_ends_a_slow_watcher(cacher: Cacher) -> None:
    slow, fast = FakeConnection(), FakeConnection()
    slow_watcher = cacher.watch(revision=cacher.revision)
    fast_watcher = cacher.watch(revision=cacher.revision)
    attach(slow_watcher, slow, limit=1000)
    attach(fast_watcher, fast, limit=1000)
    slow_watcher.offer(event("a", 5))
    fast_watcher.offer(event("a", 5))
    await turn()
    assert len(slow.writes) == 1  # below the limit: written
    slow.buffered = 1001  # the client stopped reading
    for watcher in (slow_watcher, fast_watcher):
        watcher.offer(event("b", 6))
    await turn()
    assert slow_watcher.done and slow_watcher.reason == SLOW_REASON
    assert len(slow.writes) == 1  # the batch that found the buffer full was not written
    assert cacher.stats.closed_slow == 1
    assert not fast_watcher.done and len(fast.writes) == 2
    assert cacher.watcher_count == 1
    fast_watcher.close()


async def test_a_slow_client_that_never_takes_the_last_chunk_is_dropped(
    cacher: Cacher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch_endpoint, "SLOW_CLIENT_GRACE", 0.01)
    watcher = cacher.watch(revision=cacher.revision)
    conn = FakeConnection()
    task = asyncio.create_task(watch_endpoint.push(watcher, send=conn.send, transport=conn))  # type: ignore[arg-type]
    await turn()
    conn.buffered = 10 << 20
    conn.block_send = True  # uvicorn waits for the buffer to drain before the last chunk
    watcher.offer(event("a", 5))
    await asyncio.wait_for(task, 5)
    assert watcher.reason == SLOW_REASON
    assert conn.aborted


async def test_in_process_iteration_is_unchanged_by_push_support(cacher: Cacher) -> None:
    watcher = cacher.watch(revision=cacher.revision)
    watcher.prepend([event("first", 1)])
    watcher.offer(event("live", 2))
    watcher.terminate("bye")
    assert [e.object["metadata"]["name"] async for e in watcher] == ["first", "live"]


async def test_a_failing_write_closes_only_that_watcher(cacher: Cacher) -> None:
    broken, fine = FakeConnection(), FakeConnection()
    broken_watcher = cacher.watch(revision=cacher.revision)
    fine_watcher = cacher.watch(revision=cacher.revision)
    attach(broken_watcher, broken)
    attach(fine_watcher, fine)

    def fail(data: bytes) -> None:
        raise RuntimeError("transport broke")

    broken.write = fail  # type: ignore[method-assign]
    for watcher in (broken_watcher, fine_watcher):
        watcher.offer(event("a", 5))
    await turn()
    assert broken_watcher.done and not fine_watcher.done
    assert len(fine.writes) == 1
    fine_watcher.close()


async def test_the_bucket_plan_follows_watchers_as_they_come_attach_and_go(storage: Storage, kit: Any) -> None:
    """Plain push-mode watchers are served from a per-bucket plan; watchers with a filter,
    not yet attached, or waiting for a future revision are still checked one by one."""
    cacher = kit.cacher(storage)
    await cacher.start()
    try:
        async def create(name: str, **kw: Any) -> int:
            obj = await storage.create(kit.key(name, namespace=kw.get("namespace", "default")), kit.pod(name, **kw))
            revision = int(obj["metadata"]["resourceVersion"])
            await cacher.wait_until_fresh(revision)
            await turn()
            return revision

        plain, labelled = cacher.watch(revision=cacher.revision), cacher.watch(
            revision=cacher.revision, label_selector=kit.labels("app=web")
        )
        in_ns = cacher.watch(revision=cacher.revision, namespace="default")
        conns = {name: FakeConnection() for name in ("plain", "labelled", "in_ns")}
        attach(plain, conns["plain"])
        attach(labelled, conns["labelled"])
        buffered = cacher.watch(revision=cacher.revision)  # pull mode: never attached
        now = await create("a", labels={"app": "web"})
        await create("b")
        future = cacher.watch(revision=now + 10)  # wants only what comes after now+10
        conns["future"] = FakeConnection()
        attach(future, conns["future"])
        attach(in_ns, conns["in_ns"])  # attached after the plan was built
        await create("c")

        def names(conn: FakeConnection) -> list[str]:
            return [e["object"]["metadata"]["name"] for e in conn.events()]

        assert names(conns["plain"]) == ["a", "b", "c"]
        assert names(conns["labelled"]) == ["a"]
        assert names(conns["in_ns"]) == ["a", "b", "c"]  # the two first were buffered, then pushed
        assert [e.object["metadata"]["name"] async for e in _take(buffered, 3)] == ["a", "b", "c"]
        plain.close()
        later = {f"d{i}": await create(f"d{i}") for i in range(10)}
        assert names(conns["plain"]) == ["a", "b", "c"]  # gone from the plan once closed
        assert names(conns["future"]) == [name for name, rev in later.items() if rev > now + 10]
        assert names(conns["future"]) == ["d8", "d9"]
        assert names(conns["in_ns"])[-1] == "d9"
        for watcher in (labelled, in_ns, buffered, future):
            watcher.close()
    finally:
        await cacher.stop()


async def _take(watcher: Watcher, n: int) -> Any:
    for _ in range(n):
        yield await watcher.__anext__()
