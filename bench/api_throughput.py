"""API server benchmark: pod creates over HTTPS against raw storage puts, and cache LISTs.

Run: ``.venv/bin/python bench/api_throughput.py`` (``--quick`` for a short run,
``--no-etcd`` to skip etcd). For each backend (SQLite, and etcd when the ``etcd`` binary
is on PATH):

1. **Anchor** — ``Storage.create`` puts/s of the same pods, in this process, at
   concurrency 1 and 32, before the server starts (so the two never share the CPU).
2. **Creates** — ``python -m apiserver`` is started as users start it; pods are POSTed
   over HTTPS with the admin client certificate at concurrency 1 and 32, through two
   clients: a lean keep-alive HTTP/1.1 client on asyncio streams (what the ratio uses:
   it costs ~0.2 ms of CPU per request, so the server, not the client, is measured on
   a 2-core machine) and httpx (~3–6 ms of client CPU per request, shown for
   reference). The full path runs: TLS, authentication, validation and defaults,
   managedFields, storage, watch cache.
3. **LIST at 30,000 pods** — 30,000 pods on 1,000 nodes are written straight into
   storage, then the server is started on that data: latency of listing all pods and
   one node's 30 pods (``fieldSelector=spec.nodeName=…``) from the watch cache
   (``resourceVersion=0``), and, for contrast, one node's pods by a consistent read
   from storage (no resourceVersion), measured at the client (request to last byte).

Prints each figure and the anchor ratio (goal for etcd: creates/s ÷ puts/s ≥ 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

REPO = Path(__file__).resolve().parents[1]

from apiserver.storage import Storage, key_for, open_storage  # noqa: E402
from kube import model  # noqa: E402

NODES = 1000
PODS_PER_NODE = 30


def pod_body(name: str, node: str) -> dict[str, Any]:
    """What a client sends: the server adds defaults, metadata and status."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "web"}},
        "spec": {
            "nodeName": node,
            "containers": [
                {
                    "name": "app",
                    "image": "registry.local/app:1.0",
                    "ports": [{"containerPort": 8080}],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                }
            ],
        },
    }


def stored_pod_template() -> dict[str, Any]:
    """A pod as the API server stores it (defaults applied), for seeding storage."""
    obj = pod_body("template", "node-0")
    obj["metadata"].update(namespace="default", uid=str(uuid.uuid4()), creationTimestamp="2026-01-01T00:00:00Z")
    model.prepare_create(obj, mode=model.FieldValidation.STRICT)
    obj["status"] = {"phase": "Pending", "qosClass": "Burstable"}
    return obj


# -- a lean HTTP/1.1 client -------------------------------------------------------------


