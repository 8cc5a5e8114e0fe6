"""The client's own HTTP/1.1 transport.

Against the real API server: connection reuse, watch streaming (a chunked response
read as it arrives), errors as typed Status errors. Against a tiny scripted server:
the framing cases and failures a real server produces only by chance — bodies
delimited by Content-Length, chunks or the connection's end; ``Connection: close``; an
idle keep-alive connection the server closes; and the race where the server closes it
just as a request arrives, which must be resent for a GET and never for a POST.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kube.client import ADDED, Client, RetryPolicy, TransportError
from kube.client.transport import Transport
from kube.errors import AlreadyExists, Invalid, NotFound
from kube.kubeconfig import ClientConfig
from kube.resources import default_registry

R = default_registry()
CONFIGMAPS = R.lookup("configmaps")[0]


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def pool_of(client: Client) -> Any:
    direct = client._wire.direct
    assert direct is not None, "the client should use its own transport by default"
    return direct.pool


# --- against the real API server ------------------------------------------------------------


async def test_requests_reuse_one_connection(client: Client, namespace: str) -> None:
    await client.create(CONFIGMAPS, configmap("a"), namespace=namespace)
    opened = pool_of(client).opened
    for _ in range(20):
        await client.get(CONFIGMAPS, name="a", namespace=namespace)
        await client.patch(CONFIGMAPS, name="a", namespace=namespace, patch={"data": {"k": "w"}})
    assert pool_of(client).opened == opened


async def test_errors_are_the_servers_status(client: Client, namespace: str) -> None:
    with pytest.raises(NotFound) as missing:
        await client.get(CONFIGMAPS, name="nope", namespace=namespace)
    assert missing.value.code == 404 and missing.value.details.name == "nope"
    await client.create(CONFIGMAPS, configmap("b"), namespace=namespace)
    with pytest.raises(AlreadyExists):
        await client.create(CONFIGMAPS, configmap("b"), namespace=namespace)
    with pytest.raises(Invalid):
        await client.create(CONFIGMAPS, configmap("Not_A_Name"), namespace=namespace)
    await client.get(CONFIGMAPS, name="b", namespace=namespace)  # the connection survived the errors


async def test_watch_streams_events_as_they_happen(client: Client, namespace: str) -> None:
    listed = await client.list(CONFIGMAPS, namespace=namespace)
    rv = listed["metadata"]["resourceVersion"]
    async with client.watch(
        CONFIGMAPS, namespace=namespace, resource_version=rv, timeout_seconds=60
    ) as events:
        await client.create(CONFIGMAPS, configmap("first"), namespace=namespace)
        first = await anext(events)
        await client.create(CONFIGMAPS, configmap("second"), namespace=namespace)
        second = await anext(events)
    assert [(e.type, e.object["metadata"]["name"]) for e in (first, second)] == [
        (ADDED, "first"),
        (ADDED, "second"),
    ]
    # The watch was left mid-stream: its connection is closed, never reused; requests go on.
    assert (await client.get(CONFIGMAPS, name="first", namespace=namespace))["data"] == {"k": "v"}


# --- against a scripted server ----------------------------------------------------------------


class TinyServer:
    """Answers by path: /length, /chunked, /until-close, /close, /stream (chunks on cue),
    /swallow (reads the request, then hangs up without answering)."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[str] = []
        self.release = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while line := await reader.readline():
                method, path = line.decode().split()[:2]
                length = 0
                while (h := await reader.readline()) not in (b"\r\n", b""):
                    if h.lower().startswith(b"content-length:"):
                        length = int(h.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                self.requests.append(f"{method} {path}")
                if not await self.answer(path, body, writer):
                    return
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def answer(self, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        """Write the answer; False to hang up afterwards."""
        if path == "/length":
            payload = b"echo:" + body
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
        elif path == "/chunked":
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            )
        elif path == "/until-close":
            writer.write(b"HTTP/1.1 200 OK\r\n\r\nall of it")
            return False
        elif path == "/close":
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno")
            return False
        elif path == "/stream":
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\none\n\r\n")
            await writer.drain()
            await self.release.wait()
            writer.write(b"4\r\ntwo\n\r\n0\r\n\r\n")
        elif path == "/swallow":
            return False
        return True

    async def close_idle(self) -> None:
        for w in self.writers:
            w.close()
        await asyncio.sleep(0.05)  # the client's loop sees the FIN

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def tiny() -> AsyncIterator[tuple[TinyServer, Transport]]:
    server = TinyServer()
    port = await server.start()
    config = ClientConfig(server=f"http://127.0.0.1:{port}", context="t", cluster="t", user="t")
    transport = Transport(config, ssl_context=None, user_agent="test", accept="*/*")
    yield server, transport
    await transport.aclose()
    await server.stop()


async def call(
    transport: Transport, method: str, path: str, content: bytes | None = None
) -> tuple[int, bytes]:
    r = await transport.request(method, path, content=content, connect_timeout=5, deadline=5)
    return r.status_code, r.content


async def test_length_and_chunked_bodies_on_one_connection(tiny: tuple[TinyServer, Transport]) -> None:
    server, transport = tiny
    assert await call(transport, "POST", "/length", b"abc") == (200, b"echo:abc")
    assert await call(transport, "GET", "/chunked") == (200, b"hello world")
    for _ in range(5):
        assert await call(transport, "POST", "/length", b"x") == (200, b"echo:x")
    assert server.connections == 1 and transport.pool.opened == 1


async def test_connection_close_and_until_close_bodies_are_never_reused(
    tiny: tuple[TinyServer, Transport],
) -> None:
    server, transport = tiny
    assert await call(transport, "GET", "/close") == (404, b"no")
    assert await call(transport, "GET", "/until-close") == (200, b"all of it")
    assert await call(transport, "GET", "/length") == (200, b"echo:")
    assert server.connections == 3


async def test_an_idle_connection_the_server_closed_is_not_used(tiny: tuple[TinyServer, Transport]) -> None:
    server, transport = tiny
    assert await call(transport, "GET", "/length") == (200, b"echo:")
    await server.close_idle()
    idle = [conn for conns in transport.pool._idle.values() for conn in conns]
    for _ in range(500):  # until our side has read the server's FIN (normally at once)
        if not any(conn.usable() for conn in idle):
            break
        await asyncio.sleep(0.01)
    assert await call(transport, "POST", "/length", b"p") == (200, b"echo:p")  # on a fresh connection
    assert server.requests == ["GET /length", "POST /length"]


async def test_a_get_meeting_a_closing_connection_is_resent_a_post_is_not(
    tiny: tuple[TinyServer, Transport],
) -> None:
    server, transport = tiny
    # The race: the server hangs up on a reused connection just as a request arrives,
    # so no answer comes. The GET is resent (once, on a fresh connection) ...
    await call(transport, "GET", "/length")
    with pytest.raises(Exception) as swallowed:
        await call(transport, "GET", "/swallow")  # resent, and swallowed again: now it fails
    assert server.requests[-2:] == ["GET /swallow", "GET /swallow"]
    assert "closed" in str(swallowed.value)
    # ... the POST, which the server may have acted on, is not.
    await call(transport, "GET", "/length")
    before = len(server.requests)
    with pytest.raises(Exception, match="closed"):
        await call(transport, "POST", "/swallow", b"once")
    assert server.requests[before:] == ["POST /swallow"]


async def test_the_client_does_not_retry_a_post_that_lost_its_connection(
    tiny: tuple[TinyServer, Transport],
) -> None:
    server, transport = tiny
    config = ClientConfig(
        server=f"http://{transport.key[0]}:{transport.key[1]}", context="t", cluster="t", user="t"
    )
    async with Client(config, qps=0, retry=RetryPolicy(max_retries=3, initial=0.0, cap=0.0)) as client:
        await client.request("GET", "/length")
        with pytest.raises(TransportError):
            await client.request("POST", "/swallow", body={"a": 1})
        assert server.requests.count("POST /swallow") == 1
        with pytest.raises(TransportError):
            await client.request("GET", "/swallow")
        assert server.requests.count("GET /swallow") > 2  # transport resend and client retries


async def test_a_streamed_body_arrives_line_by_line(tiny: tuple[TinyServer, Transport]) -> None:
    server, transport = tiny
    response = await transport.stream("GET", "/stream", connect_timeout=5, read_timeout=10)
    lines = response.aiter_lines()
    assert await anext(lines) == b"one"
    server.release.set()
    assert await anext(lines) == b"two"
    with pytest.raises(StopAsyncIteration):
        await anext(lines)
    assert await call(transport, "GET", "/length") == (200, b"echo:")
    assert server.connections == 1  # read to its end, the stream's connection went back to the pool


async def test_a_stream_past_its_read_deadline_times_out(tiny: tuple[TinyServer, Transport]) -> None:
    _, transport = tiny
    response = await transport.stream("GET", "/stream", connect_timeout=5, read_timeout=0.2)
    lines = response.aiter_lines()
    assert await anext(lines) == b"one"
    with pytest.raises(Exception, match="timed out"):
        await anext(lines)


async def test_a_refused_connection_is_a_transport_error() -> None:
    config = ClientConfig(server="http://127.0.0.1:1", context="t", cluster="t", user="t")
    async with Client(config, retry=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(TransportError):
            await client.request("GET", "/")
