"""One allocation range kept in storage, so every API server on the store agrees.

Kubernetes persists each service range as a ``RangeAllocation`` object
(``/registry/ranges/serviceips``, ``/registry/ranges/servicenodeports``): the range and
its bitmap. Every allocation and release is a read-modify-write of that one record,
compare-and-swapped on its resourceVersion and retried on conflict
(``pkg/registry/core/service/allocator/storage``). Two API servers can then never hand
out the same value: the second writer's swap fails, it re-reads, and sees the bit set.
We do the same through ``Storage.guaranteed_update``, so both backends work unchanged.

Differences from Kubernetes, each for a reason:

- Requests are batched: while one compare-and-swap is in flight, the requests that
  arrive queue up and the next swap serves them all, so concurrent creates in one
  process cost one write per batch instead of contending with each other.
- ``data`` is the bitmap zlib-compressed (run-length strategy), then base64. Kubernetes
  stores the raw bitmap: 128 KiB for a /12, rewritten on every allocation. Compressed it
  is a few KiB while the range is sparse.
- A missing record (a new store, or one written before this existed) or one for another
  range (the flags changed) is rebuilt on first use from the stored Services — plus, on
  a range change, whatever the old bitmap held that fits the new range — instead of
  refusing allocations until a repair loop has run. The rebuild is written with the
  same compare-and-swap, so two servers rebuilding at once agree on one record.
- The last record this process wrote or read is kept decoded (keyed by its
  resourceVersion): while no other server writes, the next allocation skips the decode.

Dry-run requests are answered from a read of the record: nothing is written.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from apiserver.storage.interface import Preconditions, Storage
from kube.errors import InternalError, NotFound

from .allocators import RangeAllocator, Refusal

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
V = TypeVar("V")
V_co = TypeVar("V_co", covariant=True)

RANGES_PREFIX = "/registry/ranges/"
SERVICE_IPS_KEY = RANGES_PREFIX + "serviceips"
SERVICE_NODE_PORTS_KEY = RANGES_PREFIX + "servicenodeports"


class ValueSpace(Protocol[V_co]):
    """A range of values (addresses, ports) numbered from offset 0."""

    spec: str
    """How the stored record names the range: ``10.96.0.0/12``, ``30000-32767``."""

    def new_allocator(self) -> RangeAllocator: ...

    def offset(self, value: object) -> int | None: ...

    def value(self, offset: int) -> V_co: ...


HeldValues = Callable[[], Awaitable[Iterable[object]]]
"""Every value the stored Services hold, for rebuilding a missing record."""
ParseSpace = Callable[[str], "ValueSpace[object] | None"]


@dataclass(frozen=True, slots=True)
class Allocation(Generic[V]):
    """The outcome of one request: every wanted value, or the first refusal."""

    values: list[V]
    refused: Refusal | None = None
    index: int = -1
    """Which want was refused."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The record as read: its bitmap, its resourceVersion ("" when absent) and range."""

    allocator: RangeAllocator
    resource_version: str
    range: str


@dataclass(eq=False)
class _Request:
    wants: list[int | None]
    """Offsets to take (None: any free one)."""
    releases: list[int]
    future: asyncio.Future[tuple[list[int], Refusal | None, int]] = field(repr=False)


def encode_data(bits: bytes) -> str:
    packer = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    return base64.b64encode(packer.compress(bits) + packer.flush()).decode("ascii")


def decode_data(text: object) -> bytes | None:
    """The bitmap of a record's ``data``; None if it is not one we wrote."""
    if not isinstance(text, str):
        return None
    try:
        return zlib.decompress(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, zlib.error):
        return None


