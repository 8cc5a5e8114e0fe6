"""One etcd watch stream per watch.

Each watch is its own gRPC Watch call, a stream on the store's HTTP/2 connection to
etcd (``etcd_h2``; streams are cheap), so closing one is just cancelling its call, and a
compacted start revision is simply the first response we read: etcd answers ``created``
and then a cancel carrying ``compact_revision``, which becomes Expired on the first
``__anext__``. Events carry ``prev_kv``, which gives DELETED events their object and
MODIFIED events their ``prev``.

One reader task per watch (started by the first ``__anext__``) reads the stream into a
buffer, and ``__anext__`` waits on a plain future for it. Reads never run in the
consumer's task (with grpc.aio, a cancelled read cancels the whole call): a consumer may
time out a ``__anext__`` (``asyncio.wait_for``) and call it again without losing the
stream or an event, as with the SQLite watch. A long-lived reader does that with one
task per watch, where a read task per response (shielded) cost a task and a shield per
event on the event-loop thread. The reader stops reading when ``_BUFFER`` events wait
undelivered, so a slow consumer still holds etcd back through HTTP/2 flow control
instead of growing our memory. Whatever ends the stream (an error, compaction, etcd
cancelling) is raised after the events that came before it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

import grpc
from aetcd import rpc

from kube.errors import InternalError, ServiceUnavailable

from . import codec
from .errors import too_old
from .etcd_h2 import GrpcError
from .interface import EventType, WatchEvent

if TYPE_CHECKING:
    from .etcd import EtcdStorage

# Undelivered events at which the reader pauses (resumes below half of it).
_BUFFER = 1024


class EtcdWatch:
    """An async iterator of WatchEvent. ``aclose()`` may be called from any task, also
    while another task waits in ``__anext__`` (which then ends)."""

    def __init__(self, *, store: EtcdStorage, request: Any, namespace: bytes, requested: int) -> None:
        self._store = store
        self._request = request
        self._ns_len = len(namespace)
        self._requested = requested
        self._call: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: deque[Any] = deque()  # etcd events, decoded one at a time
        self._end: BaseException | None = None  # what ended the stream, after _pending
        self._waiter: asyncio.Future[None] | None = None  # the consumer, for _pending/_end
        self._space: asyncio.Future[None] | None = None  # the paused reader, for room
        self._closed = False
        store.track(self, open_=True)

    def __aiter__(self) -> EtcdWatch:
        return self

    async def __anext__(self) -> WatchEvent:
        while not self._pending:
            if self._closed or self._store.closed:
                self._finish()
                raise StopAsyncIteration
            if self._end is not None:
                end = self._end
                self._finish()  # any error ends the watch (the consumer re-lists)
                raise end
            if self._reader is None:
                self._reader = asyncio.get_running_loop().create_task(self._read_stream())
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        event = self._pending.popleft()
        if self._space is not None and len(self._pending) <= _BUFFER // 2:
            _wake(self._space)
        try:
            # Decode on the way out, so a bad value fails at its own event, after the
            # good ones that came in the same response.
            return self._convert(event)
        except Exception:
            self._finish()
            raise

    async def aclose(self) -> None:
        reader = self._reader
        self._finish()
        if reader is not None and reader is not asyncio.current_task():
            # Its call is cancelled, so this ends at once; wait() neither raises the
            # reader's CancelledError nor swallows one aimed at our caller.
            await asyncio.wait([reader])

    def _finish(self) -> None:
        self._closed = True
        self._pending.clear()
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        if self._call is not None:
            self._call.cancel()
            self._call = None
        if self._waiter is not None:
            _wake(self._waiter)  # a consumer waiting in __anext__ ends
        self._store.track(self, open_=False)

    async def _read_stream(self) -> None:
        """The reader task: responses into ``_pending`` until the stream ends, then the
        reason into ``_end``. Cancelled by ``_finish``."""
        try:
            self._call = self._store.open_stream()
            await self._call.write(self._request)
            while True:
                resp = await self._call.read()
                self._check(resp)
                if resp.events:
                    self._pending.extend(resp.events)
                    if self._waiter is not None:
                        _wake(self._waiter)
                    if len(self._pending) >= _BUFFER:
                        self._space = asyncio.get_running_loop().create_future()
                        try:
                            await self._space
                        finally:
                            self._space = None
        except asyncio.CancelledError:
            raise
        except GrpcError as e:  # what the stream (``etcd_h2``) raises
            self._end = self._translate(e.code, e.details)
        except Exception as e:
            self._end = e
        if self._waiter is not None:
            _wake(self._waiter)

    def _check(self, resp: Any) -> None:
        if resp is grpc.aio.EOF:
            raise ServiceUnavailable(f"etcd at {self._store.endpoint} ended the watch stream")
        if resp.compact_revision:
            raise too_old(requested=self._requested, compacted=int(resp.compact_revision))
        if resp.canceled:
            raise ServiceUnavailable(
                f"etcd at {self._store.endpoint} cancelled the watch: {resp.cancel_reason or 'no reason given'}"
            )

    def _translate(self, code: rpc.StatusCode, details: str) -> Exception:
        if code == rpc.StatusCode.UNAVAILABLE:
            return ServiceUnavailable(f"etcd at {self._store.endpoint} is unavailable: {details}")
        return InternalError.of(f"etcd watch at {self._store.endpoint}: {code.name}: {details}")

    def _convert(self, event: Any) -> WatchEvent:
        kv = event.kv
        key = kv.key[self._ns_len :].decode()
        load_prev = None
        if event.HasField("prev_kv"):
            # Decoded only if someone reads it (see WatchEvent).
            load_prev = partial(codec.decode, key, event.prev_kv.value, event.prev_kv.mod_revision)
        if event.type == rpc.Event.DELETE:
            if load_prev is None:
                raise InternalError.of(
                    f"etcd sent the delete of key {key!r} at revision {kv.mod_revision} without its last value"
                )
            obj = codec.decode(key, event.prev_kv.value, kv.mod_revision)
            return WatchEvent(
                type=EventType.DELETED, key=key, object=obj, revision=kv.mod_revision, load_prev=load_prev
            )
        kind = EventType.ADDED if kv.create_revision == kv.mod_revision else EventType.MODIFIED
        obj = codec.decode(key, kv.value, kv.mod_revision)
        return WatchEvent(type=kind, key=key, object=obj, revision=kv.mod_revision, load_prev=load_prev)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
