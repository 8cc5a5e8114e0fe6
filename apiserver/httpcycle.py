"""One HTTP/1.1 request and its response on uvicorn's httptools protocol, written in one piece.

uvicorn writes a response's head (status line and headers) to the transport as soon as
the app sends ``http.response.start``, and the body with the next message. Over TLS
each write is its own TLS record, encryption call and ``send`` system call: about
15 µs of the event loop's time per write here, for a pod create that costs ~1 ms in
all. ``Cycle`` holds the head of a fixed-length response (``content-length``, which
every resource response has) until its first body message and writes both together.

Responses without a length (chunked: watch streams, ``logs -f``) get their head at
once, as before, because the client waits for it before the first event — and because
the watch fan-out writes chunks straight to the transport after ``http.response.start``
(``apiserver.tls.TRANSPORT_EXTENSION``), which is only right if the head went first.

Everything else is uvicorn's behaviour (0.54): header validation, ``connection:
close``, chunked framing, HEAD, length accounting, flow control, the keep-alive
callback, pipelined requests.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any

import httptools
from uvicorn.protocols.http.flow_control import FlowControl, service_unavailable
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    RequestResponseCycle,
)
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from apiserver.limits import HeaderLimitedHttpTools

_lines: dict[tuple[bytes, bytes], bytes] = {}
"""Header lines already checked and formatted, by the (name, value) pair the app sent:
most headers repeat on every response (content-type, cache-control, the date). The
framing headers (content-length, transfer-encoding, connection) steer the cycle and are
never kept; the table is emptied when full, so one-off values (audit IDs) cannot grow it."""
_LINES_MAX = 512
_names: set[bytes] = set()
"""Header names already checked (at most ``_LINES_MAX``): audit IDs, content lengths
and the like change with every response, their names do not."""
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection"})


def _nothing() -> None:
    return None


class Cycle(RequestResponseCycle):
    """uvicorn's request/response cycle; a fixed-length response leaves in one write."""

    _head: bytes | None = None
    # uvicorn's initial per-request state, as class defaults (assignment shadows them per
    # instance): a cycle is built for every request.
    disconnected = False
    more_body = True
    response_started = False
    response_complete = False
    chunked_encoding: bool | None = None
    expected_content_length = 0

    def __init__(
        self,
        scope: Any,
        transport: asyncio.Transport,
        flow: FlowControl,
        logger: logging.Logger,
        access_logger: logging.Logger,
        access_log: bool,
        default_headers: list[tuple[bytes, bytes]],
        message_event: asyncio.Event,
        expect_100_continue: bool,
        keep_alive: bool,
        on_response: Callable[..., None],
    ) -> None:
        # RequestResponseCycle.__init__ minus what the class defaults above give.
        self.scope = scope
        self.transport = transport
        self.flow = flow
        self.logger = logger
        self.access_logger = access_logger
        self.access_log = access_log
        self.default_headers = default_headers
        self.message_event = message_event
        self.on_response = on_response
        self.keep_alive = keep_alive
        self.waiting_for_100_continue = expect_100_continue
        self.body = bytearray()

    async def run_asgi(self, app: Any) -> None:
        # uvicorn's, without a new lambda per request.
        try:
            result = await app(self.scope, self.receive, self.send)
        except BaseException as exc:
            self.logger.error("Exception in ASGI application\n", exc_info=exc)
            if not self.response_started:
                await self.send_500_response()
            else:
                self.transport.close()
        else:
            if result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
                self.transport.close()
            elif not self.response_started and not self.disconnected:
                self.logger.error("ASGI callable returned without starting response.")
                await self.send_500_response()
            elif not self.response_complete and not self.disconnected:
                self.logger.error("ASGI callable returned without completing response.")
                self.transport.close()
        finally:
            self.on_response = _nothing

    async def send(self, message: Any) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        if not self.response_started:
            self._start(message)
            return
        if self.response_complete:
            raise RuntimeError(
                f"Unexpected ASGI message '{message['type']}' sent, after response already completed."
            )
        if message["type"] != "http.response.body":
            raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{message['type']}'.")
        body = message.get("body", b"")
        more_body = message.get("more_body", False)
        head, self._head = self._head, None
        if self.scope["method"] == "HEAD":
            self.expected_content_length = 0
        elif self.chunked_encoding:
            content = [b"%x\r\n" % len(body), body, b"\r\n"] if body else []
            if not more_body:
                content.append(b"0\r\n\r\n")
            self.transport.write(b"".join(content))
        else:
            size = len(body)
            if size > self.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            self.expected_content_length -= size
            if head is not None:
                self.transport.write(head + body)
            elif size:
                self.transport.write(body)
        if not more_body:
            if self.expected_content_length != 0:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.message_event.set()
            if not self.keep_alive:
                self.transport.close()
            self.on_response()

    def _start(self, message: Any) -> None:
        if message["type"] != "http.response.start":
            raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{message['type']}'.")
        self.response_started = True
        self.waiting_for_100_continue = False
        status_code = message["status"]
        scope = self.scope
        if self.access_log:
            self.access_logger.info(
                '%s - "%s %s HTTP/%s" %d',
                get_client_addr(scope),
                scope["method"],
                get_path_with_query_string(scope),
                scope["http_version"],
                status_code,
            )
        content = [STATUS_LINE[status_code]]
        has_connection_close = False
        lines = _lines
        for headers in (self.default_headers, message.get("headers", ())):
            for pair in headers:
                try:
                    line = lines.get(pair)
                except TypeError:  # a list, or bytearrays: checked every time
                    line = None
                if line is not None:
                    content.append(line)
                    continue
                name, value = pair
                if name not in _names:
                    if HEADER_RE.search(name):
                        raise RuntimeError("Invalid HTTP header name.")
                    if len(_names) < _LINES_MAX:
                        _names.add(name)
                if not value.isdigit() and HEADER_VALUE_RE.search(value):  # digits: content-length
                    raise RuntimeError("Invalid HTTP header value.")
                name = name.lower()
                line = b"".join((name, b": ", value, b"\r\n"))
                if name not in _FRAMING:
                    if type(pair) is tuple and type(name) is bytes and type(value) is bytes:
                        if len(lines) >= _LINES_MAX:
                            lines.clear()
                        lines[pair] = line
                elif name == b"content-length":
                    if self.chunked_encoding is None:
                        self.expected_content_length = int(value.decode())
                        self.chunked_encoding = False
                elif name == b"transfer-encoding":
                    if value.lower() == b"chunked":
                        self.expected_content_length = 0
                        self.chunked_encoding = True
                else:  # connection
                    connection = [token.lower().strip() for token in value.split(b",")]
                    if b"close" in connection:
                        self.keep_alive = False
                        has_connection_close = True
                content.append(line)
        if not self.keep_alive and not has_connection_close:
            content.append(b"connection: close\r\n")
        if self.chunked_encoding is None and scope["method"] != "HEAD" and status_code not in (204, 304):
            self.chunked_encoding = True  # neither content-length nor transfer-encoding given
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        head = b"".join(content)
        if self.chunked_encoding is False and self.expected_content_length > 0 and scope["method"] != "HEAD":
            self._head = head  # goes out with the body
        else:
            self.transport.write(head)


