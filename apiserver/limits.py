"""Bounds on what one request may cost, so no client can exhaust the server.

- **Header size**: the request line plus headers may not exceed 1 MiB (Go's
  ``http.DefaultMaxHeaderBytes``, which kube-apiserver uses). uvicorn's httptools
  protocol has no limit at all, so ``HeaderLimitedHttpTools`` counts bytes as the parser
  reports them and answers ``431`` before the rest is read; h11 is configured with
  the same bound (it answers 400).
- **Body size**: 3 MiB, enforced while reading (``apiserver.endpoints.call``).
- **Nesting depth**: JSON and YAML bodies may nest at most ``MAX_DEPTH`` levels. Go's
  decoders allow 10,000, but here objects are processed recursively (defaults,
  validation, merge patches) and orjson encodes at most 255 levels, so the bound is
  well below both and far above any real manifest; a deeper body is a 400 before
  anything recursive touches it.
- **JSON patch length**: at most 10,000 operations (Kubernetes' bound), else 413.
- **Time**: every request except long-running ones (watch, proxy, exec, attach,
  port-forward, logs) ends after ``--request-timeout`` (or a shorter ``?timeout=``)
  with a 504 Timeout Status.
- **Concurrency**: each user may have at most ``--max-requests-inflight`` read-only and
  ``--max-mutating-requests-inflight`` mutating requests in flight; the next one gets 429
  "Too many requests, please try again later." with ``Retry-After: 1``. Long-running
  requests do not count, and ``system:masters`` is exempt, as in kube-apiserver.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import httptools
import orjson
import yaml
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kube.errors import BadRequest, TooLarge, TooManyRequests

MAX_HEADER_BYTES = 1 << 20
MAX_BODY_BYTES = 3 * 1024 * 1024
MAX_DEPTH = 100
MAX_JSON_PATCH_OPERATIONS = 10_000
TOO_MANY_REQUESTS = "Too many requests, please try again later."
LONG_RUNNING_VERBS = frozenset({"watch", "proxy"})
LONG_RUNNING_SUBRESOURCES = frozenset({"attach", "exec", "proxy", "log", "portforward"})
MUTATING_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
_JSON_TYPES = frozenset(
    {
        "",
        "application/json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/json-patch+json",
    }
)
_YAML_TYPES = frozenset({"application/yaml", "application/apply-patch+yaml"})


# -- headers -------------------------------------------------------------------------------


_HEADER_TOO_LARGE = orjson.dumps(
    {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"request header fields too large: the request line and headers may not exceed {MAX_HEADER_BYTES} bytes",
        "reason": "RequestHeaderFieldsTooLarge",
        "code": 431,
    }
)


class HeaderLimitedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on the request head."""

    _head_bytes = 0
    _head_refused = False

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        super().on_message_begin()

    def _refuse(self) -> None:
        self._head_refused = True
        raise ValueError("request head too large")  # httptools turns it into a parser error

    # uvicorn's on_url and on_header, counting as they go (inlined: they run for every header).
    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        if self._head_bytes > MAX_HEADER_BYTES:
            self._refuse()
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > MAX_HEADER_BYTES:
            self._refuse()
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def data_received(self, data: bytes) -> None:
        if self._head_refused:
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._head_refused:
                head = (
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\nconnection: close\r\n\r\n" % len(_HEADER_TOO_LARGE)
                )
                self.transport.write(head + _HEADER_TOO_LARGE)
                self.transport.close()
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()


# -- bodies ----------------------------------------------------------------------------------


def _depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item if isinstance(v, (dict, list)))
    return deepest


def _yaml_depth(body: bytes) -> int:
    """Depth from the YAML event stream: PyYAML's parser is iterative (its composer,
    which decoding uses, recurses and would overflow the stack on a deep document)."""
    depth = deepest = 0
    try:
        for event in yaml.parse(body, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                deepest = max(deepest, depth)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return 0  # malformed: decoding reports it properly
    return deepest


def _too_deep() -> BadRequest:
    return BadRequest(
        f"the request body nests deeper than {MAX_DEPTH} levels, which this server does not accept"
    )


def check_body(*, content_type: str, body: bytes) -> None:
    """Raise the Status for a body that breaks a limit; decoding errors are left to the
    handler (which reports them in context)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _JSON_TYPES or (media in _YAML_TYPES and body.lstrip()[:1] in (b"{", b"[")):
        # Fewer brackets than the limit cannot nest deeper than it: no parse needed.
        if body.count(b"[") + body.count(b"{") > MAX_DEPTH or media == "application/json-patch+json":
            try:
                value = orjson.loads(body)
            except orjson.JSONDecodeError:
                if media in _YAML_TYPES and _yaml_depth(body) > MAX_DEPTH:
                    raise _too_deep() from None
                return
            if _depth(value) > MAX_DEPTH:
                raise _too_deep()
            if media == "application/json-patch+json" and isinstance(value, list):
                if len(value) > MAX_JSON_PATCH_OPERATIONS:
                    raise TooLarge(
                        f"The allowed count of operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, "
                        f"but the request has {len(value)} operations"
                    )
    elif media in _YAML_TYPES and _yaml_depth(body) > MAX_DEPTH:
        raise _too_deep()


def checked_receive(receive: Callable[[], Any], *, content_type: str) -> Callable[[], Any]:
    """A ``receive`` that reads the whole body on the handler's first call (up to the
    size limit), checks it, and hands it over in one message. Checking lazily keeps the
    order Kubernetes has: authentication and authorization answer first."""
    state: dict[str, Any] = {"done": False}

    async def receive_checked() -> Any:
        if state["done"]:
            return await receive()
        state["done"] = True
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise TooLarge.of(limit=MAX_BODY_BYTES)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if body:
            check_body(content_type=content_type, body=body)
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_checked


# -- time and concurrency --------------------------------------------------------------------

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_timeout(text: str) -> float | None:
    """A Go duration (``5s``, ``1m30s``) from ``?timeout=``; None when unparseable."""
    if not text:
        return None
    total, pos = 0.0, 0
    for match in _GO_DURATION.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return total if pos == len(text) and pos else None


def is_long_running(*, verb: str, subresource: str) -> bool:
    return verb in LONG_RUNNING_VERBS or subresource in LONG_RUNNING_SUBRESOURCES


class InFlightLimiter:
    """Per-user counters of requests in flight, read-only and mutating apart."""

    def __init__(self, *, readonly: int, mutating: int) -> None:
        self.readonly = readonly
        self.mutating = mutating
        self._counts: dict[tuple[str, bool], int] = {}

    def acquire(self, *, user: str, mutating: bool) -> Callable[[], None]:
        """Take a slot or raise TooManyRequests; returns the release function."""
        limit = self.mutating if mutating else self.readonly
        key = (user, mutating)
        current = self._counts.get(key, 0)
        if limit > 0 and current >= limit:
            raise TooManyRequests.of(message=TOO_MANY_REQUESTS, retry_after=1)
        self._counts[key] = current + 1

        def release() -> None:
            left = self._counts.get(key, 1) - 1
            if left > 0:
                self._counts[key] = left
            else:
                self._counts.pop(key, None)

        return release

    def in_flight(self, user: str) -> int:
        return self._counts.get((user, False), 0) + self._counts.get((user, True), 0)


async def with_timeout(awaitable: Any, seconds: float) -> Any:
    async with asyncio.timeout(seconds):
        return await awaitable
