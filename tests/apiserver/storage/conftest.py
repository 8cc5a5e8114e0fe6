"""Every storage test runs once per backend: the embedded SQLite file and a real etcd.

``backend.open(name)`` opens a store; the same name reopens the same data (a restart),
another name gives a fresh, empty store. SQLite stores live in the test's tmp_path;
etcd stores share the session's etcd and are kept apart by a unique key namespace.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aetcd
import pytest

from apiserver.storage import DB_FILE, Storage, open_storage
from apiserver.storage.etcd import parse_endpoint


@dataclass
class Backend:
    name: str
    open: Callable[..., Awaitable[Storage]]
    """``open(name="main", **tuning)``."""
    location: str
    """What identifies the data: the SQLite data dir or the etcd endpoint."""
    put_raw: Callable[[Storage, str, bytes], Awaitable[Storage]]
    """Write bytes at a key behind the store's back (a fault only the medium can hold,
    like a value some other program wrote); returns the store to use afterwards."""
    get_raw: Callable[[str], Awaitable[bytes | None]]
    """The bytes the medium holds for a key of the "main" store (None: absent)."""


def _sqlite(tmp_path: Path) -> Backend:
    def opener(name: str = "main", **tuning: Any) -> Awaitable[Storage]:
        return open_storage(data_dir=tmp_path / name, **tuning)

    async def put_raw(store: Storage, key: str, data: bytes) -> Storage:
        # The file has one writer, so close the store, write with plain sqlite3, reopen.
        await store.close()
        conn = sqlite3.connect(tmp_path / "main" / DB_FILE)
        with conn:
            rev = conn.execute("SELECT COALESCE(MAX(id), 1) + 1 FROM log").fetchone()[0]
            conn.execute(
                "INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value) "
                "VALUES (?, ?, 1, 0, ?, 0, ?)",
                (rev, key, rev, data),
            )
        conn.close()
        return await opener()

    async def get_raw(key: str) -> bytes | None:
        conn = sqlite3.connect(tmp_path / "main" / DB_FILE)  # a second reader is fine in WAL
        try:
            row = conn.execute(
                "SELECT deleted, value FROM log WHERE name = ? ORDER BY id DESC LIMIT 1", (key,)
            ).fetchone()
        finally:
            conn.close()
        return None if row is None or row[0] else bytes(row[1])

    return Backend(name="sqlite", open=opener, location=str(tmp_path), put_raw=put_raw, get_raw=get_raw)


def _etcd(endpoint: str) -> Backend:
    run = uuid.uuid4().hex[:12]

    def namespace(name: str) -> str:
        return f"/kubesim-test/{run}/{name}"

    def opener(name: str = "main", **tuning: Any) -> Awaitable[Storage]:
        return open_storage(etcd_servers=[endpoint], key_namespace=namespace(name), **tuning)

    async def put_raw(store: Storage, key: str, data: bytes) -> Storage:
        host, port = parse_endpoint(endpoint)
        async with aetcd.Client(host=host, port=port) as client:
            await client.put((namespace("main") + key).encode(), data)
        return store

    async def get_raw(key: str) -> bytes | None:
        host, port = parse_endpoint(endpoint)
        async with aetcd.Client(host=host, port=port) as client:
            got = await client.get((namespace("main") + key).encode())
        return None if got is None else bytes(got.value)

    return Backend(name="etcd", open=opener, location=endpoint, put_raw=put_raw, get_raw=get_raw)


@pytest.fixture(params=["sqlite", pytest.param("etcd", marks=pytest.mark.etcd)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return _sqlite(tmp_path)
    return _etcd(request.getfixturevalue("etcd_endpoint"))


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Storage]:
    s = await backend.open()
    try:
        yield s
    finally:
        await s.close()