class StoredRange(Generic[V]):
    """A range whose bitmap lives in the record at ``key``; see the module docstring."""

    def __init__(
        self,
        *,
        storage: Storage | None,
        key: str,
        space: ValueSpace[V],
        parse_space: ParseSpace,
        held_by_services: HeldValues,
    ) -> None:
        self.storage = storage
        self.key = key
        self.space = space
        self._parse_space = parse_space
        self._held_by_services = held_by_services
        self._queue: list[_Request] = []
        self._flusher: asyncio.Task[None] | None = None
        self._cache: tuple[str, bytes] | None = None
        """(resourceVersion, bitmap) of the newest record this process has seen."""

    # -- requests ------------------------------------------------------------------------

    async def allocate(self, wants: Sequence[V | None], *, dry_run: bool = False) -> Allocation[V]:
        """Take every wanted value (None: any free one), all or nothing."""
        offsets: list[int | None] = []
        for index, want in enumerate(wants):
            if want is None:
                offsets.append(None)
                continue
            offset = self.space.offset(want)
            if offset is None:
                return Allocation(values=[], refused=Refusal.OUT_OF_RANGE, index=index)
            offsets.append(offset)
        if dry_run:
            snapshot = await self.read()
            taken, refused, index = _apply(snapshot.allocator, wants=offsets, releases=[])
        else:
            taken, refused, index = await self._submit(wants=offsets, releases=[])
        return Allocation(values=[self.space.value(o) for o in taken], refused=refused, index=index)

    async def release(self, values: Iterable[V]) -> None:
        offsets = [o for o in (self.space.offset(v) for v in values) if o is not None]
        if offsets:
            await self._submit(wants=[], releases=offsets)

    async def read(self) -> Snapshot:
        """The bitmap as stored now (rebuilt from the Services, not written, if the record
        is missing or names another range)."""
        try:
            current = await self._storage().get(self.key)
        except NotFound:
            current = {}
        allocator = await self._load(current)
        return Snapshot(
            allocator=allocator,
            resource_version=str((current.get("metadata") or {}).get("resourceVersion") or ""),
            range=str(current.get("range") or ""),
        )

    async def replace(self, allocator: RangeAllocator, *, resource_version: str) -> None:
        """Write ``allocator`` if the record is still at ``resource_version`` ("": absent);
        Conflict otherwise. The repair loop's write."""
        bits = allocator.snapshot()

        async def update(current: Obj) -> Obj:
            return self._record(current, bits)

        stored = await self._storage().guaranteed_update(
            self.key,
            update,
            preconditions=Preconditions(resource_version=resource_version),
            ignore_not_found=True,
        )
        self._remember(stored, bits)

    # -- batching ------------------------------------------------------------------------

    async def _submit(
        self, *, wants: list[int | None], releases: list[int]
    ) -> tuple[list[int], Refusal | None, int]:
        future: asyncio.Future[tuple[list[int], Refusal | None, int]] = (
            asyncio.get_running_loop().create_future()
        )
        self._queue.append(_Request(wants=wants, releases=releases, future=future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=f"allocate {self.key}")
        return await future

    async def _flush(self) -> None:
        while self._queue:
            batch = [r for r in self._queue if not r.future.cancelled()]
            self._queue = []
            if not batch:
                continue
            try:
                results = await self._write(batch)
            except asyncio.CancelledError:
                for request in batch:
                    request.future.cancel()
                raise
            except Exception as err:
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(err)
                continue
            for request, result in zip(batch, results, strict=True):
                if not request.future.cancelled():
                    request.future.set_result(result)
                elif result[0]:
                    # Its caller is gone (a cancelled request): give the values back.
                    self._queue.append(_Request(wants=[], releases=result[0], future=_orphan()))

    async def _write(self, batch: list[_Request]) -> list[tuple[list[int], Refusal | None, int]]:
        results: list[tuple[list[int], Refusal | None, int]] = []
        written: list[bytes] = []

        async def update(current: Obj) -> Obj | None:
            written.clear()  # this attempt's outcome only: an earlier one lost its race
            allocator = await self._load(current)
            before = allocator.snapshot()
            results[:] = [_apply(allocator, wants=r.wants, releases=r.releases) for r in batch]
            bits = allocator.snapshot()
            if bits == before and self._current(current):
                return None
            written[:] = [bits]
            return self._record(current, bits)

        stored = await self._storage().guaranteed_update(self.key, update, ignore_not_found=True)
        if written:
            self._remember(stored, written[0])
        return results

    # -- the record ----------------------------------------------------------------------

    def _current(self, record: Obj) -> bool:
        """Whether ``record`` exists and is for our range (else it must be (re)written)."""
        return bool(record) and record.get("range") == self.space.spec

    async def _load(self, record: Obj) -> RangeAllocator:
        allocator = self.space.new_allocator()
        version = str((record.get("metadata") or {}).get("resourceVersion") or "")
        if not self._current(record):
            await self._rebuild(allocator, record)
            return allocator
        cache = self._cache
        if cache is not None and cache[0] == version:
            allocator.restore(cache[1])
            return allocator
        bits = decode_data(record.get("data"))
        if bits is None:
            logger.warning(
                "the allocation record %s is unreadable; rebuilding it from the Services", self.key
            )
            await self._rebuild(allocator, {})
            return allocator
        allocator.restore(bits)
        self._cache = (version, allocator.snapshot())
        return allocator

    async def _rebuild(self, allocator: RangeAllocator, old: Obj) -> None:
        for value in await self._held_by_services():
            offset = self.space.offset(value)
            if offset is not None:
                allocator.take(offset)  # a duplicate or an outsider is the repair loop's to report
        old_space = self._parse_space(str(old.get("range") or "")) if old else None
        old_bits = decode_data(old.get("data")) if old else None
        if old_space is None or old_bits is None:
            return
        # The range changed: keep what the old bitmap held that still fits, so values
        # allocated for creates still in flight elsewhere are not handed out again.
        held = old_space.new_allocator()
        held.restore(old_bits)
        for offset in held.offsets():
            moved = self.space.offset(old_space.value(offset))
            if moved is not None:
                allocator.take(moved)

    def _record(self, current: Obj, bits: bytes) -> Obj:
        metadata = dict(current.get("metadata") or {})
        metadata.setdefault("name", self.key.rpartition("/")[2])
        return {
            "apiVersion": "v1",
            "kind": "RangeAllocation",
            "metadata": metadata,
            "range": self.space.spec,
            "data": encode_data(bits),
        }

    def _remember(self, stored: Obj, bits: bytes) -> None:
        version = str((stored.get("metadata") or {}).get("resourceVersion") or "")
        if version:
            self._cache = (version, bits)

    def _storage(self) -> Storage:
        if self.storage is None:
            raise InternalError.of(f"the allocator for {self.key} has no storage")
        return self.storage


def _apply(
    allocator: RangeAllocator, *, wants: list[int | None], releases: list[int]
) -> tuple[list[int], Refusal | None, int]:
    for offset in releases:
        allocator.release(offset)
    taken: list[int] = []
    for index, want in enumerate(wants):
        if want is None:
            found = allocator.take_next()
            refused = Refusal.FULL if found is None else None
        else:
            found, refused = want, allocator.take(want)
        if refused is not None or found is None:
            for offset in taken:
                allocator.release(offset)
            return [], refused or Refusal.FULL, index
        taken.append(found)
    return taken, None, -1


def _orphan() -> asyncio.Future[tuple[list[int], Refusal | None, int]]:
    future: asyncio.Future[tuple[list[int], Refusal | None, int]] = asyncio.get_running_loop().create_future()
    future.add_done_callback(_log_failure)
    return future


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("giving back values of a cancelled request failed: %s", future.exception())
