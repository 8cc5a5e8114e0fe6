"""Storage write throughput: our storage layer against the raw client under it.

    .venv/bin/python bench/storage.py [--seconds 2] [--loop uvloop|asyncio]

Creates of ~1.5 KB pod-like JSON objects (one new key each), at concurrency 1 and 32,
for both backends, in one run, on one event loop:

* etcd:   ours = ``Storage.create`` (JSON encode, txn "create if absent", decode);
          raw  = aetcd's own ``client.transaction`` with the same compare and put of
          the pre-encoded bytes. An etcd of our own runs in a temporary directory on
          disk (not tmpfs: its fsync per commit is part of the real cost).
* sqlite: ours = ``Storage.create`` (encode, a group commit on the event loop, CAS,
          watch publication, decode);
          raw  = ``sqlite3`` INSERTs of the same rows into the same table layout in WAL
          autocommit mode (synchronous=NORMAL), from 1 or 32 threads with a
          connection each.

Each cell is run twice, alternating raw and ours, and averaged, which evens out the
drift of a shared machine. For our SQLite store we also report how late a 1 ms timer
on the event loop fires while the writes run: SQLite must not block the loop.
Prints a table with puts/s and the ratio ours/raw (goal for etcd: >= 0.8).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

# The repository first, so ``apiserver`` is the package and not bench/apiserver.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aetcd
import orjson
from etcdproc import start_etcd

from apiserver.storage import open_storage
from apiserver.storage.etcd import parse_endpoint

CONCURRENCY = (1, 32)


def pod(i: int) -> dict[str, Any]:
    """A pod like a Deployment makes, ~1.5 KB as JSON."""
    name = f"web-7c5ddbdf54-{i:06d}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"6f1c3a52-0b8e-4b43-9d6e-{i:012d}",
            "generateName": "web-7c5ddbdf54-",
            "creationTimestamp": "2024-05-01T12:00:00Z",
            "labels": {"app": "web", "pod-template-hash": "7c5ddbdf54", "tier": "frontend"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T11:59:00Z"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web-7c5ddbdf54",
                    "uid": "0d3f1a2b-5c6d-4e7f-8a9b-0c1d2e3f4a5b",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "registry.example.com/team/web:1.25.3",
                    "ports": [{"containerPort": 8080, "protocol": "TCP", "name": "http"}],
                    "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "eu-west-1"}],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"},
                    },
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5},
                    "volumeMounts": [
                        {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
                    ],
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
            "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": []}}],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 300},
            ],
            "priority": 0,
            "enableServiceLinks": True,
        },
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    }  # fmt: skip


# -- workload drivers ---------------------------------------------------------------


class Keys:
    """Unique keys across every run, so every put is a create."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n:09d}"


async def run_async(op: Callable[[], Awaitable[None]], *, concurrency: int, seconds: float) -> float:
    """Puts/s of ``op`` run by ``concurrency`` tasks for ``seconds``."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await op()
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - start)


async def loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """How late a 1 ms sleep wakes up: the longest the loop was blocked."""
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append(time.perf_counter() - t - 0.001)


# -- etcd -----------------------------------------------------------------------------


async def bench_etcd(endpoint: str, *, seconds: float) -> list[dict[str, Any]]:
    host, port = parse_endpoint(endpoint)
    raw_client = aetcd.Client(host=host, port=port, options={"grpc.max_receive_message_length": -1})
    await raw_client.connect()
    ours = await open_storage(etcd_servers=[endpoint])
    raw_keys, our_keys = Keys("/bench/raw/"), Keys("/registry/pods/bench/")
    obj = pod(0)  # built once: building it is the caller's work, encoding it is ours
    encoded = orjson.dumps(obj)

    async def raw_put() -> None:
        key = raw_keys.next()
        t = raw_client.transactions
        ok, _ = await raw_client.transaction(
            compare=[t.mod(key.encode()) == 0], success=[t.put(key.encode(), encoded)], failure=[]
        )
        assert ok

    async def our_put() -> None:
        key = our_keys.next()
        await ours.create(key, obj)

    rows = []
    try:
        await run_async(raw_put, concurrency=8, seconds=0.5)  # warm-up: connections, etcd caches
        await run_async(our_put, concurrency=8, seconds=0.5)
        for c in CONCURRENCY:
            raw, our = [], []
            for _ in range(2):
                raw.append(await run_async(raw_put, concurrency=c, seconds=seconds))
                our.append(await run_async(our_put, concurrency=c, seconds=seconds))
            rows.append({"backend": "etcd", "c": c, "raw": statistics.mean(raw), "ours": statistics.mean(our)})
    finally:
        await ours.close()
        await raw_client.close()
    return rows


# -- sqlite -----------------------------------------------------------------------------

_RAW_SCHEMA = """
CREATE TABLE log (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created INTEGER NOT NULL,
  deleted INTEGER NOT NULL, create_revision INTEGER NOT NULL, prev_revision INTEGER NOT NULL,
  value BLOB NOT NULL);
