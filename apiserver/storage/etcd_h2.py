"""gRPC calls to etcd over one HTTP/2 connection, on the event loop itself.

grpc.aio costs about 150–180 µs of event-loop CPU per unary call here, plus the CPU of
gRPC's own I/O and completion-queue threads and a wake-up hand-off per call and per
watch response; that was the largest etcd-only cost of a pod create. A gRPC call is
small on the wire — HEADERS and DATA frames out; HEADERS, DATA and trailing HEADERS
back — so the hot requests (every create, update, delete and get) and the watch streams
go through this plain asyncio protocol instead: frames out are gathered into one
``write`` per loop iteration, frames in are parsed in ``data_received``, and a call is a
future. Paged lists and compaction stay on grpc.aio. (The library for HTTP/2 in Python,
``h2``, is pure Python and more general: the same unary Range call through it cost
~380 µs of CPU here, twice grpc.aio; this module costs 65–95 µs.)

What of HTTP/2 (RFC 9113) and gRPC it covers, and why that is enough against etcd:
cleartext with prior knowledge (etcd's ``http://`` client URLs); flow control both ways
(we honour etcd's windows for large values; our connection window is kept wide open and
a stream's window is credited as its data is consumed, so a watch nobody reads holds
etcd back); SETTINGS, PING, GOAWAY, RST_STREAM, CONTINUATION, padding and the peer's
concurrent-stream limit. Errors keep gRPC's shape (a status code and its details), so
callers translate them as before: a lost or refused connection is UNAVAILABLE, a call
past its deadline is DEADLINE_EXCEEDED (and is reset, so etcd stops working on it),
etcd's own errors come from its ``grpc-status``/``grpc-message`` trailers. A unary call
that etcd provably never processed (above a GOAWAY's last stream, or REFUSED_STREAM) is
retried once on a new connection, as gRPC does. Liveness is gRPC keepalive's: a PING
when a call's deadline passes, and every ``_KEEPALIVE`` seconds of silence while
streams are open; a connection that answers nothing within ``_PING_TIMEOUT`` is dropped,
which fails its calls and watches as UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

import grpc
from grpc import StatusCode

from . import etcd_hpack

_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types and flags (RFC 9113 §6).
_DATA, _HEADERS, _RST_STREAM, _SETTINGS, _PUSH_PROMISE = 0x0, 0x1, 0x3, 0x4, 0x5
_PING, _GOAWAY, _WINDOW_UPDATE, _CONTINUATION = 0x6, 0x7, 0x8, 0x9
_END_STREAM, _ACK, _END_HEADERS, _PADDED, _PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20

_FRAME_HEADER = struct.Struct(">BHBBI")  # 24-bit length as a byte and a short
_MAX_WINDOW = 2**31 - 1
_DEFAULT_WINDOW = 65_535
_MAX_STREAM_ID = 2**31 - 1
# What etcd may send on one stream before we credit it: what a watch nobody reads may
# buffer here, on top of what the watch itself holds.
_STREAM_WINDOW = 4 * 2**20
# A streaming call's window is credited in steps of _CREDIT (one WINDOW_UPDATE per
# step, not per response), and only while less than _STREAM_BACKLOG of complete
# messages waits unread. etcd can only be blocked with at least _STREAM_WINDOW
# uncredited, which is more than a step, so a consumer that reads always unblocks it.
_CREDIT = 2**20
_STREAM_BACKLOG = 2**20

# RST_STREAM codes → gRPC status (gRPC's HTTP/2 transport mapping).
_RST_CODES = {7: StatusCode.UNAVAILABLE, 8: StatusCode.CANCELLED, 11: StatusCode.RESOURCE_EXHAUSTED}
_REFUSED_STREAM, _CANCEL = 7, 8
# A non-200 :status → gRPC status (gRPC's HTTP mapping).
_HTTP_CODES = {
    400: StatusCode.INTERNAL,
    401: StatusCode.UNAUTHENTICATED,
    403: StatusCode.PERMISSION_DENIED,
    404: StatusCode.UNIMPLEMENTED,
    429: StatusCode.UNAVAILABLE,
    502: StatusCode.UNAVAILABLE,
    503: StatusCode.UNAVAILABLE,
    504: StatusCode.UNAVAILABLE,
}
_CODES = {code.value[0]: code for code in StatusCode}

# gRPC keepalive, as the grpc.aio channel is configured in ``etcd``.
_KEEPALIVE = 30.0
_PING_TIMEOUT = 10.0


class GrpcError(Exception):
    """A failed call: gRPC's status code and details, as etcd (or the transport) gave them.
    ``retry``: etcd never saw the call, so it is safe to send again."""

    def __init__(self, code: StatusCode, details: str, *, retry: bool = False) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.retry = retry


def _frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return _FRAME_HEADER.pack(n >> 16, n & 0xFFFF, kind, flags, stream) + payload


def _message(data: bytes) -> bytes:
    """A gRPC length-prefixed message, uncompressed."""
    return b"\x00" + len(data).to_bytes(4, "big") + data


def _timeout_header(seconds: float) -> bytes:
    millis = math.ceil(seconds * 1000)
    return f"{millis}m".encode() if millis < 10**8 else f"{math.ceil(seconds)}S".encode()


class H2Channel:
    """Calls to one etcd endpoint; connects on first use and after a loss."""

    def __init__(self, *, host: str, port: int, authority: str, timeout: float) -> None:
        self._host = host
        self._port = port
        self._timeout = timeout
        self._fixed = [(b":method", b"POST"), (b":scheme", b"http"), (b":authority", authority.encode())]
        self._grpc = [(b"content-type", b"application/grpc"), (b"te", b"trailers")]
        self._blocks: dict[str, bytes] = {}
        self._conn: _Connection | None = None
        self._connecting: asyncio.Future[_Connection] | None = None
        self._closed = False

    async def unary(self, path: str, message: bytes) -> bytes:
        """Send one request message, return the response message; raises GrpcError."""
        block = self._blocks.get(path)
        if block is None:
            block = self._blocks[path] = self.header_block(
                path, [(b"grpc-timeout", _timeout_header(self._timeout))]
            )
        for attempt in range(2):
            conn = self._conn
            if conn is None or not conn.usable:
                conn = await self.connection()
            try:
                return await conn.unary(block, _message(message), seconds=self._timeout)
            except GrpcError as e:
                if not e.retry or attempt:
                    raise
        raise AssertionError("unreachable")

    def stream(
        self, path: str, *, metadata: tuple[tuple[str, str], ...], parse: Callable[[bytes], Any]
    ) -> StreamCall:
        """A bidirectional streaming call with no deadline (a watch), opened by its first
        ``write``; responses are ``parse``d as they are read."""
        extra = [(k.encode(), v.encode()) for k, v in metadata]
        return StreamCall(channel=self, block=self.header_block(path, extra), parse=parse)

    def header_block(self, path: str, extra: list[tuple[bytes, bytes]]) -> bytes:
        return etcd_hpack.encode([*self._fixed, (b":path", path.encode()), *self._grpc, *extra])

    async def connection(self) -> _Connection:
        conn = self._conn
        if conn is not None and conn.usable:
            return conn
        if self._closed:
            raise GrpcError(StatusCode.UNAVAILABLE, "the channel is closed")
        if self._connecting is None:
            # One dial shared by every call that finds no connection; its failure is
            # each waiter's to raise, so none is left unretrieved if they all gave up.
            self._connecting = asyncio.ensure_future(self._dial())
            self._connecting.add_done_callback(lambda f: f.cancelled() or f.exception())
        connecting = self._connecting
        try:
            return await asyncio.shield(connecting)
        finally:
            if connecting.done() and self._connecting is connecting:
                self._connecting = None

    async def _dial(self) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = _Connection()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: conn, self._host, self._port), self._timeout
            )
        except TimeoutError:
            raise GrpcError(
                StatusCode.UNAVAILABLE,
                f"no connection to {self._host}:{self._port} within {self._timeout:g}s",
            ) from None
        except OSError as e:
            raise GrpcError(
                StatusCode.UNAVAILABLE, f"failed to connect to {self._host}:{self._port}: {e.strerror or e}"
            ) from None
        if self._closed:
            conn.close()
            raise GrpcError(StatusCode.UNAVAILABLE, "the channel is closed")
        old, self._conn = self._conn, conn
        if old is not None:
            old.drain()
        return conn

    def close(self) -> None:
        self._closed = True
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _Stream:
    """One HTTP/2 stream's state on our side."""

    __slots__ = ("end_after", "pending", "status", "window")

    def __init__(self, window: int) -> None:
        self.window = window  # how much we may still send on it
        self.pending = b""  # DATA waiting for flow-control window (large values only)
        self.end_after = False  # END_STREAM once ``pending`` is sent
        self.status: int | None = None  # :status once the response headers came

    def receive(self, payload: bytes) -> int:
        """Take DATA; return how much window to credit the stream with now."""
        raise NotImplementedError

    def end(self, error: GrpcError | None) -> None:
        """The stream is over: ``None`` when etcd's trailers said OK."""
        raise NotImplementedError


