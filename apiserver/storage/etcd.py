"""The etcd backend: the real thing, through ``aetcd``.

Every primitive is one etcd request, shaped as in Kubernetes' etcd3 store:

* create  = Txn(If mod_revision(key) == 0, Then Put, Else Get)
* update  = Txn(If mod_revision(key) == X, Then Put, Else Get)
* delete  = Txn(If mod_revision(key) == X, Then Delete, Else Get)
* list    = Range(prefix range, revision=R, limit=N), key-ordered
* watch   = a Watch stream from revision R+1 with prev_kv (see ``etcd_watch``)

We use aetcd for the connection and its generated gRPC stubs, but build the requests
ourselves: aetcd's helpers drop ``revision``/``limit`` on ranges and its shared watch
multiplexer waits forever on a compacted start revision. The three requests every write
and get makes are encoded straight to wire bytes (``etcd_wire``) and sent over our own
HTTP/2 connection (``etcd_h2``) rather than grpc.aio, and so are the watch streams: per
request and per event, that is CPU on the server's one event-loop thread, and grpc.aio
spent more of it on a unary call than the rest of a create's storage work together.
Paged lists and compaction (rare) stay on aetcd's gRPC channel.

Connecting tries each endpoint in turn with a bounded timeout and keeps the first that
answers; an unreachable etcd is a StorageError naming every endpoint tried, never a
hang. (There is no failover after that: a later outage is a ServiceUnavailable on each
request until etcd is back on the same endpoint.) ``key_namespace`` is prepended to every
key in etcd and hidden from callers, like etcd's namespace client; tests use it to
share one etcd.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aetcd
from aetcd import rpc

from kube.errors import BadRequest, InternalError, ServiceUnavailable, StatusError, Timeout

from . import etcd_wire
from .errors import FutureRevision, RevisionCompacted, StorageError
from .etcd_h2 import GrpcError, H2Channel
from .etcd_watch import EtcdWatch
from .interface import WatchEvent
from .keys import prefix_end
from .kv import CasResult, KVStore, RangePage, Raw

# Lists of many objects exceed gRPC's default 4 MiB message limit; Kubernetes lifts it
# too. Keepalive notices a dead etcd behind an idle connection (Kubernetes: 30 s / 10 s).
# The minimal filter stack leaves out gRPC's optional per-call filters (message-size
# checks, which the unlimited sizes make moot; stats and load reporting we do not use),
# 30–40 µs of event-loop CPU per call at concurrency 32 here; deadlines are still enforced
# (the frozen-etcd test in tests/apiserver/storage checks it).
_CHANNEL_OPTIONS = {
    "grpc.max_receive_message_length": -1,
    "grpc.max_send_message_length": -1,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.minimal_stack": 1,
}

# Watches fail fast when the member loses its leader instead of silently stalling
# (clientv3.WithRequireLeader, as Kubernetes uses).
_WATCH_METADATA = (("hasleader", "true"),)

_COMPACTED = "required revision has been compacted"
_FUTURE = "required revision is a future revision"


def parse_endpoint(url: str) -> tuple[str, int]:
    """``http://host:port`` (or bare ``host:port``) → host for gRPC, port."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http":
        raise StorageError(
            f"etcd endpoint {url}: only http:// endpoints are supported (no TLS client settings yet)"
        )
    try:
        port = parts.port or 2379
    except ValueError as e:
        raise StorageError(f"etcd endpoint {url}: {e}") from e
    host = parts.hostname or "127.0.0.1"
    return (f"[{host}]" if ":" in host else host), port


