"""What only the SQLite backend has: a file that can be bad, a lock, a ring, compaction."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from apiserver.storage import (
    DB_FILE,
    StorageError,
    key_for,
    open_storage,
    prefix_for,
    sqlite_log,
    sqlite_writer,
)
from apiserver.storage.sqlite import SqliteStorage
from apiserver.storage.sqlite_watch import CATCH_UP_BATCH
from kube.errors import Expired, InternalError, ServiceUnavailable

from .helpers import Obj, assert_quiet, next_event, pod, pod_key, relabel, rv, take


async def test_a_file_that_is_not_sqlite_is_refused_by_name_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / DB_FILE
    garbage = b"this is my thesis, not a database\n" * 200
    db.write_bytes(garbage)
    with pytest.raises(StorageError) as err:
        await open_storage(data_dir=tmp_path)
    assert str(db) in err.value.message and "refusing to overwrite it" in err.value.message
    assert err.value.code == 503
    assert db.read_bytes() == garbage
    assert not (tmp_path / f"{DB_FILE}-wal").exists()


async def test_someone_elses_sqlite_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / DB_FILE
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
        conn.execute("INSERT INTO users VALUES ('ada')")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StorageError, match="is an SQLite database but not a kubesim one") as err:
        await open_storage(data_dir=tmp_path)
    assert str(db) in err.value.message
    assert db.read_bytes() == before


async def _store_with_data(tmp_path: Path, n: int = 200) -> Path:
    store = await open_storage(data_dir=tmp_path)
    for i in range(n):
        await store.create(pod_key(f"p{i:03}"), pod(f"p{i:03}", filler="x" * 500))
    await store.close()  # the last connection to close checkpoints the WAL into the file
    db = tmp_path / DB_FILE
    assert not (tmp_path / f"{DB_FILE}-wal").exists()
    return db


async def test_a_corrupted_schema_page_is_refused_at_open(tmp_path: Path) -> None:
    db = await _store_with_data(tmp_path)
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # page 1 after the header: the schema
    db.write_bytes(bytes(data))
    with pytest.raises(StorageError) as err:
        await open_storage(data_dir=tmp_path)
    assert str(db) in err.value.message and "malformed" in err.value.message
    assert db.read_bytes() == bytes(data)


async def test_a_corrupted_data_page_is_an_internal_error_naming_the_file(tmp_path: Path) -> None:
    db = await _store_with_data(tmp_path)
    data = bytearray(db.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page
    data[middle : middle + page] = b"\x5a" * page
    db.write_bytes(bytes(data))
    store = await open_storage(data_dir=tmp_path)
    try:
        with pytest.raises(InternalError) as err:
            await store.list(prefix_for("pods"))
        assert f"reading the storage file {db} failed" in err.value.message
    finally:
        await store.close()


async def test_one_file_one_process(tmp_path: Path) -> None:
    first = await open_storage(data_dir=tmp_path)
    try:
        with pytest.raises(StorageError, match="is in use by another kubesim process") as err:
            await open_storage(data_dir=tmp_path)
        assert str(tmp_path / DB_FILE) in err.value.message
    finally:
        await first.close()
    second = await open_storage(data_dir=tmp_path)  # released on close
    await second.close()


async def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = await open_storage(data_dir=tmp_path)
    await store.close()
    with pytest.raises(ServiceUnavailable, match="is closed"):
        await store.create(pod_key("a"), pod("a"))
    with pytest.raises(ServiceUnavailable, match="is closed"):
        await store.get(pod_key("a"))


async def test_no_storage_configured() -> None:
    with pytest.raises(StorageError, match="--data-dir"):
        await open_storage()


async def test_a_watch_that_falls_behind_the_ring_reads_the_file(tmp_path: Path) -> None:
    """With room for only 2 events in memory, a slow watcher is served from the log
    table, interleaved with new writes, and still sees each event once, in order."""
    store = await open_storage(data_dir=tmp_path, watch_buffer=2)
    try:
        start = await store.current_revision()
        written: list[Obj] = [await store.create(pod_key(f"p{i}"), pod(f"p{i}")) for i in range(30)]
        watch = store.watch(prefix_for("pods"), revision=start)
        seen = await take(watch, 10)
        for i in range(10):
            written.append(await store.guaranteed_update(pod_key(f"p{i}"), relabel))
        seen += await take(watch, 30)
        assert [e.object for e in seen] == written
        await assert_quiet(watch)
        await watch.aclose()  # type: ignore[attr-defined]
    finally:
        await store.close()


async def test_a_commit_wakes_only_the_watches_of_its_prefix(tmp_path: Path) -> None:
    """The API server parks one storage watch per resource: a pod write must not wake
    the others, and a watch that slept through more writes than the ring holds (all
    under other prefixes) must not have to read the file when it wakes."""
    store = await open_storage(data_dir=tmp_path, watch_buffer=2)
    assert isinstance(store, SqliteStorage)
    file_reads = 0
    read = store._read

    async def counting_read(fn: Any, **kwargs: Any) -> Any:
        nonlocal file_reads
        file_reads += fn is sqlite_log.read_events
        return await read(fn, **kwargs)

    store._read = counting_read  # type: ignore[method-assign]
    try:
        start = await store.current_revision()
        watch = store.watch(prefix_for("configmaps"), revision=start)
        waiting = asyncio.ensure_future(next_event(watch))
        await asyncio.sleep(0.05)
        (parked,) = store._hub._parked[prefix_for("configmaps")]
        for i in range(10):
            await store.create(pod_key(f"p{i}"), pod(f"p{i}"))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        assert store._hub._parked[prefix_for("configmaps")] == {parked}  # never woken
        config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}}
        created = await store.create(key_for("configmaps", "default", "c"), config)
        assert (await waiting).object == created
        assert file_reads == 0
        await watch.aclose()  # type: ignore[attr-defined]
        # A prefix that does not end at a slash is matched as a prefix too.
        partial = store.watch(key_for("configmaps", "default", "c"), revision=rv(created))
        waiting = asyncio.ensure_future(next_event(partial))
        await asyncio.sleep(0.05)
        await store.create(key_for("configmaps", "default", "other"), {**config, "metadata": {"name": "other"}})
        second = await store.create(key_for("configmaps", "default", "c2"), {**config, "metadata": {"name": "c2"}})
        assert (await waiting).object == second
        await partial.aclose()  # type: ignore[attr-defined]
    finally:
        await store.close()


async def test_compaction_forgets_superseded_rows_and_keeps_the_revision(tmp_path: Path) -> None:
    store = await open_storage(data_dir=tmp_path)
    for _ in range(10):
        await store.guaranteed_update(pod_key("busy"), relabel, ignore_not_found=True)
    await store.create(pod_key("gone"), pod("gone"))
    await store.compact(await store.current_revision())
    for _ in range(10):
        await store.guaranteed_update(pod_key("busy"), relabel)
    busy = await store.get(pod_key("busy"))
    deleted = await store.delete(pod_key("gone"))  # the newest row is a tombstone
    revision = await store.current_revision()
    await store.compact(revision)
    await store.close()

    # One row for the live key; the tombstone stays only because it is the newest row,
    # which is what keeps the revision from going back after a restart.
    assert log_rows(tmp_path) == [(pod_key("busy"), 0), (pod_key("gone"), 1)]

    store = await open_storage(data_dir=tmp_path)
    try:
        assert await store.current_revision() == revision == rv(deleted)
        assert await store.get(pod_key("busy")) == busy
        created = await store.create(pod_key("next"), pod("next"))
        assert rv(created) == revision + 1
        await store.compact(rv(created))  # now the tombstone is not the newest row: it goes
    finally:
        await store.close()
    assert log_rows(tmp_path) == [(pod_key("busy"), 0), (pod_key("next"), 0)]


def log_rows(data_dir: Path) -> list[tuple[str, int]]:
    conn = sqlite3.connect(data_dir / DB_FILE)
    try:
        return conn.execute("SELECT name, deleted FROM log ORDER BY id").fetchall()
    finally:
        conn.close()


async def test_background_compaction_keeps_a_bounded_history(tmp_path: Path) -> None:
    store = await open_storage(data_dir=tmp_path, compact_interval=0.02, compact_retain=5)
    assert isinstance(store, SqliteStorage)
    try:
        start = await store.current_revision()
        for i in range(20):
            await store.create(pod_key(f"p{i}"), pod(f"p{i}"))
        current = await store.current_revision()
        for _ in range(500):  # until the compactor has run (no timing assumption)
            try:
                await store.list(prefix_for("pods"), revision=start + 1)
            except Expired:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("background compaction never ran")
        recent = await store.list(prefix_for("pods"), revision=current - 5)
        assert len(recent.items) == 15
        assert len((await store.list(prefix_for("pods"))).items) == 20
    finally:
        await store.close()


async def test_a_watch_overtaken_by_compaction_expires_instead_of_skipping(tmp_path: Path) -> None:
    store = await open_storage(data_dir=tmp_path, watch_buffer=2)
    try:
        start = await store.current_revision()
        n = CATCH_UP_BATCH + 100  # more than one read from the file
        written = [await store.create(pod_key(f"p{i:04}"), pod(f"p{i:04}")) for i in range(n)]
        watch = store.watch(prefix_for("pods"), revision=start)
        seen = [(await next_event(watch)).object]
        # The watcher is behind the ring, reading the file; compaction passes it.
        await store.compact(await store.current_revision())
        with pytest.raises(Expired, match=f"too old resource version: {start} "):
            for _ in range(n - 1):
                seen.append((await next_event(watch)).object)
        assert seen == written[: len(seen)] and len(seen) < n  # no gap before the error
    finally:
        await store.close()


async def test_checkpoints_copy_the_wal_into_the_file_while_the_store_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits run on the event loop with SQLite's automatic checkpoint off; a thread of
    the writer's copies the WAL into the database file instead (its fsync must not stall
    the loop). Seen from outside: the database file alone, without its WAL, soon holds
    what was written, while the store is still open."""
    monkeypatch.setattr(sqlite_writer, "CHECKPOINT_EVERY", 10)
    store = await open_storage(data_dir=tmp_path)
    try:
        for i in range(25):
            await store.create(pod_key(f"p{i:02}"), pod(f"p{i:02}"))

        def rows_in_the_file_alone() -> int:
            copy = tmp_path / "copy.db"
            copy.write_bytes((tmp_path / DB_FILE).read_bytes())
            conn = sqlite3.connect(copy)
            try:
                count: int = conn.execute("SELECT count(*) FROM log WHERE name LIKE '%/p%'").fetchone()[0]
            except sqlite3.OperationalError:  # not even the schema has left the WAL yet
                count = 0
            conn.close()
            copy.unlink()
            return count

        for _ in range(100):
            if rows_in_the_file_alone() >= 20:
                break
            await asyncio.sleep(0.05)
        assert rows_in_the_file_alone() >= 20
        writer_conn = store._writer._conn  # type: ignore[attr-defined]
        assert writer_conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    finally:
        await store.close()