CREATE INDEX log_name_id ON log (name, id, deleted);
"""


def raw_sqlite(path: Path, *, threads: int, seconds: float) -> float:
    """Autocommit INSERTs of the same rows from ``threads`` threads, a connection each."""
    encoded = orjson.dumps(pod(0))
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def work(t: int) -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA synchronous = NORMAL")
        n = 0
        while time.perf_counter() < deadline:
            conn.execute(
                "INSERT INTO log (name, created, deleted, create_revision, prev_revision, value) "
                "VALUES (?, 1, 0, 0, 0, ?)",
                (f"/registry/pods/raw/{t}-{n}", encoded),
            )
            n += 1
        counts[t] = n
        conn.close()

    start = time.perf_counter()
    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - start)


async def bench_sqlite(workdir: Path, *, seconds: float) -> tuple[list[dict[str, Any]], dict[int, list[float]]]:
    raw_db = workdir / "raw.db"
    conn = sqlite3.connect(raw_db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(_RAW_SCHEMA)
    conn.close()
    ours = await open_storage(data_dir=workdir / "ours")
    keys = Keys("/registry/pods/bench/")
    obj = pod(0)

    async def our_put() -> None:
        key = keys.next()
        await ours.create(key, obj)

    rows: list[dict[str, Any]] = []
    lags: dict[int, list[float]] = {}
    try:
        await asyncio.to_thread(raw_sqlite, raw_db, threads=1, seconds=0.3)
        await run_async(our_put, concurrency=8, seconds=0.3)
        for c in CONCURRENCY:
            raw: list[float] = []
            our: list[float] = []
            lag: list[float] = []
            for _ in range(2):
                raw.append(await asyncio.to_thread(raw_sqlite, raw_db, threads=c, seconds=seconds))
                stop = asyncio.Event()
                ticker = asyncio.create_task(loop_lag(stop, lag))
                our.append(await run_async(our_put, concurrency=c, seconds=seconds))
                stop.set()
                await ticker
            rows.append({"backend": "sqlite", "c": c, "raw": statistics.mean(raw), "ours": statistics.mean(our)})
            lags[c] = lag
    finally:
        await ours.close()
    return rows, lags


# -- main -------------------------------------------------------------------------------


async def main(seconds: float) -> None:
    if shutil.which("etcd") is None:
        sys.exit("etcd not found on PATH (Debian package etcd-server)")
    workdir = Path(tempfile.mkdtemp(prefix="kubesim-bench-storage-", dir="/var/tmp"))
    proc, endpoint = start_etcd(workdir)
    began = time.perf_counter()
    try:
        rows = await bench_etcd(endpoint, seconds=seconds)
        sqlite_rows, lags = await bench_sqlite(workdir, seconds=seconds)
        rows += sqlite_rows
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    loop_name = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print(f"storage puts/s — {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{loop_name} loop, {len(orjson.dumps(pod(0)))}-byte objects, {seconds:g} s x 2 per cell")  # fmt: skip
    print()
    print("| backend | concurrency | raw puts/s | ours puts/s | ours/raw |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['c']} | {r['raw']:,.0f} | {r['ours']:,.0f} | {r['ours'] / r['raw']:.2f} |")
    print()
    for c, lag in lags.items():
        lag_ms = sorted(x * 1000 for x in lag)
        p99 = lag_ms[int(len(lag_ms) * 0.99)]
        print(f"sqlite, ours, concurrency {c}: event-loop lag p99 {p99:.1f} ms, max {lag_ms[-1]:.1f} ms")
    etcd_ratios = [r["ours"] / r["raw"] for r in rows if r["backend"] == "etcd"]
    print(f"etcd ours/raw: {min(etcd_ratios):.2f}–{max(etcd_ratios):.2f} (goal >= 0.8)")
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each measurement")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop",
                        help="uvloop is what uvicorn runs the API server on when installed")  # fmt: skip
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        uvloop.install()
    asyncio.run(main(args.seconds))
