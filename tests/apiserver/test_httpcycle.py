"""The HTTP/1.1 protocol's response writing (``apiserver.httpcycle``): the same bytes as
uvicorn, but a fixed-length response's head leaves together with its body."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from apiserver.httpcycle import CycleHttpTools

App = Callable[[Any, Any, Any], Awaitable[None]]


class Transport(asyncio.Transport):
    """Records every write; what a client would receive is their concatenation."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 6443), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def serve(app: App, request: bytes, transport: Transport | None = None) -> Transport:
    config = Config(app, http="httptools", log_config=None, access_log=False, server_header=False)
    config.load()
    state = ServerState()
    protocol = CycleHttpTools(config=config, server_state=state, app_state={})
    transport = transport or Transport()
    protocol.connection_made(transport)
    protocol.data_received(request)
    while state.tasks:
        await asyncio.gather(*state.tasks, return_exceptions=True)
    return transport


GET = b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n"


def fixed(body: bytes, *, chunks: int = 1, status: int = 200) -> App:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        step = max(1, len(body) // chunks)
        parts = [body[i : i + step] for i in range(0, len(body), step)] or [b""]
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1})

    return app


async def test_a_fixed_length_response_is_one_write() -> None:
    transport = await serve(fixed(b'{"kind":"Pod"}'), GET)
    assert len(transport.writes) == 1
    head, body = transport.writes[0].split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-length: 14" in head and b"content-type: application/json" in head
    assert body == b'{"kind":"Pod"}'
    assert not transport.closed  # keep-alive


async def test_a_body_in_several_messages_carries_the_head_with_its_first_part() -> None:
    body = b"x" * 100
    transport = await serve(fixed(body, chunks=4), GET)
    assert len(transport.writes) == 4
    assert transport.writes[0].endswith(b"\r\n\r\n" + body[:25])
    assert b"".join(transport.writes).split(b"\r\n\r\n", 1)[1] == body


async def test_an_empty_body_and_a_head_request_write_the_head_at_once() -> None:
    transport = await serve(fixed(b"", status=204), GET)
    assert [w.split(b"\r\n", 1)[0] for w in transport.writes] == [b"HTTP/1.1 204 No Content"]
    transport = await serve(fixed(b"abc"), b"HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n")
    assert len(transport.writes) == 1 and transport.writes[0].endswith(b"content-length: 3\r\n\r\n")


async def test_a_streamed_response_gets_its_head_before_any_chunk() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        started.set()
        await release.wait()
        await send({"type": "http.response.body", "body": b"{}", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    transport = Transport()
    task = asyncio.ensure_future(serve(app, GET, transport))
    await started.wait()
    assert len(transport.writes) == 1  # the client sees the response begin before any event
    release.set()
    await task
    assert len(transport.writes) == 3
    assert transport.writes[0].endswith(b"transfer-encoding: chunked\r\n\r\n")
    assert transport.writes[1:] == [b"2\r\n{}\r\n", b"0\r\n\r\n"]


async def test_connection_close_and_http_1_0_still_close() -> None:
    transport = await serve(fixed(b"ok"), b"GET /x HTTP/1.0\r\n\r\n")
    assert transport.closed and b"connection: close" in transport.writes[0]

    async def closing(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-length", b"2"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    transport = await serve(closing, GET)
    assert transport.closed and len(transport.writes) == 1


@pytest.mark.parametrize(
    ("sent", "error"),
    [(b"toolong", "longer than Content-Length"), (b"x", "shorter than Content-Length")],
)
async def test_a_body_that_breaks_its_length_fails_as_in_uvicorn(
    sent: bytes, error: str, caplog: Any
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"3")]})
        await send({"type": "http.response.body", "body": sent})

    transport = await serve(app, GET)
    assert transport.closed
    assert error in caplog.text


async def test_bad_header_names_and_values_are_refused() -> None:
    for header in ((b"bad name", b"v"), (b"x-ok", b"line\nbreak")):

        async def app(scope: Any, receive: Any, send: Any, header: tuple[bytes, bytes] = header) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": [header]})

        transport = await serve(app, GET)
        # As uvicorn: the response counts as started, so the connection is dropped.
        assert transport.closed and transport.writes == []


async def test_the_keep_alive_timer_is_armed_once_and_closes_only_an_idle_connection() -> None:
    config = Config(fixed(b"{}"), http="httptools", log_config=None, access_log=False, server_header=False)
    config.load()
    protocol = CycleHttpTools(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)

    async def request() -> None:
        protocol.data_received(GET)
        while protocol.server_state.tasks:
            await asyncio.gather(*protocol.server_state.tasks)

    await request()
    timer = protocol.timeout_keep_alive_task
    assert timer is not None
    await request()
    assert protocol.timeout_keep_alive_task is timer  # not cancelled and made anew per request
    # Due while a request is in progress: the connection stays, and its response re-arms.
    protocol.data_received(GET[:10])
    timer.cancel()
    protocol._keep_alive_due()
    assert not transport.closed and protocol.timeout_keep_alive_task is None
    protocol.data_received(GET[10:])
    while protocol.server_state.tasks:
        await asyncio.gather(*protocol.server_state.tasks)
    timer = protocol.timeout_keep_alive_task
    assert timer is not None
    # Due, but the connection has been idle for less than the timeout: it waits out the rest.
    timer.cancel()
    protocol._keep_alive_due()
    assert not transport.closed and protocol.timeout_keep_alive_task is not None
    # Idle for the whole timeout: closed.
    protocol.timeout_keep_alive_task.cancel()
    assert protocol._idle_since is not None
    protocol._idle_since -= protocol.timeout_keep_alive
    protocol._keep_alive_due()
    assert transport.closed
    protocol.connection_lost(None)
    assert protocol.timeout_keep_alive_task is None
