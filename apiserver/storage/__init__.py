"""Storage for the API server: one interface (``interface.Storage``), two backends.

``open_storage`` picks the backend the way kube-apiserver's flags do: ``--etcd-servers``
given → real etcd; otherwise the embedded SQLite file in ``--data-dir``, which needs no
setup (like k3s with kine). Both behave the same — the conformance suite in
``tests/apiserver/storage`` runs against each — so nothing above this package knows or
cares which one it has.
"""

from __future__ import annotations

import pathlib
from typing import Any

from .errors import ContinueExpired, StorageError
from .interface import (
    DeleteCheck,
    EventType,
    ListResult,
    Obj,
    Preconditions,
    Storage,
    UpdateFunc,
    WatchEvent,
)
from .keys import key_for, prefix_for

DB_FILE = "kubesim.db"

__all__ = [
    "DB_FILE",
    "ContinueExpired",
    "DeleteCheck",
    "EventType",
    "ListResult",
    "Obj",
    "Preconditions",
    "Storage",
    "StorageError",
    "UpdateFunc",
    "WatchEvent",
    "key_for",
    "open_storage",
    "prefix_for",
]


async def open_storage(
    *,
    data_dir: pathlib.Path | None = None,
    etcd_servers: list[str] | None = None,
    **tuning: Any,
) -> Storage:
    """Open the store. ``etcd_servers`` (URLs; comma-separated entries are split, as the
    ``--etcd-servers`` flag is) selects etcd, and ``data_dir`` is then not used here;
    otherwise the SQLite file ``data_dir / "kubesim.db"``.

    ``tuning`` goes to the backend: for SQLite ``compact_interval`` (s), ``compact_retain``
    (revisions), ``compact_chunk``, ``watch_buffer`` (events), ``read_threads``,
    ``max_batch``; for etcd ``connect_timeout`` (s), ``request_timeout`` (s),
    ``key_namespace``. Raises StorageError (a ServiceUnavailable) naming the file or the
    endpoints when the store cannot be opened."""
    if etcd_servers:
        from .etcd import EtcdStorage  # imported lazily: grpc is slow to import

        endpoints = [e.strip() for entry in etcd_servers for e in entry.split(",") if e.strip()]
        return await EtcdStorage.open(endpoints=endpoints, **tuning)
    if data_dir is None:
        raise StorageError("no storage configured: give a data directory (--data-dir) or --etcd-servers")
    from .sqlite import SqliteStorage

    return await SqliteStorage.open(path=pathlib.Path(data_dir) / DB_FILE, **tuning)
