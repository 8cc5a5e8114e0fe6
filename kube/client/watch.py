"""A watch as an async iterator of events, read from the server's chunked JSON lines.

The API server answers ``?watch=true`` with one JSON object per line and keeps the
response open. Two things make reading it more than ``aiter_lines``:

- an ``ERROR`` event carries a ``Status`` (410 Expired when the requested
  resourceVersion has been compacted away); we raise the typed error so a reflector
  can ``except Expired`` and relist, instead of every caller parsing Status objects;
- the stream holds a pooled connection, so it must be closed when the consumer stops
  early. :class:`WatchStream` is an async context manager and has ``aclose``; breaking
  out of ``async with client.watch(...) as events`` returns the connection at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import httpx
import orjson

from kube.client.errors import TransportError
from kube.errors import InternalError, StatusError

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"
BOOKMARK = "BOOKMARK"
ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: str
    object: dict[str, Any]


def decode_event(line: bytes | str) -> WatchEvent:
    """One line of a watch stream; an ERROR event raises the error it carries."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as err:
        raise InternalError.of(f"watch stream sent a line that is not JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise InternalError.of("watch stream sent an event without an object")
    kind = str(data.get("type") or "")
    obj: dict[str, Any] = data["object"]
    if kind == ERROR:
        raise StatusError.from_status(obj, http_code=int(obj.get("code") or 500))
    return WatchEvent(kind, obj)


class Lines(Protocol):
    """A streamed response: ``httpx.Response`` or :class:`kube.client.transport.Response`."""

    def aiter_lines(self) -> AsyncIterator[str] | AsyncIterator[bytes]: ...
    async def aclose(self) -> None: ...


Opener = Callable[[], Awaitable[Lines]]


class WatchStream(AsyncIterator[WatchEvent]):
    """Events from one watch request, opened lazily on first use.

    ``client.watch(...)`` returns this without touching the network, so both
    ``async for event in client.watch(...)`` and ``async with client.watch(...) as
    events`` read naturally; errors in opening (403, 404, ...) surface at the first
    ``__anext__`` or at ``__aenter__``.
    """

    def __init__(self, opener: Opener, *, method: str, url: str) -> None:
        self._opener = opener
        self._method = method
        self._url = url
        self._response: Lines | None = None
        self._events: AsyncGenerator[WatchEvent, None] | None = None
        self._closed = False

    async def _open(self) -> AsyncGenerator[WatchEvent, None]:
        if self._events is None:
            if self._closed:
                raise StopAsyncIteration
            self._response = await self._opener()
            self._events = self._read(self._response)
        return self._events

    async def _read(self, response: Lines) -> AsyncGenerator[WatchEvent, None]:
        try:
            async for line in response.aiter_lines():
                if line.strip():
                    yield decode_event(line)
        except httpx.TransportError as err:
            # The server or the network dropped the stream mid-way: a broken watch.
            raise TransportError(str(err) or type(err).__name__, method=self._method, url=self._url) from err
        finally:
            await response.aclose()

    def __aiter__(self) -> WatchStream:
        return self

    async def __anext__(self) -> WatchEvent:
        events = await self._open()
        return await events.__anext__()

    async def aclose(self) -> None:
        self._closed = True
        if self._events is not None:
            await self._events.aclose()
        if self._response is not None:
            await self._response.aclose()

    async def __aenter__(self) -> WatchStream:
        await self._open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
