"""The etcd watch's reader task: buffering, a slow consumer, a stream that fails."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import orjson
import pytest
from aetcd import rpc

from apiserver.storage import EventType, etcd_watch, open_storage, prefix_for
from apiserver.storage.etcd import EtcdStorage
from apiserver.storage.etcd_h2 import GrpcError
from kube.errors import ServiceUnavailable

from .helpers import WAIT, next_event, pod, pod_key, rv

pytestmark = pytest.mark.etcd


@pytest.fixture
async def store(etcd_endpoint: str) -> AsyncIterator[EtcdStorage]:
    opened = await open_storage(etcd_servers=[etcd_endpoint], key_namespace=f"/t/{uuid.uuid4()}")
    assert isinstance(opened, EtcdStorage)
    yield opened
    await opened.close()


async def until(condition: Any) -> None:
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_a_slow_consumer_pauses_the_reader_and_loses_nothing(
    store: EtcdStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(etcd_watch, "_BUFFER", 4)
    watch: Any = store.watch(prefix_for("pods"), revision=await store.current_revision())
    first = await store.create(pod_key("p0"), pod("p0"))
    assert (await next_event(watch)).object == first
    created = [first] + [await store.create(pod_key(f"p{i}"), pod(f"p{i}")) for i in range(1, 40)]
    await until(lambda: watch._space is not None)  # the reader waits for room
    paused_with = len(watch._pending)
    await asyncio.sleep(0.1)
    assert len(watch._pending) == paused_with  # and reads nothing more meanwhile
    events = [await next_event(watch) for _ in range(39)]
    assert [e.object for e in events] == created[1:]
    assert [e.revision for e in events] == [rv(o) for o in created[1:]]
    await watch.aclose()


async def test_aclose_of_a_paused_watch_releases_it(
    store: EtcdStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(etcd_watch, "_BUFFER", 2)
    base = store.open_watches
    watch: Any = store.watch(prefix_for("pods"), revision=await store.current_revision())
    for i in range(6):
        await store.create(pod_key(f"p{i}"), pod(f"p{i}"))
    await next_event(watch)
    await until(lambda: watch._space is not None)
    await asyncio.wait_for(watch.aclose(), WAIT)
    assert store.open_watches == base
    with pytest.raises(StopAsyncIteration):
        await anext(watch)


class FakeStream:
    """A Watch call that answers with ``responses`` and then fails with ``error``."""

    def __init__(self, responses: list[Any], error: BaseException) -> None:
        self.responses = list(responses)
        self.error = error
        self.cancelled = False

    async def write(self, request: Any) -> None:
        pass

    async def read(self) -> Any:
        await asyncio.sleep(0)
        if self.responses:
            return self.responses.pop(0)
        raise self.error

    def cancel(self) -> bool:
        self.cancelled = True
        return True


def put_event(store: EtcdStorage, name: str, revision: int) -> Any:
    key = store._ns + pod_key(name).encode()
    kv = rpc.KeyValue(key=key, value=orjson.dumps(pod(name)), create_revision=revision, mod_revision=revision)
    return rpc.Event(type=rpc.Event.PUT, kv=kv)


async def test_events_before_a_stream_error_come_first_then_the_error(
    store: EtcdStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = store.open_watches
    error = GrpcError(grpc.StatusCode.UNAVAILABLE, "connection reset")  # as etcd_h2's stream raises it
    responses = [
        rpc.WatchResponse(created=True),
        rpc.WatchResponse(events=[put_event(store, "a", 7), put_event(store, "b", 8)]),
    ]
    stream = FakeStream(responses, error)
    monkeypatch.setattr(store, "open_stream", lambda: stream)
    watch = store.watch(prefix_for("pods"), revision=6)
    got = [await next_event(watch), await next_event(watch)]
    assert [(e.type, e.key, e.revision) for e in got] == [
        (EventType.ADDED, pod_key("a"), 7),
        (EventType.ADDED, pod_key("b"), 8),
    ]
    with pytest.raises(ServiceUnavailable, match="is unavailable: connection reset"):
        await next_event(watch)
    assert stream.cancelled
    assert store.open_watches == base
    with pytest.raises(StopAsyncIteration):
        await anext(watch)


async def test_a_stream_that_ends_is_unavailable(store: EtcdStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = FakeStream([rpc.WatchResponse(created=True), grpc.aio.EOF], RuntimeError("not reached"))
    monkeypatch.setattr(store, "open_stream", lambda: stream)
    watch = store.watch(prefix_for("pods"), revision=1)
    with pytest.raises(ServiceUnavailable, match="ended the watch stream"):
        await next_event(watch)