class _UnaryStream(_Stream):
    __slots__ = ("body", "future", "timer", "uncredited")

    def __init__(self, window: int, future: asyncio.Future[bytes]) -> None:
        super().__init__(window)
        self.future = future
        self.body = b""
        self.uncredited = 0
        self.timer: asyncio.TimerHandle | None = None

    def receive(self, payload: bytes) -> int:
        self.body = self.body + payload if self.body else payload
        # Most answers end well within the window: only a large one needs credit.
        self.uncredited += len(payload)
        if self.uncredited < _STREAM_WINDOW // 2:
            return 0
        credit, self.uncredited = self.uncredited, 0
        return credit

    def end(self, error: GrpcError | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.future.done():
            return
        body = self.body
        if error is None and (
            len(body) < 5 or body[0] != 0 or len(body) != 5 + int.from_bytes(body[1:5], "big")
        ):
            error = GrpcError(StatusCode.INTERNAL, "etcd sent a malformed or compressed response message")
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(body[5:])


class StreamCall(_Stream):
    """A streaming call, shaped like grpc.aio's (``write``, ``read``, ``cancel``), so the
    watch reads it the same way: ``read`` returns ``grpc.aio.EOF`` after an OK end and
    raises GrpcError after a failed one, once the messages before it were read."""

    __slots__ = (
        "_block",
        "_buffer",
        "_channel",
        "_conn",
        "_ended",
        "_error",
        "_held",
        "_id",
        "_messages",
        "_parse",
        "_queued",
        "_waiter",
    )

    def __init__(self, *, channel: H2Channel, block: bytes, parse: Callable[[bytes], Any]) -> None:
        super().__init__(0)
        self._channel = channel
        self._block = block
        self._parse = parse
        self._conn: _Connection | None = None
        self._id = 0
        self._buffer = b""  # an incomplete message
        self._messages: deque[bytes] = deque()
        self._queued = 0  # bytes of complete messages not yet read
        self._held = 0  # bytes received and not credited to etcd yet
        self._ended = False
        self._error: GrpcError | None = None  # how it ended, if not OK
        self._waiter: asyncio.Future[None] | None = None

    async def write(self, request: Any) -> None:
        data = _message(request.SerializeToString())
        if self._conn is None:
            conn = await self._channel.connection()
            if self._ended:
                return  # cancelled meanwhile
            self._conn = conn
            self._id = conn.open(self, self._block, data)
        else:
            self._conn.send(self._id, self, data, end=False)

    async def read(self) -> Any:
        while not self._messages:
            if self._ended:
                if self._error is None:
                    return grpc.aio.EOF
                raise self._error
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        message = self._messages.popleft()
        self._queued -= len(message) + 5
        if self._held >= _CREDIT and self._queued < _STREAM_BACKLOG and self._conn is not None:
            self._conn.credit(self._id, self._held)
            self._held = 0
        return self._parse(message)

    def cancel(self) -> bool:
        if self._ended:
            return False
        self.end(GrpcError(StatusCode.CANCELLED, "cancelled"))
        if self._conn is not None:
            self._conn.reset(self._id)
        return True

    def receive(self, payload: bytes) -> int:
        buffer = self._buffer + payload if self._buffer else payload
        pos, end = 0, len(buffer)
        while end - pos >= 5:
            size = int.from_bytes(buffer[pos + 1 : pos + 5], "big")
            if end - pos - 5 < size:
                break
            if buffer[pos] != 0:
                raise _ProtocolError("compressed gRPC message")
            self._messages.append(buffer[pos + 5 : pos + 5 + size])
            pos += 5 + size
        self._queued += pos  # a partial message is not a backlog: etcd must finish it
        self._buffer = buffer[pos:]
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        self._held += len(payload)
        if self._held >= _CREDIT and self._queued < _STREAM_BACKLOG:
            credit, self._held = self._held, 0
            return credit
        return 0

    def end(self, error: GrpcError | None) -> None:
        if self._ended:
            return
        self._ended, self._error = True, error
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class _Connection(asyncio.Protocol):
    """One HTTP/2 connection. Frames out are written once per loop iteration; frames in
    are parsed as they arrive."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._streams: dict[int, _Stream] = {}
        self._next_id = 1
        self._decoder = etcd_hpack.Decoder()
        self._headers_for: int | None = None  # stream whose header block is being continued
        self._header_flags = 0
        self._header_block = b""
        # The peer's settings and windows for what we send.
        self._max_frame = 16_384
        self._max_streams = 2**32
        self._initial_window = _DEFAULT_WINDOW
        self._send_window = _DEFAULT_WINDOW
        self._blocked: deque[int] = deque()  # streams with pending DATA, in order
        self._out: list[bytes] = []  # frames to write at the end of this loop iteration
        self._slots: deque[asyncio.Future[None]] = deque()  # calls waiting for a stream
        self._received = 0  # on the connection since the last WINDOW_UPDATE we sent
        self._goaway = False
        self._lost: GrpcError | None = None
        self._heard = True  # any frame since the last keepalive check
        self._ping_timer: asyncio.TimerHandle | None = None
        self._keepalive: asyncio.TimerHandle | None = None

    @property
    def usable(self) -> bool:
        return self._lost is None and not self._goaway and self._next_id < _MAX_STREAM_ID

    # -- asyncio.Protocol -----------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self._transport = transport
        # No push; stream windows of _STREAM_WINDOW; the connection window wide open
        # (topped up in ``_on_data``), so one unread watch never blocks the others.
        settings = struct.pack(">HIHI", 0x2, 0, 0x4, _STREAM_WINDOW)
        transport.write(
            _PREFACE
            + _frame(_SETTINGS, 0, 0, settings)
            + _frame(_WINDOW_UPDATE, 0, 0, struct.pack(">I", _MAX_WINDOW - _DEFAULT_WINDOW))
        )
        self._keepalive = self._loop.call_later(_KEEPALIVE, self._keepalive_tick)

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f"connection lost: {exc}" if exc else "connection closed by etcd"
        self._fail(GrpcError(StatusCode.UNAVAILABLE, reason))

    def data_received(self, data: bytes) -> None:
        self._heard = True
        buffer = self._buffer + data if self._buffer else data
        pos, end = 0, len(buffer)
        try:
            while end - pos >= 9:
                hi, lo, kind, flags, stream = _FRAME_HEADER.unpack_from(buffer, pos)
                length = (hi << 16) | lo
                if end - pos - 9 < length:
                    break
                payload = buffer[pos + 9 : pos + 9 + length]
                pos += 9 + length
                self._on_frame(kind, flags, stream & _MAX_STREAM_ID, payload)
        except (etcd_hpack.HpackError, _ProtocolError, struct.error, IndexError, ValueError) as e:
            self._abort(f"HTTP/2 protocol error from etcd: {e}")
            return
        self._buffer = buffer[pos:]

    # -- calls ----------------------------------------------------------------------

    async def unary(self, block: bytes, data: bytes, *, seconds: float) -> bytes:
        while len(self._streams) >= self._max_streams and self.usable:
            slot = self._loop.create_future()
            self._slots.append(slot)
            await slot
        future: asyncio.Future[bytes] = self._loop.create_future()
        stream = _UnaryStream(self._initial_window, future)
        stream_id = self._start(stream, block, data, end=True)
        stream.timer = self._loop.call_later(seconds, self._expire, stream_id)
        try:
            return await future
        except asyncio.CancelledError:
            self.reset(stream_id)
            raise

    def open(self, stream: _Stream, block: bytes, data: bytes) -> int:
        """Start a streaming call (not held to the concurrent-stream limit: watches are
        few, and etcd's limit is effectively unbounded)."""
        stream.window = self._initial_window
        return self._start(stream, block, data, end=False)

    def _start(self, stream: _Stream, block: bytes, data: bytes, *, end: bool) -> int:
        if not self.usable:
            raise self._lost or GrpcError(StatusCode.UNAVAILABLE, "connection closing", retry=True)
        stream_id = self._next_id
        self._next_id += 2
        self._streams[stream_id] = stream
        self._write(_frame(_HEADERS, _END_HEADERS, stream_id, block))
        self.send(stream_id, stream, data, end=end)
        return stream_id

    def send(self, stream_id: int, stream: _Stream, data: bytes, *, end: bool) -> None:
        if self._lost is not None:
            raise self._lost
        size = len(data)
        if (
            not stream.pending
            and not self._blocked
            and size <= min(stream.window, self._send_window, self._max_frame)
        ):
            stream.window -= size
            self._send_window -= size
            self._write(_frame(_DATA, _END_STREAM if end else 0, stream_id, data))
            return
        if not stream.pending:
            self._blocked.append(stream_id)
        stream.pending += data
        stream.end_after = end
        self._flush()

    def credit(self, stream_id: int, size: int) -> None:
        """The consumer took ``size`` bytes of a stream: etcd may send that much more."""
        if stream_id in self._streams:
            self._write(_frame(_WINDOW_UPDATE, 0, stream_id, struct.pack(">I", size)))

    def reset(self, stream_id: int) -> None:
        """Tell etcd to stop working on a stream we gave up on."""
        stream = self._streams.pop(stream_id, None)
        if stream is None:
            return
        self._write(_frame(_RST_STREAM, 0, stream_id, struct.pack(">I", _CANCEL)))
        self._release(stream, GrpcError(StatusCode.CANCELLED, "cancelled"))

    def _expire(self, stream_id: int) -> None:
        stream = self._streams.get(stream_id)
        if not isinstance(stream, _UnaryStream):
            return
        stream.timer = None
        stream.end(GrpcError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"))
        self.reset(stream_id)
        self._probe()

    def _probe(self) -> None:
        """Is anyone there? If nothing at all comes back in time, the connection is dead."""
        if self._ping_timer is None and self._lost is None:
            self._heard = False
            self._write(_frame(_PING, 0, 0, b"\x00" * 8))
            self._ping_timer = self._loop.call_later(_PING_TIMEOUT, self._ping_check)

    def _ping_check(self) -> None:
        self._ping_timer = None
        if not self._heard:
            self._abort(f"etcd answered nothing for {_PING_TIMEOUT:g}s")

    def _keepalive_tick(self) -> None:
        self._keepalive = None
        if self._lost is not None:
            return
        # Only with open streams: etcd tells clients that ping an idle connection to
        # calm down (as gRPC's keepalive_permit_without_calls=0 avoids too).
        if self._streams and not self._heard:
            self._probe()
        else:
            self._heard = False
        self._keepalive = self._loop.call_later(_KEEPALIVE, self._keepalive_tick)

    def _finish(self, stream_id: int, error: GrpcError | None) -> None:
        stream = self._streams.pop(stream_id, None)
        if stream is None:
            return
        if stream.pending and self._lost is None:
            # etcd answered before taking all of the request: it wants no more of it.
            self._write(_frame(_RST_STREAM, 0, stream_id, struct.pack(">I", _CANCEL)))
        self._release(stream, error)

    def _release(self, stream: _Stream, error: GrpcError | None) -> None:
        stream.pending = b""
        stream.end(error)
        while self._slots:
            slot = self._slots.popleft()
            if not slot.done():
                slot.set_result(None)
                break
        if self._goaway and not self._streams and self._lost is None:
            self.close()  # drained

    # -- frames in ------------------------------------------------------------------

    def _on_frame(self, kind: int, flags: int, stream_id: int, payload: bytes) -> None:
        if self._headers_for is not None and kind != _CONTINUATION:
            raise _ProtocolError("header block interrupted")
        if kind == _DATA:
            self._on_data(flags, stream_id, payload)
        elif kind == _HEADERS:
            if flags & _PADDED:
                payload = _unpad(payload)
            if flags & _PRIORITY_FLAG:
                payload = payload[5:]
            self._header_block = payload
            self._header_flags = flags
            self._headers_for = stream_id
            if flags & _END_HEADERS:
                self._on_header_block()
        elif kind == _CONTINUATION:
            if self._headers_for != stream_id:
                raise _ProtocolError("unexpected CONTINUATION")
            self._header_block += payload
            if flags & _END_HEADERS:
                self._on_header_block()
        elif kind == _RST_STREAM:
            code = int.from_bytes(payload[:4], "big")
            error = GrpcError(
                _RST_CODES.get(code, StatusCode.INTERNAL),
                f"stream reset by etcd (HTTP/2 error {code})",
                retry=code == _REFUSED_STREAM,
            )
            self._finish(stream_id, error)
        elif kind == _SETTINGS:
            if not flags & _ACK:
                self._on_settings(payload)
        elif kind == _PING:
            if not flags & _ACK:
                self._write(_frame(_PING, _ACK, 0, payload))
        elif kind == _GOAWAY:
            self._on_goaway(payload)
        elif kind == _WINDOW_UPDATE:
            increment = int.from_bytes(payload[:4], "big") & _MAX_WINDOW
            if stream_id == 0:
                self._send_window += increment
            elif (stream := self._streams.get(stream_id)) is not None:
                stream.window += increment
            if self._blocked:
                self._flush()
        elif kind == _PUSH_PROMISE:
            raise _ProtocolError("PUSH_PROMISE, which we disabled")
        # PRIORITY and unknown frame types are ignored, as RFC 9113 asks.

    def _on_data(self, flags: int, stream_id: int, payload: bytes) -> None:
        self._received += len(payload)
        if self._received >= _MAX_WINDOW // 2:
            self._write(_frame(_WINDOW_UPDATE, 0, 0, struct.pack(">I", self._received)))
            self._received = 0
        stream = self._streams.get(stream_id)
        if stream is None:
            return  # a stream we gave up on
        credit = 0
        if flags & _PADDED:
            padded, payload = len(payload), _unpad(payload)
            credit = padded - len(payload)  # padding is credited at once
        credit += stream.receive(payload)
        if credit and not flags & _END_STREAM:
            self._write(_frame(_WINDOW_UPDATE, 0, stream_id, struct.pack(">I", credit)))
        if flags & _END_STREAM:
            self._finish(stream_id, GrpcError(StatusCode.INTERNAL, "etcd ended the call without a status"))

    def _on_header_block(self) -> None:
        stream_id, flags = self._headers_for, self._header_flags
        assert stream_id is not None
        self._headers_for = None
        # Decoded whatever the stream: the decoder's table must see every block.
        headers = self._decoder.decode(self._header_block)
        self._header_block = b""
        stream = self._streams.get(stream_id)
        if stream is None:
            return
        if stream.status is None:
            fields = dict(headers)
            status = fields.get(b":status", b"")
            stream.status = int(status) if status.isdigit() else 0
            if stream.status != 200 and not flags & _END_STREAM:
                code = _HTTP_CODES.get(stream.status, StatusCode.UNKNOWN)
                self._write(_frame(_RST_STREAM, 0, stream_id, struct.pack(">I", _CANCEL)))
                self._finish(stream_id, GrpcError(code, f"etcd answered HTTP status {stream.status}"))
                return
        if flags & _END_STREAM:
            self._finish(stream_id, _trailers_error(stream.status, dict(headers)))

    def _on_settings(self, payload: bytes) -> None:
        for key, value in struct.iter_unpack(">HI", payload):
            if key == 0x3:
                self._max_streams = value
            elif key == 0x4:
                if value > _MAX_WINDOW:
                    raise _ProtocolError("initial window size too large")
                delta, self._initial_window = value - self._initial_window, value
                for stream in self._streams.values():
                    stream.window += delta
            elif key == 0x5:
                self._max_frame = value
        self._write(_frame(_SETTINGS, _ACK, 0))
        if self._blocked:
            self._flush()
        self._wake_slots()

    def _on_goaway(self, payload: bytes) -> None:
        last = int.from_bytes(payload[:4], "big") & _MAX_STREAM_ID
        self._goaway = True
        # Streams above ``last`` were never processed: unary calls are retried.
        for stream_id in [s for s in self._streams if s > last]:
            self._finish(stream_id, GrpcError(StatusCode.UNAVAILABLE, "etcd is going away", retry=True))
        self._wake_slots()
        if not self._streams:
            self.close()

    # -- frames out -----------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        # Frames wait for the end of this loop iteration: the calls a batch of answers
        # wakes send their next requests in one write (one syscall) instead of one each.
        if self._lost is None:
            self._out.append(data)
            if len(self._out) == 1:
                self._loop.call_soon(self._send_out)

    def _send_out(self) -> None:
        transport = self._transport
        if self._out and self._lost is None and transport is not None and not transport.is_closing():
            transport.write(b"".join(self._out) if len(self._out) > 1 else self._out[0])
        self._out.clear()

    def _flush(self) -> None:
        """Send pending DATA as far as the windows allow, oldest stream first."""
        waiting = 0  # streams in a row that wait for their own window
        while self._blocked and self._send_window > 0 and waiting < len(self._blocked):
            stream_id = self._blocked[0]
            stream = self._streams.get(stream_id)
            if stream is None or not stream.pending:
                self._blocked.popleft()
                continue
            size = min(len(stream.pending), stream.window, self._send_window, self._max_frame)
            if size <= 0:
                self._blocked.rotate(-1)
                waiting += 1
                continue
            waiting = 0
            chunk, stream.pending = stream.pending[:size], stream.pending[size:]
            stream.window -= size
            self._send_window -= size
            end = not stream.pending and stream.end_after
            self._write(_frame(_DATA, _END_STREAM if end else 0, stream_id, chunk))
            if not stream.pending:
                self._blocked.popleft()

    # -- ending ---------------------------------------------------------------------

    def drain(self) -> None:
        """No new calls; close once the running ones are over."""
        self._goaway = True
        if not self._streams:
            self.close()

    def close(self) -> None:
        self._fail(GrpcError(StatusCode.UNAVAILABLE, "connection closed"))

    def _abort(self, reason: str) -> None:
        transport = self._transport
        self._fail(GrpcError(StatusCode.UNAVAILABLE, reason))
        if transport is not None:
            transport.abort()

    def _fail(self, error: GrpcError) -> None:
        if self._lost is None:
            self._send_out()  # resets and the like, best effort
            self._lost = error
            if self._transport is not None:
                self._transport.close()
        for timer in (self._ping_timer, self._keepalive):
            if timer is not None:
                timer.cancel()
        self._ping_timer = self._keepalive = None
        for stream_id in list(self._streams):
            self._finish(stream_id, error)
        self._wake_slots()

    def _wake_slots(self) -> None:
        while self._slots and (self._lost is not None or len(self._streams) < self._max_streams):
            slot = self._slots.popleft()
            if not slot.done():
                slot.set_result(None)


def _trailers_error(http_status: int | None, fields: dict[bytes, bytes]) -> GrpcError | None:
    status = fields.get(b"grpc-status")
    if status is None:
        code = _HTTP_CODES.get(http_status or 0, StatusCode.UNKNOWN)
        return GrpcError(code, f"etcd answered without a gRPC status (HTTP {http_status})")
    if status == b"0":
        return None
    code = _CODES.get(int(status), StatusCode.UNKNOWN) if status.isdigit() else StatusCode.UNKNOWN
    message = fields.get(b"grpc-message")
    return GrpcError(code, unquote_to_bytes(message).decode(errors="replace") if message else "")


class _ProtocolError(Exception):
    pass


def _unpad(payload: bytes) -> bytes:
    pad = payload[0]
    if pad >= len(payload):
        raise _ProtocolError("padding longer than the frame")
    return payload[1 : len(payload) - pad]
