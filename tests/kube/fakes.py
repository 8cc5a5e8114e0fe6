"""Small fakes for injecting failures the real server will not produce on cue.

``FakeServer`` is an ``httpx.MockTransport`` handler that answers from a script of
responses and records every request; ``Stream`` is a response body that can die
mid-way (a dropped watch). ``InstantClock`` never really waits but remembers every wait
asked of it, so tests can assert "slept 3 s as Retry-After said" without sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson

from kube.client import Client
from kube.client.clock import RealClock, Timer
from kube.kubeconfig import ClientConfig

CONFIG = ClientConfig(
    server="https://fake.invalid:6443", context="fake", cluster="fake", user="fake", token="t0k"
)

Handler = Callable[[httpx.Request], Any]
WAIT = 15.0
"""How long a test waits for something that should happen at once: a bound, not a timing claim."""


class InstantClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        return RealClock().call_later(0, callback)


class Stream(httpx.AsyncByteStream):
    """Chunks, then either a clean end or ``error`` (a connection dropped mid-stream)."""

    def __init__(
        self, chunks: list[bytes], *, error: Exception | None = None, hold: asyncio.Event | None = None
    ):
        self.chunks = chunks
        self.error = error
        self.hold = hold

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
            await asyncio.sleep(0)
        if self.hold is not None:
            await self.hold.wait()
        if self.error is not None:
            raise self.error


def event_line(kind: str, obj: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": kind, "object": obj}) + b"\n"


def status(code: int, reason: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
        **extra,
    }


def json_response(code: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        code, content=orjson.dumps(body), headers={"content-type": "application/json", **(headers or {})}
    )


class FakeServer:
    """Answers each request with the next scripted response (or a handler's answer)."""

    def __init__(self, *script: httpx.Response | Exception | Handler) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []
        self.drained = asyncio.Event()
        """Set once the last scripted answer has been asked for."""

    def __call__(self, request: httpx.Request) -> Any:
        self.requests.append(request)
        if not self.script:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        step = self.script.pop(0)
        if not self.script:
            self.drained.set()
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    def client(self, *, clock: Any = None, qps: float = 0, burst: int = 1, **options: Any) -> Client:
        return Client(
            CONFIG,
            transport=httpx.MockTransport(self),
            clock=clock or InstantClock(),
            qps=qps,
            burst=burst,
            **options,
        )


class _Breakable(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, owner: BreakableTransport) -> None:
        self.inner = inner
        self.owner = owner
        self.broken = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        iterator = self.inner.__aiter__()
        while True:
            next_chunk = asyncio.ensure_future(anext(iterator))
            broken = asyncio.ensure_future(self.broken.wait())
            await asyncio.wait({next_chunk, broken}, return_when=asyncio.FIRST_COMPLETED)
            broken.cancel()
            if self.broken.is_set():
                next_chunk.cancel()
                await asyncio.gather(next_chunk, return_exceptions=True)
                raise httpx.ReadError("connection reset (injected)")
            try:
                yield next_chunk.result()
            except StopAsyncIteration:
                return

    async def aclose(self) -> None:
        await self.inner.aclose()  # type: ignore[attr-defined]


class BreakableTransport(httpx.AsyncBaseTransport):
    """The real network to the real server, with failures switched on by the test:
    ``break_watches()`` drops every open watch stream, ``block_watches`` refuses new
    ones, ``fail_all`` refuses every request (a partitioned client)."""

    def __init__(self, config: ClientConfig) -> None:
        from kube.client.wire import ssl_context

        self.inner = httpx.AsyncHTTPTransport(verify=ssl_context(config))
        self.block_watches = False
        self.fail_all = False
        self.watches_opened = 0
        self._open: list[_Breakable] = []
        self._breaks = 0

    def break_watches(self) -> None:
        """Drop every watch, including one whose response headers are still on the way."""
        self._breaks += 1
        for stream in self._open:
            stream.broken.set()
        self._open.clear()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.fail_all:
            raise httpx.ConnectError("network unreachable (injected)", request=request)
        is_watch = request.url.params.get("watch") == "true"
        if is_watch and self.block_watches:
            raise httpx.ConnectError("watch refused (injected)", request=request)
        breaks = self._breaks
        response = await self.inner.handle_async_request(request)
        if not is_watch:
            return response
        self.watches_opened += 1
        assert isinstance(response.stream, httpx.AsyncByteStream)
        stream = _Breakable(response.stream, self)
        if breaks != self._breaks:
            stream.broken.set()
        else:
            self._open.append(stream)
        return httpx.Response(
            response.status_code, headers=response.headers, stream=stream, extensions=response.extensions
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class Recorder:
    """Event handlers that record what they receive; ``wait_for`` blocks until a condition holds."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any, Any]] = []
        self._changed = asyncio.Event()

    def _record(self, kind: str, new: Any, old: Any = None) -> None:
        self.events.append((kind, new, old))
        self._changed.set()

    def on_add(self, obj: Any) -> None:
        self._record("add", obj)

    def on_update(self, old: Any, new: Any) -> None:
        self._record("update", new, old)

    def on_delete(self, obj: Any) -> None:
        self._record("delete", obj)

    def handlers(self) -> dict[str, Any]:
        return {"on_add": self.on_add, "on_update": self.on_update, "on_delete": self.on_delete}

    def of(self, kind: str) -> list[Any]:
        return [new for k, new, _ in self.events if k == kind]

    def names(self, kind: str) -> list[str]:
        out = []
        for obj in self.of(kind):
            body = getattr(obj, "obj", obj)  # a tombstone carries the object
            out.append(body["metadata"]["name"])
        return out

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait for a condition that no event announces (state inside the code under test),
    polling; bounded so a broken test fails instead of hanging."""
    async with asyncio.timeout(WAIT):
        while not condition():  # noqa: ASYNC110 - nothing to wait on but the state itself
            await asyncio.sleep(0.01)
