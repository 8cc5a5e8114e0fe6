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
import urllib.parse
from typing import Any

import httptools
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    RequestResponseCycle,
)
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from apiserver.limits import HeaderLimitedHttpTools

_valid_names: set[bytes] = set()
"""Header names already checked: apps send the same few names on every response."""


def _check_name(name: bytes) -> None:
    if name not in _valid_names:
        if HEADER_RE.search(name):
            raise RuntimeError("Invalid HTTP header name.")
        if len(_valid_names) < 1024:
            _valid_names.add(name)


class Cycle(RequestResponseCycle):
    """uvicorn's request/response cycle; a fixed-length response leaves in one write."""

    _head: bytes | None = None

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
        for headers in (self.default_headers, message.get("headers", ())):
            for name, value in headers:
                _check_name(name)
                if HEADER_VALUE_RE.search(value):
                    raise RuntimeError("Invalid HTTP header value.")
                name = name.lower()
                if name == b"content-length" and self.chunked_encoding is None:
                    self.expected_content_length = int(value.decode())
                    self.chunked_encoding = False
                elif name == b"transfer-encoding" and value.lower() == b"chunked":
                    self.expected_content_length = 0
                    self.chunked_encoding = True
                elif name == b"connection":
                    connection = [token.lower().strip() for token in value.split(b",")]
                    if b"close" in connection:
                        self.keep_alive = False
                        has_connection_close = True
                content.extend((name, b": ", value, b"\r\n"))
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
    """The httptools protocol (with the header bound) serving each request with a ``Cycle``."""

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
            scope=scope,
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=self.expect_100_continue,
            keep_alive=http_version != "1.0" and parser.should_keep_alive(),
            on_response=self.on_response_complete,
        )
        if existing_cycle is None or existing_cycle.response_complete:
            self._start_asgi_task(self.cycle, app)
        else:
            # Pipelined requests wait for the one before.
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, app))
