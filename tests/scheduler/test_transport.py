"""The lean HTTP/1.1 transport under httpx, against a tiny local server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from scheduler.transport import LeanTransport


class TinyServer:
    """Answers by path: /length, /chunked, /close (then closes), /stream (chunks on cue)."""

    def __init__(self) -> None:
        self.connections = 0
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
            while True:
                line = await reader.readline()
                if not line:
                    return
                path = line.split()[1].decode()
                length = 0
                while (h := await reader.readline()) not in (b"\r\n", b""):
                    if h.lower().startswith(b"content-length:"):
                        length = int(h.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                if path == "/length":
                    payload = b"echo:" + body
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
                elif path == "/chunked":
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                    )
                elif path == "/close":
                    writer.write(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"
                    )
                    await writer.drain()
                    writer.close()
                    return
                elif path == "/stream":
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\none\n\r\n")
                    await writer.drain()
                    await self.release.wait()
                    writer.write(b"4\r\ntwo\n\r\n0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return

    async def close_idle(self) -> None:
        for w in self.writers:
            w.close()
        await asyncio.sleep(0.05)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def served() -> AsyncIterator[tuple[TinyServer, httpx.AsyncClient]]:
    server = TinyServer()
    port = await server.start()
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", transport=LeanTransport(ssl_context=None))
    yield server, client
    await client.aclose()
    await server.stop()


async def test_bodies_and_keep_alive(served: tuple[TinyServer, httpx.AsyncClient]) -> None:
    server, client = served
    r = await client.post("/length", content=b"abc")
    assert (r.status_code, r.content) == (200, b"echo:abc")
    r = await client.get("/chunked")
    assert r.content == b"hello world"
    for _ in range(5):
        assert (await client.post("/length", content=b"x")).content == b"echo:x"
    assert server.connections == 1  # every request reused the one connection


async def test_connection_close_and_a_server_closed_idle_connection(
    served: tuple[TinyServer, httpx.AsyncClient],
) -> None:
    server, client = served
    r = await client.get("/close")
    assert (r.status_code, r.content) == (404, b"no")
    assert (await client.get("/length")).content == b"echo:"
    await server.close_idle()  # the server drops the idle keep-alive connection
    assert (await client.get("/length")).content == b"echo:"  # a fresh connection, no error
    assert server.connections == 3


async def test_streaming_response(served: tuple[TinyServer, httpx.AsyncClient]) -> None:
    server, client = served
    async with client.stream("GET", "/stream") as r:
        lines = r.aiter_lines()
        assert await anext(lines) == "one"
        server.release.set()
        assert await anext(lines) == "two"


async def test_connect_error_is_an_httpx_transport_error() -> None:
    client = httpx.AsyncClient(base_url="http://127.0.0.1:1", transport=LeanTransport(ssl_context=None))
    with pytest.raises(httpx.TransportError):
        await client.get("/")
    await client.aclose()
