"""The HTTP/2 gRPC client the etcd backend sends its hot requests and watches through.

A scripted HTTP/2 server stands in for etcd where etcd cannot be made to misbehave on
cue (GOAWAY, resets, split header blocks, tiny flow-control windows, silence); real
etcd checks large values and many concurrent calls."""

from __future__ import annotations

import asyncio
import struct
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest
from grpc import StatusCode

from apiserver.storage import etcd_h2, etcd_hpack, open_storage
from apiserver.storage.etcd import EtcdStorage
from apiserver.storage.etcd_h2 import GrpcError, H2Channel

from .helpers import WAIT, pod, pod_key

Frame = tuple[int, int, int, bytes]  # type, flags, stream, payload
Script = Callable[["Peer"], Awaitable[None]]

RESPONSE_HEADERS = etcd_hpack.encode([(b":status", b"200"), (b"content-type", b"application/grpc")])
OK_TRAILERS = etcd_hpack.encode([(b"grpc-status", b"0")])


class Peer:
    """One accepted connection, seen from the server side."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def start(self, settings: bytes = b"") -> None:
        assert await self.reader.readexactly(24) == b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        self.send(0x4, 0, 0, settings)

    async def frame(self) -> Frame:
        head = await self.reader.readexactly(9)
        hi, lo, kind, flags, stream = struct.unpack(">BHBBI", head)
        return kind, flags, stream, await self.reader.readexactly((hi << 16) | lo)

    async def request(self) -> tuple[int, bytes]:
        """Frames until a request is complete: its stream and its DATA."""
        data = b""
        while True:
            kind, flags, stream, payload = await self.frame()
            if kind == 0x0:
                data += payload
                if flags & 0x1:
                    return stream, data

    def send(self, kind: int, flags: int, stream: int, payload: bytes = b"") -> None:
        self.writer.write(etcd_h2._frame(kind, flags, stream, payload))

    def answer(self, stream: int, message: bytes) -> None:
        self.send(0x1, 0x4, stream, RESPONSE_HEADERS)
        self.send(0x0, 0, stream, etcd_h2._message(message))
        self.send(0x1, 0x5, stream, OK_TRAILERS)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[H2Channel]]]:
    """``await serve(script, ...)``: a channel to a server running one script per
    connection, in order."""
    servers: list[asyncio.Server] = []
    channels: list[H2Channel] = []

    async def start(*scripts: Script, deadline: float = WAIT) -> H2Channel:
        queue = list(scripts)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await queue.pop(0)(Peer(reader, writer))
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        channel = H2Channel(host="127.0.0.1", port=port, authority=f"127.0.0.1:{port}", timeout=deadline)
        channels.append(channel)
        return channel

    yield start
    for channel in channels:
        channel.close()
    for server in servers:
        server.close()


async def test_a_call_above_a_goaway_is_retried_on_a_new_connection(
    serve: Callable[..., Awaitable[H2Channel]],
) -> None:
    async def going_away(peer: Peer) -> None:
        await peer.start()
        await peer.request()
        peer.send(0x7, 0, 0, struct.pack(">II", 0, 0))  # GOAWAY, last stream 0: never processed
        await peer.writer.drain()

    async def answering(peer: Peer) -> None:
        await peer.start()
        stream, data = await peer.request()
        assert data == etcd_h2._message(b"ping")
        peer.answer(stream, b"pong")
        await peer.reader.read()

    channel = await serve(going_away, answering)
    assert await asyncio.wait_for(channel.unary("/etcdserverpb.KV/Range", b"ping"), WAIT) == b"pong"


async def test_an_error_status_keeps_its_code_and_decoded_message(
    serve: Callable[..., Awaitable[H2Channel]],
) -> None:
    async def failing(peer: Peer) -> None:
        await peer.start()
        stream, _ = await peer.request()
        block = etcd_hpack.encode(
            [
                (b":status", b"200"),
                (b"content-type", b"application/grpc"),
                (b"grpc-status", b"9"),
                (b"grpc-message", b"etcdserver: 100%25 full \xc3\xa9"),
            ]
        )
        # A trailers-only answer whose header block comes in two frames.
        peer.send(0x1, 0x1, stream, block[:5])
        peer.send(0x9, 0x4, stream, block[5:])
        await peer.reader.read()

    channel = await serve(failing)
    with pytest.raises(GrpcError) as err:
        await asyncio.wait_for(channel.unary("/etcdserverpb.KV/Txn", b"x"), WAIT)
    assert err.value.code == StatusCode.FAILED_PRECONDITION
    assert err.value.details == "etcdserver: 100% full é"


async def test_padded_and_split_data_is_one_message(serve: Callable[..., Awaitable[H2Channel]]) -> None:
    async def splitting(peer: Peer) -> None:
        await peer.start()
        stream, _ = await peer.request()
        data = etcd_h2._message(b"a" * 100)
        peer.send(0x1, 0x4, stream, RESPONSE_HEADERS)
        peer.send(0x0, 0x8, stream, bytes([3]) + data[:7] + b"\x00" * 3)  # padded
        peer.send(0x0, 0, stream, data[7:])
        peer.send(0x1, 0x5, stream, OK_TRAILERS)
        await peer.reader.read()

    channel = await serve(splitting)
    assert await asyncio.wait_for(channel.unary("/p", b"x"), WAIT) == b"a" * 100


async def test_a_request_larger_than_the_peers_window_waits_for_window_updates(
    serve: Callable[..., Awaitable[H2Channel]],
) -> None:
    async def stingy(peer: Peer) -> None:
        await peer.start(struct.pack(">HI", 0x4, 10))  # 10-byte stream windows
        received, stream = b"", 0
        while True:
            kind, flags, stream, payload = await peer.frame()
            if kind != 0x0:
                continue
            assert len(payload) <= 10
            received += payload
            if flags & 0x1:
                break
            peer.send(0x8, 0, stream, struct.pack(">I", len(payload)))
        assert received == etcd_h2._message(b"b" * 100)
        peer.answer(stream, b"ok")
        await peer.reader.read()

    channel = await serve(stingy)
    assert await asyncio.wait_for(channel.unary("/p", b"b" * 100), WAIT) == b"ok"


async def test_a_silent_peer_times_out_and_its_connection_is_dropped(
    serve: Callable[..., Awaitable[H2Channel]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(etcd_h2, "_PING_TIMEOUT", 0.2)
    connections = 0

    async def silent(peer: Peer) -> None:
        nonlocal connections
        connections += 1
        await peer.reader.read()  # reads everything, answers nothing, not even PINGs

    channel = await serve(silent, silent, deadline=0.2)
    with pytest.raises(GrpcError) as err:
        await asyncio.wait_for(channel.unary("/p", b"x"), WAIT)
    assert err.value.code == StatusCode.DEADLINE_EXCEEDED
    conn = channel._conn
    assert conn is not None and not conn._streams  # the call was reset
    for _ in range(100):
        if not conn.usable:
            break
        await asyncio.sleep(0.02)
    assert not conn.usable  # the unanswered PING dropped it
    with pytest.raises(GrpcError):
        await asyncio.wait_for(channel.unary("/p", b"x"), WAIT)
    assert connections == 2


async def test_a_cancelled_call_is_reset(serve: Callable[..., Awaitable[H2Channel]]) -> None:
    reset = asyncio.get_running_loop().create_future()

    async def watching(peer: Peer) -> None:
        await peer.start()
        await peer.request()
        while True:
            kind, _, frame_stream, payload = await peer.frame()
            if kind == 0x3:
                reset.set_result((frame_stream, int.from_bytes(payload, "big")))
                return

    channel = await serve(watching)
    call = asyncio.ensure_future(channel.unary("/p", b"x"))
    await asyncio.sleep(0.1)
    call.cancel()
    assert await asyncio.wait_for(reset, WAIT) == (1, 8)  # RST_STREAM CANCEL on stream 1
    assert channel._conn is not None and not channel._conn._streams


async def test_a_lost_connection_fails_the_call_as_unavailable(
    serve: Callable[..., Awaitable[H2Channel]],
) -> None:
    async def hanging_up(peer: Peer) -> None:
        await peer.start()
        await peer.request()

    channel = await serve(hanging_up)
    with pytest.raises(GrpcError) as err:
        await asyncio.wait_for(channel.unary("/p", b"x"), WAIT)
    assert err.value.code == StatusCode.UNAVAILABLE


# -- against etcd ---------------------------------------------------------------------


@pytest.mark.etcd
async def test_large_values_and_many_concurrent_calls_against_etcd(etcd_endpoint: str) -> None:
    store = await open_storage(etcd_servers=[etcd_endpoint], key_namespace=f"/t/{uuid.uuid4()}")
    assert isinstance(store, EtcdStorage)
    try:
        big = pod("big")
        big["metadata"]["annotations"] = {"blob": "x" * 1_000_000}  # > windows and frames
        created = await store.create(pod_key("big"), big)
        assert await store.get(pod_key("big")) == created
        names = [f"p{i}" for i in range(200)]
        done = await asyncio.gather(*(store.create(pod_key(n), pod(n)) for n in names))
        got = await asyncio.gather(*(store.get(pod_key(n)) for n in names))
        assert got == done
    finally:
        await store.close()


async def test_a_stream_nobody_reads_holds_etcd_back_and_reading_releases_it(
    serve: Callable[..., Awaitable[H2Channel]],
) -> None:
    chunk = etcd_h2._message(b"m" * (256 * 1024 - 5))  # 256 KiB on the wire
    total = 40  # 10 MiB: more than the stream window and the backlog
    window_full = asyncio.Event()
    credited = sent = 0

    async def flooding(peer: Peer) -> None:
        nonlocal credited, sent
        await peer.start()
        kind, _, stream, _ = await peer.frame()
        while kind != 0x0:
            kind, _, stream, _ = await peer.frame()
        peer.send(0x1, 0x4, stream, RESPONSE_HEADERS)
        window, wire = etcd_h2._STREAM_WINDOW, chunk * total
        while wire:
            while window and wire:
                size = min(window, 16_384, len(wire))
                peer.send(0x0, 0, stream, wire[:size])
                window, wire, sent = window - size, wire[size:], sent + size
            if not window:
                window_full.set()
            kind, _, frame_stream, payload = await peer.frame()
            if kind == 0x8 and frame_stream == stream:
                credited += int.from_bytes(payload, "big")
                window += int.from_bytes(payload, "big")
        peer.send(0x1, 0x5, stream, OK_TRAILERS)
        await peer.reader.read()

    channel = await serve(flooding)
    call = channel.stream("/etcdserverpb.Watch/Watch", metadata=(), parse=bytes)
    await call.write(etcd_h2_request())
    await asyncio.wait_for(window_full.wait(), WAIT)
    await asyncio.sleep(0.3)
    held_back = credited
    await asyncio.sleep(0.2)
    # Unread: etcd got a bounded backlog's worth of credit, then no more.
    assert credited == held_back <= etcd_h2._STREAM_BACKLOG + etcd_h2._CREDIT + len(chunk)
    assert sent < len(chunk) * total
    messages = [await asyncio.wait_for(call.read(), WAIT) for _ in range(total)]
    assert messages == [chunk[5:]] * total
    assert await asyncio.wait_for(call.read(), WAIT) is grpc.aio.EOF
    assert credited > 0


def etcd_h2_request() -> Any:
    class Request:
        def SerializeToString(self) -> bytes:
            return b"watch"

    return Request()
