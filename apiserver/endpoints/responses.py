"""Writing answers straight to ASGI: objects, Status errors, Warning headers.

Resource requests are the hot path (a pod create is one of them), so responses are
sent as two ASGI messages with pre-encoded headers rather than through a framework
response class. Every error a client can cause becomes a Kubernetes ``Status`` with its
HTTP code; anything unexpected becomes an InternalError Status and a server-side log
line with the traceback — never a traceback on the wire.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from kube.errors import InternalError, StatusError

logger = logging.getLogger("apiserver")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON = b"application/json"
_CACHE_CONTROL = (b"cache-control", b"no-cache, private")
# Kubernetes truncates Warning headers; we cap their number and size the same way.
_MAX_WARNINGS = 32
_MAX_WARNING_LENGTH = 4096


def warning_headers(warnings: Iterable[str]) -> Headers:
    """``Warning: 299 - "text"`` headers, as Kubernetes' warning recorder writes them."""
    out: Headers = []
    for text in warnings:
        if len(out) >= _MAX_WARNINGS:
            break
        text = text[:_MAX_WARNING_LENGTH].replace("\\", "\\\\").replace('"', '\\"')
        # Header values are ASCII; anything else is escaped rather than mangled.
        value = ('299 - "' + text + '"').encode("ascii", "backslashreplace")
        out.append((b"warning", value))
    return out


async def send_bytes(
    send: Send,
    *,
    status: int,
    body: bytes,
    content_type: bytes = JSON,
    headers: Headers | None = None,
) -> None:
    raw: Headers = [
        (b"content-type", content_type),
        (b"content-length", b"%d" % len(body)),
        _CACHE_CONTROL,
    ]
    if headers:
        raw.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def status_of(err: BaseException) -> StatusError:
    """The Status to answer for ``err``; unexpected errors are logged with their traceback."""
    if isinstance(err, StatusError):
        return err
    logger.error("internal error serving a request", exc_info=err)
    return InternalError.of(f"{type(err).__name__}: {err}")


async def send_status(send: Send, err: BaseException, *, headers: Headers | None = None) -> int:
    """Answer with the Status of ``err``; returns the HTTP code sent."""
    status = status_of(err)
    extra: Headers = list(headers or ())
    retry = status.details.retry_after_seconds
    if retry:
        extra.append((b"retry-after", str(retry).encode()))
    await send_bytes(send, status=status.code, body=status.to_json(), headers=extra)
    return status.code
