"""Turning an HTTP answer into the typed error it stands for.

Callers branch on error types (``except NotFound``, ``except Conflict``), never on
status codes, so every non-2xx answer becomes a :class:`kube.errors.StatusError`. A
Kubernetes server sends a ``Status`` body and we rebuild exactly that error; anything
else (a proxy's HTML 502, an empty 404 from a wrong path) gets an error of the class
for its code with a message built as client-go's ``NewGenericServerResponse`` does,
so the caller still sees the code, the verb and a readable excerpt of the body.

Failures below HTTP (refused connection, TLS, reset) become :class:`TransportError`,
so code above the client never has to know that httpx exists.
"""

from __future__ import annotations

from typing import Any

import orjson

from kube.errors import Details, StatusError

_BODY_EXCERPT = 200

_GENERIC = {
    400: "the server rejected our request for an unknown reason",
    401: "the server has asked for the client to provide credentials",
    403: "the server does not allow access to the requested resource",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    409: "the server reported a conflict",
    410: "the server has asked for the client to relist",
    413: "the server has rejected the request because it is too large",
    415: "the server does not support the media type of the request",
    422: "the server rejected our request due to an error in our request",
    429: "the server has received too many requests and has asked us to try again later",
    500: "an error on the server has prevented the request from succeeding",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be processing the request",
}


class TransportError(Exception):
    """The request never got an HTTP answer (after any retries)."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(f"{method} {url}: {message}")
        self.method = method
        self.url = url


def parse_body(content: bytes) -> Any:
    try:
        return orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return None


def error_from_response(
    *, status_code: int, content: bytes, method: str, resource: str = "", name: str = ""
) -> StatusError:
    body = parse_body(content)
    if isinstance(body, dict) and body.get("kind") == "Status":
        return StatusError.from_status(body, http_code=status_code)
    message = _GENERIC.get(status_code) or "an error on the server has prevented the request from succeeding"
    excerpt = content[:_BODY_EXCERPT].decode("utf-8", "replace").strip()
    if excerpt:
        message = (
            f"{message} ({method.lower()} {resource or 'resource'}{' ' + name if name else ''}): {excerpt}"
        )
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "code": status_code,
        "details": Details(name=name, kind=resource).to_dict() or None,
    }
    return StatusError.from_status(status, http_code=status_code)