class Connection:
    """One keep-alive HTTPS connection; requests are sent one at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int, ctx: ssl.SSLContext) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, ssl=ctx, limit=2**20)
        return cls(reader, writer)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        self.writer.write(head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        length = -1
        chunked = False
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return status, b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.writer.close()


async def lean_creates(url: str, ctx: ssl.SSLContext, *, count: int, concurrency: int, tag: str) -> float:
    host, port = url.removeprefix("https://").rsplit(":", 1)
    connections = [await Connection.open(host, int(port), ctx) for _ in range(concurrency)]
    names = iter(range(count))

    async def worker(conn: Connection) -> None:
        for i in names:
            body = orjson.dumps(pod_body(f"{tag}-{i}", f"node-{i % NODES}"))
            status, answer = await conn.request("POST", "/api/v1/namespaces/default/pods", body)
            if status != 201:
                raise RuntimeError(f"create failed: {status} {answer[:300]!r}")

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return count / elapsed


async def httpx_creates(url: str, ctx: ssl.SSLContext, *, count: int, concurrency: int, tag: str) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, verify=ctx, limits=limits, timeout=60) as client:
        names = iter(range(count))

        async def worker() -> None:
            for i in names:
                resp = await client.post("/api/v1/namespaces/default/pods", json=pod_body(f"{tag}-{i}", f"node-{i % NODES}"))
                if resp.status_code != 201:
                    raise RuntimeError(f"create failed: {resp.status_code} {resp.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)


async def list_latency(url: str, ctx: ssl.SSLContext, path: str, *, runs: int) -> tuple[list[float], int]:
    host, port = url.removeprefix("https://").rsplit(":", 1)
    conn = await Connection.open(host, int(port), ctx)
    times = []
    items = 0
    try:
        for _ in range(runs):
            started = time.perf_counter()
            status, body = await conn.request("GET", path)
            times.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"list failed: {status} {body[:300]!r}")
            items = len(orjson.loads(body)["items"])
    finally:
        conn.close()
    return times, items


# -- storage anchor and seeding ---------------------------------------------------------


async def storage_puts(storage: Storage, *, count: int, concurrency: int, tag: str) -> float:
    template = stored_pod_template()
    names = iter(range(count))

    async def worker() -> None:
        for i in names:
            obj = copy.deepcopy(template)
            obj["metadata"]["name"] = f"{tag}-{i}"
            await storage.create(key_for("pods", "default", f"{tag}-{i}"), obj)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def seed(storage: Storage) -> None:
    template = stored_pod_template()
    queue = iter(range(NODES * PODS_PER_NODE))

    async def worker() -> None:
        for i in queue:
            obj = copy.deepcopy(template)
            meta = obj["metadata"]
            meta["name"] = f"seed-{i:05}"
            meta["uid"] = str(uuid.uuid4())
            obj["spec"]["nodeName"] = f"node-{i % NODES}"
            await storage.create(key_for("pods", "default", meta["name"]), obj)

    await asyncio.gather(*(worker() for _ in range(64)))


# -- processes --------------------------------------------------------------------------


def start_apiserver(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    log = (data_dir.parent / f"{data_dir.name}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "apiserver", "--data-dir", str(data_dir), "--secure-port", "0", *extra],
        cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"ready at (https://\S+)", line)
        if match:
            return proc, match.group(1)
    raise SystemExit(f"apiserver did not start; see {log.name}")


def stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_etcd(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    client, peer = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    log = (workdir / "etcd.log").open("wb")
    proc = subprocess.Popen(
        ["etcd", "--name", "bench", "--data-dir", str(workdir / "etcd"),
         "--listen-client-urls", client, "--advertise-client-urls", client,
         "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
         "--initial-cluster", f"bench={peer}", "--log-level", "error"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{client}/health", timeout=1) as resp:
                if b"true" in resp.read():
                    return proc, client
        except OSError:
            time.sleep(0.1)
    raise SystemExit("etcd did not start")


def client_context(data_dir: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(data_dir / "pki" / "ca.crt"))
    ctx.load_cert_chain(str(data_dir / "pki" / "admin.crt"), str(data_dir / "pki" / "admin.key"))
    return ctx


# -- the runs ---------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def bench_creates(name: str, workdir: Path, *, etcd: str | None, sizes: dict[int, int]) -> None:
    print(f"\n== {name}: pod creates over HTTPS vs storage puts ==")
    anchor: dict[int, float] = {}
    if etcd:
        storage = await open_storage(etcd_servers=[etcd], key_namespace="/bench-anchor")
    else:
        storage = await open_storage(data_dir=workdir / "anchor")
    try:
        for c, n in sizes.items():
            anchor[c] = await storage_puts(storage, count=n, concurrency=c, tag=f"anchor{c}")
    finally:
        await storage.close()
    data = workdir / "creates"
    proc, url = start_apiserver(data, *(["--etcd-servers", etcd] if etcd else []))
    try:
        ctx = client_context(data)
        await lean_creates(url, ctx, count=200, concurrency=8, tag="warm")
        for c, n in sizes.items():
            lean = await lean_creates(url, ctx, count=n, concurrency=c, tag=f"lean{c}")
            via_httpx = await httpx_creates(url, ctx, count=max(n // 4, 100), concurrency=c, tag=f"httpx{c}")
            print(
                f"concurrency {c:>2}: storage puts {anchor[c]:7.0f}/s | creates (lean client) {lean:6.0f}/s "
                f"ratio {lean / anchor[c]:.2f} | creates (httpx) {via_httpx:6.0f}/s ratio {via_httpx / anchor[c]:.2f}"
            )
    finally:
        stop(proc)


async def bench_lists(name: str, workdir: Path, *, etcd: str | None, runs: int) -> None:
    print(f"\n== {name}: LIST at {NODES * PODS_PER_NODE:,} pods ==")
    data = workdir / "lists"
    started = time.perf_counter()
    if etcd:
        storage = await open_storage(etcd_servers=[etcd])
    else:
        data.mkdir(parents=True)
        storage = await open_storage(data_dir=data)
    try:
        await seed(storage)
    finally:
        await storage.close()
    print(f"seeded {NODES * PODS_PER_NODE:,} pods in {time.perf_counter() - started:.1f} s")
    proc, url = start_apiserver(data, *(["--etcd-servers", etcd] if etcd else []))
    try:
        ctx = client_context(data)
        base = "/api/v1/namespaces/default/pods"
        cases = [
            ("all pods, cache (rv=0)", f"{base}?resourceVersion=0", max(3, runs // 20)),
            ("all pods, storage (consistent)", base, max(3, runs // 20)),
            ("one node's pods, cache (rv=0)", f"{base}?resourceVersion=0&fieldSelector=spec.nodeName%3Dnode-17", runs),
            ("one node's pods, storage", f"{base}?fieldSelector=spec.nodeName%3Dnode-17", max(3, runs // 20)),
        ]
        for label, path, n in cases:
            times, items = await list_latency(url, ctx, path, runs=n)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(f"{label:34} {items:6} items  p50 {ms(statistics.median(times)):>10}  p99 {ms(p99):>10}  (n={n})")
    finally:
        stop(proc)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    parser.add_argument("--no-etcd", action="store_true", help="SQLite only")
    args = parser.parse_args()
    sizes = {1: 300, 32: 1500} if args.quick else {1: 1000, 32: 6000}
    runs = 40 if args.quick else 200
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="kubesim-bench-") as tmp:
        root = Path(tmp)
        (root / "sqlite").mkdir()
        await bench_creates("sqlite", root / "sqlite", etcd=None, sizes=sizes)
        await bench_lists("sqlite", root / "sqlite", etcd=None, runs=runs)
        if args.no_etcd or shutil.which("etcd") is None:
            print("\n(etcd skipped)")
            return
        for name in ("creates", "lists"):
            (root / f"etcd-{name}").mkdir()
            proc, endpoint = start_etcd(root / f"etcd-{name}")
            try:
                if name == "creates":
                    await bench_creates("etcd", root / "etcd-creates", etcd=endpoint, sizes=sizes)
                else:
                    await bench_lists("etcd", root / "etcd-lists", etcd=endpoint, runs=runs)
            finally:
                stop(proc)


if __name__ == "__main__":
    asyncio.run(main())
