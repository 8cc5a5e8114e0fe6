"""One resource request in flight: what was asked, of which store, and how to answer.

A ``Call`` is built once by the dispatcher and handed to the verb handler, so that no
handler re-parses headers or the URL. Reading the body lives here too, because its
size limit (3 MiB, as kube-apiserver) must be enforced while reading, not after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apiserver import negotiation
from apiserver.negotiation import DEFAULT_OUTPUT, Output
from apiserver.registry import API, Context, ResourceStore
from apiserver.requestinfo import RequestInfo
from kube.errors import TooLarge
from kube.resources import ResourceInfo

from .params import WriteOptions, write_options
from .responses import JSON, Headers, Receive, Scope, Send, send_bytes, warning_headers

MAX_BODY_BYTES = 3 * 1024 * 1024


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


@dataclass(slots=True, kw_only=True)
class Call:
    scope: Scope
    receive: Receive
    send: Send
    request: RequestInfo
    info: ResourceInfo
    store: ResourceStore | None
    """None for resources that are answered, not stored (reviews, bindings)."""
    api: API
    query: dict[str, str]
    headers: dict[bytes, bytes]
    output: Output
    ctx: Context
    status: int = 0
    extra_headers: Headers = field(default_factory=list)

    def header(self, name: bytes) -> str:
        return self.headers.get(name, b"").decode("latin-1")

    @property
    def content_type(self) -> str:
        return self.header(b"content-type")

    @property
    def include_object(self) -> str | None:
        return self.query.get("includeObject", "Metadata")

    def dry_run_values(self) -> list[str]:
        value = self.query.get("dryRun")
        return [value] if value is not None else []

    def apply_write_options(self, *, kind: str, apply: bool = False) -> WriteOptions:
        options = write_options(
            self.query,
            dry_run=self.dry_run_values(),
            user_agent=self.header(b"user-agent"),
            kind=kind,
            apply=apply,
        )
        ctx = self.ctx
        ctx.dry_run = options.dry_run
        ctx.field_manager = options.field_manager
        ctx.field_validation = options.field_validation
        return options

    async def body(self) -> bytes:
        declared = self.headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise TooLarge.of(limit=MAX_BODY_BYTES)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise TooLarge.of(limit=MAX_BODY_BYTES)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def decoded_body(self) -> Any:
        return negotiation.decode_body(content_type=self.content_type, body=await self.body())

    async def respond(self, status: int, body: Any) -> int:
        """Send ``body`` (a JSON-able value) encoded as negotiated."""
        self.status = status
        output = self.output
        headers: Headers | None = None
        if self.ctx.warnings or self.extra_headers:
            headers = warning_headers(self.ctx.warnings) if self.ctx.warnings else []
            headers.extend(self.extra_headers)
        await send_bytes(
            self.send,
            status=status,
            body=output.encode(body),
            content_type=JSON if output is DEFAULT_OUTPUT else output.content_type.encode(),
            headers=headers,
        )
        return status