class CycleHttpTools(HeaderLimitedHttpTools):
    """The httptools protocol (with the header bound) serving each request with a ``Cycle``.

    Two things uvicorn does per request are done per connection instead:

    - ``scope_extensions`` (set by ``apiserver.tls`` once the handshake is done) are
      copied into each request's scope as it is built, rather than by an app wrapper;
    - the keep-alive timer is armed once and re-armed lazily: a response records when
      the connection fell idle, data arriving marks it busy, and the timer, when it
      fires, closes the connection only if it has been idle for ``timeout_keep_alive``
      (else it waits out the rest). uvicorn cancels and creates a timer per request.
    """

    scope_extensions: dict[str, Any] | None = None
    _idle_since: float | None = None
    """loop.time() of the last response while no request is in progress, else None."""

    def on_message_begin(self) -> None:
        # uvicorn's, plus the header counter's reset and the connection's extensions.
        self._head_bytes = 0
        self.url = b""
        self.expect_100_continue = False
        self.headers = []
        scope: Any = {
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": "1.1",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "root_path": self.root_path,
            "headers": self.headers,
            "state": self.app_state.copy(),
        }
        extensions = self.scope_extensions
        if extensions is not None:
            scope["extensions"] = extensions.copy()
        self.scope = scope

    def _unset_keepalive_if_required(self) -> None:
        self._idle_since = None  # busy: an armed timer finds out when it fires

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        flow = self.flow
        if flow.read_paused:
            flow.resume_reading()
        if self.pipeline:
            self._idle_since = None
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self._keep_alive_due)

    def _keep_alive_due(self) -> None:
        self.timeout_keep_alive_task = None
        idle_since = self._idle_since
        if idle_since is None:
            return  # a request is in progress; its response arms the timer again
        left = idle_since + self.timeout_keep_alive - self.loop.time()
        if left > 0:
            self.timeout_keep_alive_task = self.loop.call_later(left, self._keep_alive_due)
        else:
            self.timeout_keep_alive_handler()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        timer, self.timeout_keep_alive_task = self.timeout_keep_alive_task, None
        if timer is not None:
            timer.cancel()

    def on_headers_complete(self) -> None:
        # uvicorn's on_headers_complete, with Cycle in place of RequestResponseCycle.
        parser = self.parser
        http_version = parser.get_http_version()
        scope: Any = self.scope
        scope["method"] = parser.get_method().decode("ascii")
        if http_version != "1.1":
            scope["http_version"] = http_version
        if parser.should_upgrade() and self._should_upgrade():
            return
        parsed_url = httptools.parse_url(self.url)
        raw_path = parsed_url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        root_path = self.root_path
        scope["path"] = root_path + path if root_path else path
        scope["raw_path"] = root_path.encode("ascii") + raw_path if root_path else raw_path
        scope["query_string"] = parsed_url.query or b""
        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            app: Any = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        else:
            app = self.app
        existing_cycle = self.cycle
        self.cycle = Cycle(
            scope,
            self.transport,
            self.flow,
            self.logger,
            self.access_logger,
            self.access_log,
            self.server_state.default_headers,
            asyncio.Event(),
            self.expect_100_continue,
            http_version != "1.0" and parser.should_keep_alive(),
            self.on_response_complete,
        )
        if existing_cycle is None or existing_cycle.response_complete:
            self._start_asgi_task(self.cycle, app)
        else:
            # Pipelined requests wait for the one before.
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, app))
