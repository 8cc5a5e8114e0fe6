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
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import orjson

from apiserver.registry import ResourceStore
from apiserver.tls import shutdown_event
from apiserver.watchcache.events import BOOKMARK, CacheEvent
from kube.errors import Expired

from . import params
from .call import Call
from .render import render_object
from .responses import Receive, warning_headers

ERROR = "ERROR"


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


async def serve(call: Call, *, on_open: Callable[[], None] | None = None, on_close: Callable[[], None] | None = None) -> int:
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
