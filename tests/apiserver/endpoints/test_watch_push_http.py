"""Watches over the real HTTPS server (uvicorn + our TLS protocol): plain JSON watches run
in push mode (a ``ChunkSink`` written by the loop's flusher), Table watches keep the
per-watcher path, and both end cleanly — timeoutSeconds, client hang-up, server stop —
leaving the connection usable for the next request."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver import tls
from apiserver.app import KubeApp
from apiserver.endpoints import watchsink
from apiserver.registry import API
from kube import pki

PATH = "/api/v1/namespaces/default/configmaps"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


@pytest.fixture
def sinks(monkeypatch: pytest.MonkeyPatch) -> list[watchsink.ChunkSink]:
    """Every ChunkSink made, i.e. every watch served in push mode."""
    made: list[watchsink.ChunkSink] = []
    real = watchsink.ChunkSink

    def recording(**kwargs: Any) -> watchsink.ChunkSink:
        sink = real(**kwargs)
        made.append(sink)
        return sink

    monkeypatch.setattr("apiserver.endpoints.watch.ChunkSink", recording)
    return made


@pytest.fixture(params=["httptools", "h11"])
async def server(
    app: KubeApp, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[tls.TLSServer, ssl.SSLContext]]:
    """Both uvicorn protocols: each writes body chunks straight to the transport."""
    files = pki.ensure_apiserver_pki(tmp_path / "pki", hosts=[], ips=[])
    srv = tls.TLSServer(
        app,
        host="127.0.0.1",
        port=0,
        certfile=files.apiserver_cert,
        keyfile=files.apiserver_key,
        client_ca=files.ca_cert,
        handle_signals=False,
        tls_close_timeout=0.25,
        graceful_timeout=5,
        http=request.param,
    )
    await srv.start()
    ctx = ssl.create_default_context(cafile=str(files.ca_cert))
    try:
        yield srv, ctx
    finally:
        await srv.stop()


def _client(srv: tls.TLSServer, ctx: ssl.SSLContext) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=srv.url, verify=ctx, headers={"x-test-user": "admin"}, timeout=10)


async def _create(client: httpx.AsyncClient, name: str) -> str:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": name}}
    resp = await client.post(PATH, json=body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["metadata"]["resourceVersion"])


async def _lines(resp: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in resp.aiter_lines():
        if line:
            yield json.loads(line)


async def test_json_watch_is_pushed_in_order_and_ends_with_its_timeout(
    server: tuple[tls.TLSServer, ssl.SSLContext], api: API, sinks: list[watchsink.ChunkSink]
) -> None:
    srv, ctx = server
    async with _client(srv, ctx) as client:
        for i in range(3):
            await _create(client, f"before-{i}")
        seen: list[tuple[str, str]] = []
        params = "watch=1&allowWatchBookmarks=true&timeoutSeconds=2"
        async with client.stream("GET", f"{PATH}?{params}") as resp:
            assert resp.status_code == 200
            assert resp.headers["transfer-encoding"] == "chunked"
            async for event in _lines(resp):
                seen.append((event["type"], event["object"]["metadata"].get("name", "")))
                if len(seen) == 3:
                    async with _client(srv, ctx) as writer:
                        for i in range(5):
                            await _create(writer, f"live-{i}")
        # The stream ended by itself (timeoutSeconds) after everything, in order.
        assert seen == [("ADDED", f"before-{i}") for i in range(3)] + [
            ("ADDED", f"live-{i}") for i in range(5)
        ]
        assert len(sinks) == 1 and sinks[0].ended.done()
        # The connection is still good for the next request.
        assert (await client.get(PATH)).status_code == 200


async def test_send_initial_events_watch_is_pushed_too(
    server: tuple[tls.TLSServer, ssl.SSLContext], sinks: list[watchsink.ChunkSink]
) -> None:
    srv, ctx = server
    async with _client(srv, ctx) as client:
        await _create(client, "one")
        params = "watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        async with client.stream("GET", f"{PATH}?{params}&timeoutSeconds=1") as resp:
            events = [event async for event in _lines(resp)]
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert len(sinks) == 1


async def test_table_watch_keeps_the_per_watcher_path(
    server: tuple[tls.TLSServer, ssl.SSLContext], sinks: list[watchsink.ChunkSink]
) -> None:
    srv, ctx = server
    async with _client(srv, ctx) as client:
        await _create(client, "tabled")
        async with client.stream(
            "GET", f"{PATH}?watch=1&timeoutSeconds=1", headers={"accept": TABLE}
        ) as resp:
            events = [event async for event in _lines(resp)]
    assert events[0]["object"]["kind"] == "Table"
    assert sinks == []


async def test_hanging_up_removes_the_watcher(
    server: tuple[tls.TLSServer, ssl.SSLContext], api: API, sinks: list[watchsink.ChunkSink]
) -> None:
    srv, ctx = server
    cacher = api.store(group="", version="v1", resource="configmaps").cacher  # type: ignore[union-attr]
    assert cacher is not None
    before = cacher.watcher_count
    async with _client(srv, ctx) as client:
        rv = await _create(client, "x")
        async with client.stream("GET", f"{PATH}?watch=1&resourceVersion={rv}") as resp:
            assert resp.status_code == 200
            await _create(client, "y")
            async for event in _lines(resp):
                assert event["object"]["metadata"]["name"] == "y"
                break
            assert cacher.watcher_count == before + 1
    for _ in range(200):
        if cacher.watcher_count == before:
            break
        await asyncio.sleep(0.01)
    assert cacher.watcher_count == before
    assert len(sinks) == 1 and sinks[0].ended.result() is False


async def test_server_stop_ends_pushed_watches_cleanly(
    server: tuple[tls.TLSServer, ssl.SSLContext], sinks: list[watchsink.ChunkSink]
) -> None:
    srv, ctx = server
    async with _client(srv, ctx) as client:
        rv = await _create(client, "x")
        async with client.stream("GET", f"{PATH}?watch=1&resourceVersion={rv}") as resp:
            stopping = asyncio.create_task(srv.stop())
            events = [event async for event in _lines(resp)]  # ends without an error
        await stopping
    assert events == []
    assert len(sinks) == 1
