"""The embedded store: one SQLite file, no setup, the default backend.

The pieces, each in its own module:

* ``sqlite_log``   — the schema and every SQL statement (a kine-style revision log);
* ``sqlite_writer`` — the single writer, committing each loop turn's writes in one batch;
* ``sqlite_watch`` — watches fed from an in-memory ring of recent events, falling back
  to the log table for older ones;
* this module      — wires them to the event loop and implements the KVStore primitives,
  plus the background compaction that keeps the history bounded, as kine does: every
  ``compact_interval`` seconds (default 5 minutes), forget all but the last
  ``compact_retain`` revisions (default 1000).

Reads run on a small thread pool with a connection per thread; in WAL mode they never
wait for the writer. Only one process may use a file at a time (an advisory lock on
``<file>.lock``): watch notifications are in-process, so a second writer would leave the
first one's watchers silently behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from kube.errors import InternalError, ServiceUnavailable, StatusError

from . import sqlite_log
from .errors import StorageError
from .interface import WatchEvent
from .keys import prefix_end
from .kv import CasResult, KVStore, RangePage, Raw
from .sqlite_log import LogEvent, WriteTxn
from .sqlite_watch import SqliteWatch, WatchHub
from .sqlite_writer import Outcome, Writer

log = logging.getLogger(__name__)

T = TypeVar("T")


class SqliteStorage(KVStore):
    """Use ``await SqliteStorage.open(path=...)``; ``close()`` when done."""

    def __init__(
        self,
        *,
        path: Path,
        lock_fd: int,
        conn: sqlite3.Connection,
        revision: int,
        compacted: int,
        compact_interval: float,
        compact_retain: int,
        compact_chunk: int,
        watch_buffer: int,
        read_threads: int,
        max_batch: int,
    ) -> None:
        self.path = path
        self._lock_fd = lock_fd
        self._revision = revision
        self._hub = WatchHub(capacity=watch_buffer, revision=revision, compacted=compacted)
        self._readers = _Readers(path=path, threads=read_threads)
        self._writer = Writer(
            conn=conn,
            path=path,
            revision=revision,
            loop=asyncio.get_running_loop(),
            deliver=self._deliver,
            max_batch=max_batch,
        )
        self._compact_retain = compact_retain
        self._compact_chunk = compact_chunk
        self._compact_lock = asyncio.Lock()
        self._closed = False
        self._compactor: asyncio.Task[None] | None = None
        if compact_interval > 0:
            self._compactor = asyncio.create_task(
                self._compact_periodically(compact_interval), name=f"compact {path}"
            )

    @classmethod
    async def open(
        cls,
        *,
        path: Path,
        compact_interval: float = 300.0,
        compact_retain: int = 1000,
        compact_chunk: int = 1000,
        watch_buffer: int = 4096,
        read_threads: int = 2,
        max_batch: int = 256,
    ) -> SqliteStorage:
        """Open or create the store at ``path``. Raises StorageError (naming the file)
        when it is not a kubesim database or another process holds it."""
        lock_fd = _lock(path)
        try:
            conn = await asyncio.to_thread(sqlite_log.initialize, path)
            try:
                revision, compacted = await asyncio.to_thread(_revisions, conn)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            os.close(lock_fd)
            raise
        return cls(
            path=path,
            lock_fd=lock_fd,
            conn=conn,
            revision=revision,
            compacted=compacted,
            compact_interval=compact_interval,
            compact_retain=compact_retain,
            compact_chunk=compact_chunk,
            watch_buffer=watch_buffer,
            read_threads=read_threads,
            max_batch=max_batch,
        )

    # -- KVStore primitives ---------------------------------------------------------

    async def _get_raw(self, key: str) -> Raw | None:
        return await self._read(sqlite_log.read_key, key=key)

    async def _cas_put(self, key: str, data: bytes, *, expected: int) -> CasResult:
        result: CasResult = await self._write(lambda txn: txn.put(key, data, expected=expected))
        return result

    async def _cas_delete(self, key: str, *, expected: int) -> CasResult:
        result: CasResult = await self._write(lambda txn: txn.delete(key, expected=expected))
        return result

    async def _range(self, *, prefix: str, start: str, revision: int, limit: int) -> RangePage:
        return await self._read(
            sqlite_log.read_range, start=start, end=prefix_end(prefix), revision=revision, limit=limit
        )

    def watch(self, prefix: str, *, revision: int) -> AsyncIterator[WatchEvent]:
        end = prefix_end(prefix)

        async def read_events(after: int, limit: int) -> tuple[list[LogEvent], int]:
            return await self._read(sqlite_log.read_events, start=prefix, end=end, after=after, limit=limit)

        return SqliteWatch(hub=self._hub, read_events=read_events, prefix=prefix, revision=revision)

    async def current_revision(self) -> int:
        return self._revision

    async def compact(self, revision: int) -> None:
        async with self._compact_lock:
            if revision <= self._hub.compacted:
                return
            done: int = await self._write(lambda txn: (txn.mark_compacted(revision), None))
            self._hub.compacted = revision
            while done < revision:
                upto = min(done + self._compact_chunk, revision)
                await self._write(functools.partial(_compact_chunk, after=done, upto=upto))
                done = upto

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._compactor is not None:
            self._compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._compactor
        self._hub.close()
        await self._writer.stop()
        await self._readers.close()
        os.close(self._lock_fd)  # releases the flock

    @property
    def open_watches(self) -> int:
        """Watches neither closed nor ended (for tests and metrics)."""
        return self._hub.open_watches

    # -- plumbing ---------------------------------------------------------------------

    async def _write(self, op: Callable[[WriteTxn], tuple[Any, LogEvent | None]]) -> Any:
        if self._closed:
            raise ServiceUnavailable(f"the storage file {self.path} is closed")
        return await self._writer.submit(op)

    async def _read(self, fn: Callable[..., T], **kwargs: Any) -> T:
        if self._closed:
            raise ServiceUnavailable(f"the storage file {self.path} is closed")
        return await self._readers.run(fn, **kwargs)

    def _deliver(self, outcomes: list[Outcome], revision: int) -> None:
        """On the loop, after each commit (see sqlite_writer): publish first, then
        answer the writers, so a write is visible to watchers before its caller knows
        it succeeded."""
        self._revision = max(self._revision, revision)
        self._hub.publish([o.event for o in outcomes if o.event is not None])
        for o in outcomes:
            if o.future.done():  # the caller was cancelled; the write still happened
                continue
            if o.error is not None:
                o.future.set_exception(o.error)
            else:
                o.future.set_result(o.result)

    async def _compact_periodically(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            target = self._revision - self._compact_retain
            if target <= self._hub.compacted:
                continue
            try:
                await self.compact(target)
            except StatusError as e:
                log.warning("compacting %s to revision %d failed: %s", self.path, target, e.message)


def _compact_chunk(txn: WriteTxn, *, after: int, upto: int) -> tuple[None, None]:
    txn.compact_chunk(after=after, upto=upto)
    return None, None


def _revisions(conn: sqlite3.Connection) -> tuple[int, int]:
    return sqlite_log.current_revision(conn), sqlite_log.compacted_revision(conn)


def _lock(path: Path) -> int:
    """Take the advisory lock that makes us the file's only user."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise StorageError(f"cannot create the lock file {lock_path}: {e.strerror}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StorageError(
            f"the storage file {path} is in use by another kubesim process (it holds {lock_path}); "
            "stop that process or use another --data-dir"
        ) from None
    return fd


class _Readers:
    """A few threads, each with its own read connection."""

    def __init__(self, *, path: Path, threads: int) -> None:
        self._path = path
        self._pool = ThreadPoolExecutor(max_workers=max(threads, 1), thread_name_prefix="kubesim-sqlite-read")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    async def run(self, fn: Callable[..., T], **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(self._call, fn, kwargs))

    def _call(self, fn: Callable[..., T], kwargs: dict[str, Any]) -> T:
        try:
            conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = sqlite_log.connect(self._path)
                conn.execute("PRAGMA query_only = ON")
                self._local.conn = conn
                with self._lock:
                    self._conns.append(conn)
            return fn(conn, **kwargs)
        except sqlite3.Error as e:
            raise InternalError.of(f"reading the storage file {self._path} failed: {e}") from e

    async def close(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, wait=True)
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
