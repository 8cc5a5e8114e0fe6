"""HTTP/1.1 message framing for the client's own transport: request heads out, response
heads and bodies in.

Only what an API server client needs: ``Content-Length`` and chunked bodies (watches
are long chunked responses), bodies that run until the server closes, and the few
headers that decide whether a connection can be reused. Failures are raised as
``httpx`` transport errors, the vocabulary :mod:`kube.client.retry` decides on, so
the client treats its own transport and an injected ``httpx`` one alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

READ_SIZE = 65536
HEAD_END = b"\r\n\r\n"


@dataclass(slots=True)
class Head:
    """A response's status line and headers (names lower-cased; a repeated header keeps
    its last value, enough for the headers an API server sends)."""

    status: int
    headers: dict[str, str]
    length: int | None
    chunked: bool
    keep_alive: bool

    @property
    def reusable(self) -> bool:
        """Whether the connection can carry another request once this body is read."""
        return self.keep_alive and (self.length is not None or self.chunked)


def encode_request(
    method: str, target: str, headers: str, content: bytes | None, content_type: str | None
) -> bytes:
    """``headers`` is the client's fixed header block, each line ending in CRLF."""
    if content is None:
        return f"{method} {target} HTTP/1.1\r\n{headers}\r\n".encode("latin-1")
    head = (
        f"{method} {target} HTTP/1.1\r\n{headers}"
        f"Content-Type: {content_type or 'application/json'}\r\nContent-Length: {len(content)}\r\n\r\n"
    )
    return head.encode("latin-1") + content


def parse_head(data: bytes, *, method: str) -> Head:
    """A response head: the status line and header lines, each ending in CRLF, up to and
    including the empty line (read in one call: a read per header line costs more than
    the parsing)."""
    lines = data.split(b"\r\n")
    status_line = lines[0]
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise httpx.RemoteProtocolError(f"malformed status line {status_line[:80]!r}")
    status, keep_alive = int(parts[1]), parts[0] != b"HTTP/1.0"
    headers: dict[str, str] = {}
    length: int | None = None
    chunked = False
    for line in lines[1:]:
        if not line:
            continue  # the empty line that ends the head
        name, sep, value = line.partition(b":")
        if not sep:
            raise httpx.RemoteProtocolError(f"malformed header line {line[:80]!r}")
        key = name.strip().lower().decode("latin-1")
        text = value.strip().decode("latin-1")
        headers[key] = text
        if key == "content-length":
            if not text.isdigit():
                raise httpx.RemoteProtocolError(f"malformed Content-Length {text[:40]!r}")
            length = int(text)
        elif key == "transfer-encoding":
            chunked = "chunked" in text.lower()
        elif key == "connection":
            keep_alive = text.lower() != "close"
    if chunked:
        length = None  # chunked framing wins over a stray Content-Length (RFC 9112 §6.3)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        length, chunked = 0, False
    return Head(status, headers, length, chunked, keep_alive)


async def iter_body(reader: asyncio.StreamReader, head: Head) -> AsyncIterator[bytes]:
    """The body's bytes as they arrive. The iterator ends only when the body was read
    whole (an until-close body ends with the connection); a body cut short raises."""
    try:
        if head.chunked:
            while True:
                size_line = await reader.readline()
                if not size_line:
                    raise httpx.RemoteProtocolError(
                        "the server closed the connection in the middle of a chunked body"
                    )
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass  # trailers: none of them matter to us
                    return
                data = await reader.readexactly(size + 2)
                yield data[:-2]
        elif head.length is not None:
            remaining = head.length
            while remaining > 0:
                data = await reader.read(min(remaining, READ_SIZE))
                if not data:
                    raise httpx.RemoteProtocolError(
                        "the server closed the connection before the whole body arrived"
                    )
                remaining -= len(data)
                yield data
        else:
            while data := await reader.read(READ_SIZE):
                yield data
    except asyncio.IncompleteReadError as err:
        raise httpx.RemoteProtocolError(f"incomplete response body: {err}") from err
    except ValueError as err:
        raise httpx.RemoteProtocolError(f"malformed chunked body: {err}") from err
    except (ConnectionError, OSError) as err:
        raise httpx.ReadError(str(err) or type(err).__name__) from err
