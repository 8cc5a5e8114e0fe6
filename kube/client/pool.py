"""Keep-alive HTTP/1.1 connections to the API server, and when a failed one may be retried.

Each request in flight holds one connection (HTTP/1.1 has no multiplexing), and every
watch holds one for minutes, so the pool is unbounded; at most ``max_idle`` are kept
between requests, each for at most ``idle_timeout`` seconds (client-go keeps idle
connections 90 s; our API server closes them after 120 s, so we normally hang up first).

A reused connection can still turn out dead: the server may close an idle connection
just as we send on it. Then whether to resend on a fresh one follows Go's
``net/http`` transport: always when nothing could have reached the server (the
connection was already closed when we picked it), otherwise only for a request that is
safe to repeat (``replayable``: GET, PUT, DELETE, ...). A POST that met a closed
connection is reported as a failure, since the server might have acted on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time

import httpx

from kube.client.http1 import HEAD_END, Head, parse_head

MAX_IDLE = 32
IDLE_TIMEOUT = 90.0
STREAM_LIMIT = 2**20
"""The longest line (a chunk-size or header line) the reader buffers."""
Key = tuple[str, int]


class Conn:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Pool:
    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None,
        max_idle: int = MAX_IDLE,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.ssl_context = ssl_context
        self.max_idle = max_idle
        self.idle_timeout = idle_timeout
        self.opened = 0
        """Connections opened so far (tests check reuse with it)."""
        self._idle: dict[Key, list[Conn]] = {}
        self._closed = False

    def take(self, key: Key) -> Conn | None:
        """The most recently used idle connection that still looks alive."""
        idle = self._idle.get(key)
        if not idle:
            return None
        expired = time.monotonic() - self.idle_timeout
        while idle:
            conn = idle.pop()
            if conn.idle_since > expired and conn.usable():
                return conn
            conn.close()
        return None

    def release(self, key: Key, conn: Conn) -> None:
        idle = self._idle.setdefault(key, [])
        if self._closed or len(idle) >= self.max_idle or not conn.usable():
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    async def connect(self, key: Key, *, sni: str | None, connect_timeout: float | None) -> Conn:
        tls = self.ssl_context if sni is not None else None
        try:
            async with asyncio.timeout(connect_timeout):
                reader, writer = await asyncio.open_connection(
                    key[0], key[1], ssl=tls, server_hostname=sni, limit=STREAM_LIMIT
                )
        except TimeoutError as err:
            raise httpx.ConnectTimeout(f"timed out connecting to {key[0]}:{key[1]}") from err
        except (OSError, ssl.SSLError) as err:
            raise httpx.ConnectError(str(err) or type(err).__name__) from err
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Requests are small and answered at once: never wait for Nagle's algorithm.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.opened += 1
        return Conn(reader, writer)

    async def exchange(
        self,
        key: Key,
        payload: bytes,
        *,
        method: str,
        sni: str | None,
        replayable: bool,
        connect_timeout: float | None,
    ) -> tuple[Conn, Head]:
        """Send ``payload`` and read the response head; the caller reads the body and
        then releases or closes the connection."""
        conn = self.take(key)
        reused = conn is not None
        while True:
            if conn is None:
                conn = await self.connect(key, sni=sni, connect_timeout=connect_timeout)
            try:
                conn.writer.write(payload)
                await conn.writer.drain()
                try:
                    data = await conn.reader.readuntil(HEAD_END)
                except asyncio.IncompleteReadError as err:
                    if err.partial:
                        raise httpx.RemoteProtocolError("the server closed the connection mid-head") from err
                    raise ConnectionResetError("the server closed the connection without answering") from err
                return conn, parse_head(data, method=method)
            except (ConnectionError, OSError) as err:
                conn.close()
                if reused and replayable:
                    conn, reused = None, False  # once, on a fresh connection
                    continue
                raise httpx.ReadError(str(err) or type(err).__name__) from err
            except ValueError as err:  # a head longer than STREAM_LIMIT
                conn.close()
                raise httpx.RemoteProtocolError(f"malformed response: {err}") from err
            except BaseException:
                conn.close()
                raise

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
