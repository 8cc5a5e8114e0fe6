"""The one thread that writes the SQLite log.

SQLite allows one writer at a time, and a compare-and-swap is only a compare-and-swap if
nothing writes between the compare and the swap. Running every write on one thread that
owns the only write connection gives both, with no lock retries (kine's busy-timeout
storms) and no blocking of the event loop.

The thread takes whatever writes are queued (up to ``max_batch``) and commits them in
one transaction: at concurrency 1 that is one commit per write, as before; under load
it amortizes the commit and the thread hand-offs over the batch (group commit). Each
write still has its own outcome — one write's failed compare does not affect another's.

After each commit the thread hands the outcomes to the event loop in ONE callback, in
commit order. The loop publishes the events to watchers there, before any caller sees
its write succeed, so a client that reads its write and then watches misses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kube.errors import InternalError, ServiceUnavailable, StatusError

from .sqlite_log import LogEvent, WriteTxn

log = logging.getLogger(__name__)

WriteOp = Callable[[WriteTxn], tuple[Any, LogEvent | None]]
"""A write: runs inside the transaction, returns (result for the caller, event or None)."""


@dataclass(slots=True)
class Outcome:
    future: asyncio.Future[Any]
    result: Any
    event: LogEvent | None
    error: BaseException | None


Deliver = Callable[[list[Outcome], int], None]
"""Called on the loop after each commit with the outcomes and the new revision."""

_STOP = object()


class Writer:
    def __init__(
        self,
        *,
        conn: sqlite3.Connection,
        path: Path,
        revision: int,
        loop: asyncio.AbstractEventLoop,
        deliver: Deliver,
        max_batch: int,
    ) -> None:
        self._conn = conn
        self._path = path
        self._revision = revision
        self._loop = loop
        self._deliver = deliver
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="kubesim-sqlite-writer", daemon=True)
        self._thread.start()

    def submit(self, op: WriteOp) -> asyncio.Future[Any]:
        if self._stopping:
            raise ServiceUnavailable(f"the storage file {self._path} is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        self._queue.put((op, future))
        return future

    async def stop(self) -> None:
        """Finish what is queued, then close the connection."""
        if self._stopping:
            return
        self._stopping = True
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        try:
            stop = False
            while not stop:
                batch = [self._queue.get()]
                if batch[0] is _STOP:
                    break
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.append(item)
                outcomes = self._commit(batch)
                try:
                    self._loop.call_soon_threadsafe(self._deliver, outcomes, self._revision)
                except RuntimeError:  # the loop is gone; nobody is waiting any more
                    return
        finally:
            self._conn.close()

    def _commit(self, batch: list[tuple[WriteOp, asyncio.Future[Any]]]) -> list[Outcome]:
        txn = WriteTxn(self._conn, revision=self._revision)
        outcomes: list[Outcome] = []
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for op, future in batch:
                try:
                    result, event = op(txn)
                    outcomes.append(Outcome(future=future, result=result, event=event, error=None))
                except sqlite3.Error:
                    raise
                except StatusError as e:  # this write's own failure (e.g. a bad request)
                    outcomes.append(Outcome(future=future, result=None, event=None, error=e))
                except Exception as e:  # a bug in an op must not kill the only writer
                    log.exception("sqlite write op failed")
                    error = InternalError.of(f"write to the storage file {self._path} failed: {e!r}")
                    outcomes.append(Outcome(future=future, result=None, event=None, error=error))
            self._conn.execute("COMMIT")
        except sqlite3.Error as e:
            # Disk full, I/O error, a corrupted page: nothing in this batch is committed,
            # so every write in it fails. Say which file, so the operator can act.
            log.error("sqlite write to %s failed: %s", self._path, e)
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            error = InternalError.of(f"writing the storage file {self._path} failed: {e}")
            return [Outcome(future=f, result=None, event=None, error=error) for _, f in batch]
        self._revision = txn.revision
        return outcomes
