"""WATCH: a chunked stream of ``{"type": ..., "object": ...}`` lines until something ends it.

A watch ends when the client hangs up, when ``timeoutSeconds`` (default: a random
30–60 minutes, as kube-apiserver's ``--min-request-timeout`` of 1800 s gives) runs out,
when the watch cache ends it (a slow client, a relist), or when the server shuts down;
in every case the stream is closed cleanly with the last chunk, so clients resume from
the last resourceVersion they saw.

As in Kubernetes, a ``resourceVersion`` older than the cache's history is answered with
HTTP 200 and a single ``ERROR`` event carrying a 410 Expired ``Status`` (client-go and
the Python client relist on it); other bad requests are refused before the stream
starts, with an ordinary Status response. Each JSON event is encoded once by the cache
and shared by every watcher; Table watchers (``kubectl get -w``) get a one-row Table
per event.

Plain JSON watches on an HTTP/1.1 connection served by ``apiserver.tls`` run in push
mode: the initial events (listing or replay) go out through ASGI with its flow control,
in chunks of up to ``INITIAL_BATCH`` events; then the watcher gets a ``ChunkSink`` and
live events are written by the loop's ``Flusher`` — one chunk per watcher per loop
turn, with no task woken per event (see ``flusher``). Other watches (Table, as-kind,
tests over an in-process ASGI transport) read the watcher as an async iterator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import orjson

from apiserver.registry import ResourceStore
from apiserver.registry.reading import EventStream
from apiserver.tls import TRANSPORT_EXTENSION, shutdown_event
from apiserver.watchcache.events import BOOKMARK, CacheEvent
from apiserver.watchcache.watcher import Watcher
from kube.errors import Expired

from . import params
from .call import Call
from .flusher import Flusher
from .render import render_object
from .responses import Receive, Send, warning_headers
from .watchsink import SLOW_REASON, ChunkSink

ERROR = "ERROR"
INITIAL_BATCH = 256
"""Initial events per chunk: few enough that a chunk stays small (flow control acts
between chunks), many enough that a 30,000-object listing is not 30,000 sends."""
SLOW_CLIENT_GRACE = 10.0
"""How long a watcher ended for being slow may take to accept the last chunk before its
connection is dropped: a client that reads nothing would otherwise hold it for ever."""


async def _until_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


def _encoder(call: Call) -> Callable[[CacheEvent], bytes]:
    output = call.output
    if not output.as_kind and output.media_type == "application/json":
        return CacheEvent.frame  # pre-encoded once, shared by all watchers
    info, include = call.info, call.include_object

    def encode(event: CacheEvent) -> bytes:
        obj: Any = event.object
        if event.type != BOOKMARK:
            obj = render_object(output, info=info, obj=obj, include_object=include)
        return orjson.dumps({"type": event.type, "object": obj}) + b"\n"

    return encode


def _push_transport(call: Call, stream: EventStream) -> asyncio.WriteTransport | None:
    """The connection to push to, when this watch can run in push mode."""
    output = call.output
    if output.as_kind or output.media_type != "application/json" or not isinstance(stream, Watcher):
        return None
    if call.scope.get("http_version") != "1.1":
        return None  # chunked framing is HTTP/1.1's
    transport = (call.scope.get("extensions") or {}).get(TRANSPORT_EXTENSION)
    # Duck-typed: uvloop's TLS transport is no asyncio.WriteTransport subclass.
    return transport if hasattr(transport, "get_write_buffer_size") else None


async def push(watcher: Watcher, *, send: Send, transport: asyncio.WriteTransport) -> None:
    """Serve ``watcher`` in push mode until it ends, then send the last chunk."""
    while batch := watcher.initial_batch(INITIAL_BATCH):
        body = b"".join([event.frame() for event in batch])
        await send({"type": "http.response.body", "body": body, "more_body": True})
    sink = ChunkSink(transport=transport, watcher=watcher, flusher=Flusher.of(asyncio.get_running_loop()))
    watcher.attach(sink)
    await sink.ended
    last = send({"type": "http.response.body", "body": b"", "more_body": False})
    if watcher.reason != SLOW_REASON:
        await last
        return
    try:
        await asyncio.wait_for(last, SLOW_CLIENT_GRACE)
    except TimeoutError:
        transport.abort()
        await asyncio.sleep(0)  # let uvicorn see the connection lost before we return


async def serve(
    call: Call, *, on_open: Callable[[], None] | None = None, on_close: Callable[[], None] | None = None
) -> int:
    store: ResourceStore | None = call.store
    assert store is not None
    options = params.list_options(call.query, watch=True)
    headers = [(b"content-type", call.output.content_type.encode()), (b"cache-control", b"no-cache, private")]
    try:
        stream = await store.watch(call.ctx, options=options)
    except Expired as err:
        await call.send({"type": "http.response.start", "status": 200, "headers": headers})
        frame = orjson.dumps({"type": ERROR, "object": err.status()}) + b"\n"
        await call.send({"type": "http.response.body", "body": frame, "more_body": False})
        call.status = 200
        return 200
    if call.ctx.warnings:
        headers.extend(warning_headers(call.ctx.warnings))
    encode = _encoder(call)
    transport = _push_transport(call, stream)
    if transport is not None:
        headers.append((b"transfer-encoding", b"chunked"))  # what our direct writes frame
    loop = asyncio.get_running_loop()
    await call.send({"type": "http.response.start", "status": 200, "headers": headers})
    call.status = 200
    # Any of these ends the stream: the client leaving, the timeout, server shutdown.
    enders = [
        asyncio.ensure_future(_until_disconnect(call.receive)),
        asyncio.ensure_future(shutdown_event(call.scope).wait()),
    ]
    for task in enders:
        task.add_done_callback(lambda _t: stream.close())
    timer = loop.call_later(options.timeout_seconds or params.MIN_REQUEST_TIMEOUT, stream.close)
    if on_open is not None:
        on_open()
    send = call.send
    try:
        if transport is not None:
            assert isinstance(stream, Watcher)
            with contextlib.suppress(OSError):
                await push(stream, send=send, transport=transport)
            return 200
        async for event in stream:
            await send({"type": "http.response.body", "body": encode(event), "more_body": True})
        with contextlib.suppress(OSError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        timer.cancel()
        stream.close()
        for task in enders:
            task.cancel()
        if on_close is not None:
            on_close()
    return 200