class EtcdStorage(KVStore):
    """Use ``await EtcdStorage.open(endpoints=[...])``; ``close()`` when done."""

    def __init__(
        self, *, client: aetcd.Client, endpoint: str, key_namespace: str, request_timeout: float
    ) -> None:
        self._client = client
        self.endpoint = endpoint
        self._ns = key_namespace.encode()
        self._timeout = request_timeout
        self._kv = client.kvstub
        host, port = parse_endpoint(endpoint)
        # The hot requests (encoded by etcd_wire) and the watches: see the module docstring.
        self._h2 = H2Channel(
            host=host.strip("[]"), port=port, authority=f"{host}:{port}", timeout=request_timeout
        )
        self._closed = False
        self._watches: set[EtcdWatch] = set()

    @classmethod
    async def open(
        cls,
        *,
        endpoints: list[str],
        connect_timeout: float = 5.0,
        request_timeout: float = 30.0,
        key_namespace: str = "",
    ) -> EtcdStorage:
        if not endpoints:
            raise StorageError("no etcd endpoints given (--etcd-servers)")
        failures = []
        for url in endpoints:
            host, port = parse_endpoint(url)
            client = aetcd.Client(host=host, port=port, options=_CHANNEL_OPTIONS)
            try:
                await client.connect()  # builds the channel; the probe below dials
                await client.kvstub.Range(
                    rpc.RangeRequest(key=b"/", count_only=True), timeout=connect_timeout
                )
            except (rpc.AioRpcError, aetcd.ClientError) as e:
                await client.close()
                failures.append(f"{url}: {_describe(e)}")
                continue
            return cls(
                client=client, endpoint=url, key_namespace=key_namespace, request_timeout=request_timeout
            )
        raise StorageError(f"cannot reach etcd at {', '.join(endpoints)} ({'; '.join(failures)})")

    # -- KVStore primitives ---------------------------------------------------------

    async def _get_raw(self, key: str) -> Raw | None:
        answer = await self._unary("/etcdserverpb.KV/Range", etcd_wire.range_key(self._ns + key.encode()))
        return _raw(rpc.RangeResponse.FromString(answer).kvs)

    async def _cas_put(self, key: str, data: bytes, *, expected: int) -> CasResult:
        request = etcd_wire.cas_put(key=self._ns + key.encode(), value=data, expected=expected)
        return await self._txn(request)

    async def _cas_delete(self, key: str, *, expected: int) -> CasResult:
        return await self._txn(etcd_wire.cas_delete(key=self._ns + key.encode(), expected=expected))

    async def _txn(self, request: bytes) -> CasResult:
        resp = rpc.TxnResponse.FromString(await self._unary("/etcdserverpb.KV/Txn", request))
        if resp.succeeded:
            return CasResult(ok=True, revision=resp.header.revision)
        return CasResult(ok=False, current=_raw(resp.responses[0].response_range.kvs))

    async def _range(self, *, prefix: str, start: str, revision: int, limit: int) -> RangePage:
        end = self._ns + prefix_end(prefix).encode()
        request = rpc.RangeRequest(
            key=self._ns + start.encode(), range_end=end, revision=revision, limit=limit
        )
        try:
            resp = await self._call(self._kv.Range, request, translate_out_of_range=False)
        except rpc.AioRpcError as e:
            if _COMPACTED in (e.details() or ""):
                raise RevisionCompacted(await self._compacted_revision()) from None
            if _FUTURE in (e.details() or ""):
                raise FutureRevision(await self.current_revision()) from None
            raise self._translate(e) from e
        n = len(self._ns)
        kvs = [(kv.key[n:].decode(), kv.value, kv.mod_revision) for kv in resp.kvs]
        return RangePage(kvs=kvs, revision=revision or resp.header.revision, more=resp.more, count=resp.count)

    def watch(self, prefix: str, *, revision: int) -> AsyncIterator[WatchEvent]:
        ns_prefix = self._ns + prefix.encode()
        request = rpc.WatchRequest(
            create_request=rpc.WatchCreateRequest(
                key=ns_prefix,
                range_end=self._ns + prefix_end(prefix).encode(),
                start_revision=revision + 1,
                prev_kv=True,
            )
        )
        return EtcdWatch(store=self, request=request, namespace=self._ns, requested=revision)

    async def current_revision(self) -> int:
        resp = await self._call(self._kv.Range, rpc.RangeRequest(key=self._ns + b"/", count_only=True))
        return int(resp.header.revision)

    async def compact(self, revision: int) -> None:
        try:
            await self._call(
                self._kv.Compact, rpc.CompactionRequest(revision=revision), translate_out_of_range=False
            )
        except rpc.AioRpcError as e:
            if _COMPACTED in (e.details() or ""):
                return  # already compacted at or past it: nothing to do
            if _FUTURE in (e.details() or ""):
                current = await self.current_revision()
                raise BadRequest(
                    f"cannot compact to revision {revision}: the current revision is {current}"
                ) from None
            raise self._translate(e) from e

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for w in list(self._watches):
            await w.aclose()
        self._h2.close()
        await self._client.close()

    @property
    def open_watches(self) -> int:
        """Watch streams currently open (for tests and metrics)."""
        return len(self._watches)

    # -- plumbing used by EtcdWatch too ------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def open_stream(self) -> Any:
        return self._h2.stream(
            "/etcdserverpb.Watch/Watch", metadata=_WATCH_METADATA, parse=rpc.WatchResponse.FromString
        )

    def track(self, w: EtcdWatch, *, open_: bool) -> None:
        if open_:
            self._watches.add(w)
        else:
            self._watches.discard(w)

    async def _call(
        self, method: Callable[..., Awaitable[Any]], request: Any, *, translate_out_of_range: bool = True
    ) -> Any:
        if self._closed:
            raise ServiceUnavailable(f"the etcd client for {self.endpoint} is closed")
        try:
            return await method(request, timeout=self._timeout)
        except rpc.AioRpcError as e:
            if not translate_out_of_range and e.code() == rpc.StatusCode.OUT_OF_RANGE:
                raise
            raise self._translate(e) from e

    async def _unary(self, path: str, request: bytes) -> bytes:
        if self._closed:
            raise ServiceUnavailable(f"the etcd client for {self.endpoint} is closed")
        try:
            return await self._h2.unary(path, request)
        except GrpcError as e:
            raise self._translate_status(e.code, e.details) from e

    def _translate(self, e: rpc.AioRpcError) -> StatusError:
        return self._translate_status(e.code(), e.details() or "")

    def _translate_status(self, code: rpc.StatusCode, details: str) -> StatusError:
        if code == rpc.StatusCode.UNAVAILABLE:
            return ServiceUnavailable(f"etcd at {self.endpoint} is unavailable: {details}")
        if code == rpc.StatusCode.DEADLINE_EXCEEDED:
            return Timeout(f"etcd at {self.endpoint} did not answer within {self._timeout:g}s")
        return InternalError.of(f"etcd at {self.endpoint}: {code.name}: {details}")

    async def _compacted_revision(self) -> int:
        """etcd does not report its compaction point on a failed range; a watch from
        revision 1 does (in the cancel response). Only used on that error path, for the
        message."""
        call = self.open_stream()
        try:
            create = rpc.WatchCreateRequest(key=self._ns + b"/", start_revision=1)
            await call.write(rpc.WatchRequest(create_request=create))
            for _ in range(2):
                resp = await asyncio.wait_for(call.read(), 2.0)
                if resp.compact_revision:
                    return int(resp.compact_revision)
        except (TimeoutError, GrpcError):
            pass
        finally:
            call.cancel()
        return 0


def _raw(kvs: Any) -> Raw | None:
    if not kvs:
        return None
    return Raw(data=kvs[0].value, revision=kvs[0].mod_revision)


def _describe(e: BaseException) -> str:
    if isinstance(e, rpc.AioRpcError):
        return f"{e.code().name}: {e.details()}"
    return str(e) or type(e).__name__
