"""What only the etcd backend has: endpoints that fail, gRPC limits, server-side watches."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import uuid
from collections.abc import Iterator

import pytest

from apiserver.storage import StorageError, open_storage, prefix_for
from apiserver.storage.etcd import EtcdStorage
from kube.errors import ServiceUnavailable, Timeout
from tests.conftest import EtcdServer, require_etcd

from .helpers import WAIT, next_event, pod, pod_key

pytestmark = pytest.mark.etcd


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """Accepts TCP connections (the kernel completes the handshake) but never speaks:
    what a wedged etcd or a black-holing proxy looks like to a client."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_an_unreachable_etcd_is_a_storage_error_naming_the_endpoints() -> None:
    endpoints = [f"http://127.0.0.1:{closed_port()}", f"http://127.0.0.1:{closed_port()}"]
    with pytest.raises(StorageError) as err:
        await asyncio.wait_for(open_storage(etcd_servers=endpoints), WAIT)
    assert err.value.message.startswith(f"cannot reach etcd at {endpoints[0]}, {endpoints[1]} (")
    assert isinstance(err.value, ServiceUnavailable) and err.value.code == 503


async def test_an_etcd_that_never_answers_fails_within_the_connect_timeout(silent_endpoint: str) -> None:
    with pytest.raises(StorageError, match=f"cannot reach etcd at {silent_endpoint}"):
        await asyncio.wait_for(open_storage(etcd_servers=[silent_endpoint], connect_timeout=0.5), WAIT)


async def test_the_first_endpoint_that_answers_is_used(etcd_endpoint: str) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    store = await open_storage(etcd_servers=[f"{dead},{etcd_endpoint}"], key_namespace=f"/t/{uuid.uuid4()}")
    try:
        assert isinstance(store, EtcdStorage) and store.endpoint == etcd_endpoint
        await store.create(pod_key("a"), pod("a"))
    finally:
        await store.close()


async def test_tls_endpoints_are_refused_clearly() -> None:
    with pytest.raises(StorageError, match="only http:// endpoints are supported"):
        await open_storage(etcd_servers=["https://127.0.0.1:2379"])


async def test_a_list_larger_than_grpcs_default_message_limit(etcd_endpoint: str) -> None:
    store = await open_storage(etcd_servers=[etcd_endpoint], key_namespace=f"/t/{uuid.uuid4()}")
    try:
        big = "x" * (1024 * 1024)  # 5 x 1 MiB > gRPC's default 4 MiB receive limit
        for i in range(5):
            await store.create(pod_key(f"p{i}"), pod(f"p{i}", blob=big))
        assert len((await store.list(prefix_for("pods"))).items) == 5
    finally:
        await store.close()


def watchers(server: EtcdServer) -> float:
    for line in server.metrics().splitlines():
        if line.startswith("etcd_debugging_mvcc_watcher_total "):
            return float(line.split()[1])
    raise AssertionError("etcd does not report etcd_debugging_mvcc_watcher_total")


async def settled_watchers(server: EtcdServer, *, expect: float | None = None) -> float:
    """etcd registers and cancels watchers asynchronously: poll until the gauge shows
    ``expect`` (or, without one, stops moving), and return it."""
    last = None
    for _ in range(250):
        now = watchers(server)
        if now == expect or (expect is None and now == last):
            return now
        last = now
        await asyncio.sleep(0.02)
    return watchers(server)


async def test_aclose_cancels_the_watch_in_etcd(etcd_server: EtcdServer) -> None:
    store = await open_storage(etcd_servers=[etcd_server.endpoint], key_namespace=f"/t/{uuid.uuid4()}")
    try:
        base = await settled_watchers(etcd_server)
        watches = [store.watch(prefix_for("pods"), revision=await store.current_revision()) for _ in range(4)]
        created = await store.create(pod_key("a"), pod("a"))
        for w in watches:
            assert (await next_event(w)).object == created
        assert await settled_watchers(etcd_server, expect=base + 4) == base + 4
        for w in watches:
            await w.aclose()  # type: ignore[attr-defined]
        assert await settled_watchers(etcd_server, expect=base) == base
    finally:
        await store.close()


async def test_requests_to_a_frozen_or_stopped_etcd_fail_instead_of_hanging() -> None:
    require_etcd()
    server = await asyncio.to_thread(EtcdServer)
    try:
        store = await open_storage(etcd_servers=[server.endpoint], request_timeout=1.0)
        await store.create(pod_key("a"), pod("a"))
        watch = store.watch(prefix_for("pods"), revision=await store.current_revision())

        os.kill(server.proc.pid, signal.SIGSTOP)  # frozen: TCP is up, nothing answers
        try:
            with pytest.raises(Timeout, match=f"etcd at {server.endpoint} did not answer within 1s"):
                await asyncio.wait_for(store.get(pod_key("a")), WAIT)
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)

        await asyncio.to_thread(server.stop)  # gone: connection refused
        with pytest.raises(ServiceUnavailable, match=f"etcd at {server.endpoint} is unavailable"):
            await asyncio.wait_for(store.get(pod_key("a")), WAIT)
        with pytest.raises(ServiceUnavailable, match=f"etcd at {server.endpoint}"):
            await next_event(watch)
        await store.close()
    finally:
        await asyncio.to_thread(server.stop)
