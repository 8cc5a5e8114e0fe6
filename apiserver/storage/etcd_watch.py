"""One etcd watch stream per watch.

Each watch is its own gRPC Watch call on the shared channel (HTTP/2 streams are cheap),
so closing one is just cancelling its call, and a compacted start revision is simply the
first response we read: etcd answers ``created`` and then a cancel carrying
``compact_revision``, which becomes Expired on the first ``__anext__``. Events carry
``prev_kv``, which gives DELETED events their object and MODIFIED events their ``prev``.

A gRPC read that is cancelled cancels the whole call, so the pending read runs in its own
task and ``__anext__`` awaits it through ``asyncio.shield``: a consumer may time out a
``__anext__`` (``asyncio.wait_for``) and call it again without losing the stream or an
event, as with the SQLite watch.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

import grpc
from aetcd import rpc

from kube.errors import InternalError, ServiceUnavailable

from . import codec
from .errors import too_old
from .interface import EventType, WatchEvent

if TYPE_CHECKING:
    from .etcd import EtcdStorage


class EtcdWatch:
    """An async iterator of WatchEvent. ``aclose()`` may be called from any task, also
    while another task waits in ``__anext__`` (which then ends)."""

    def __init__(self, *, store: EtcdStorage, request: Any, namespace: bytes, requested: int) -> None:
        self._store = store
        self._request = request
        self._ns_len = len(namespace)
        self._requested = requested
        self._call: Any = None
        self._read: asyncio.Future[Any] | None = None
        self._pending: deque[Any] = deque()  # etcd events, decoded one at a time
        self._closed = False
        store.track(self, open_=True)

    def __aiter__(self) -> EtcdWatch:
        return self

    async def __anext__(self) -> WatchEvent:
        try:
            while not self._pending:
                if self._closed or self._store.closed:
                    raise StopAsyncIteration
                await self._receive()
            # Decode on the way out, so a bad value fails at its own event, after the
            # good ones that came in the same response.
            return self._convert(self._pending.popleft())
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._closed and current is not None and not current.cancelling():
                # Our own aclose() cancelled the gRPC call under a pending read; this
                # task was not cancelled, so the watch simply ends.
                raise StopAsyncIteration from None
            raise  # the consumer's task was cancelled; the read goes on (shielded)
        except (StopAsyncIteration, Exception):
            # Any error ends the watch (the consumer re-lists and watches again).
            closing = self._closed or self._store.closed
            self._finish()
            if closing:
                raise StopAsyncIteration from None
            raise

    async def aclose(self) -> None:
        self._closed = True
        self._finish()

    def _finish(self) -> None:
        self._closed = True
        if self._read is not None:
            self._read.cancel()
            self._read = None
        if self._call is not None:
            self._call.cancel()
            self._call = None
        self._store.track(self, open_=False)

    async def _receive(self) -> None:
        try:
            if self._call is None:
                self._call = self._store.open_stream()
                await self._call.write(self._request)
            if self._read is None:
                self._read = asyncio.ensure_future(self._call.read())
                self._read.add_done_callback(_consume_error)
            resp = await asyncio.shield(self._read)
            self._read = None
        except rpc.AioRpcError as e:
            self._read = None
            if self._closed or self._store.closed:
                raise StopAsyncIteration from None
            if e.code() == rpc.StatusCode.UNAVAILABLE:
                raise ServiceUnavailable(f"etcd at {self._store.endpoint} is unavailable: {e.details()}") from e
            raise InternalError.of(f"etcd watch at {self._store.endpoint}: {e.code().name}: {e.details()}") from e
        if resp is grpc.aio.EOF:
            raise ServiceUnavailable(f"etcd at {self._store.endpoint} ended the watch stream")
        if resp.compact_revision:
            raise too_old(requested=self._requested, compacted=int(resp.compact_revision))
        if resp.canceled:
            raise ServiceUnavailable(
                f"etcd at {self._store.endpoint} cancelled the watch: {resp.cancel_reason or 'no reason given'}"
            )
        self._pending.extend(resp.events)

    def _convert(self, event: Any) -> WatchEvent:
        kv = event.kv
        key = kv.key[self._ns_len :].decode()
        prev = None
        if event.HasField("prev_kv"):
            prev = codec.decode(key, event.prev_kv.value, event.prev_kv.mod_revision)
        if event.type == rpc.Event.DELETE:
            if prev is None:
                raise InternalError.of(
                    f"etcd sent the delete of key {key!r} at revision {kv.mod_revision} without its last value"
                )
            obj = codec.decode(key, event.prev_kv.value, kv.mod_revision)
            return WatchEvent(type=EventType.DELETED, key=key, object=obj, revision=kv.mod_revision, prev=prev)
        kind = EventType.ADDED if kv.create_revision == kv.mod_revision else EventType.MODIFIED
        obj = codec.decode(key, kv.value, kv.mod_revision)
        return WatchEvent(type=kind, key=key, object=obj, revision=kv.mod_revision, prev=prev)


def _consume_error(read: asyncio.Future[Any]) -> None:
    # A read left behind by aclose() may fail with nobody awaiting it; fetch the error
    # so asyncio does not log "exception was never retrieved".
    if not read.cancelled():
        read.exception()
