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
4. **In process** (``--in-process``, or ``--only-in-process``) — the API core without
   TLS, HTTP or the security filters: the registry, storage and watch caches built as
   the server builds them, behind ``create_app`` with a fixed user, each create one
   direct call of the ASGI app. Reports the CPU the event-loop thread spends per create
   (the server's one Python thread), which the HTTPS figures cannot isolate.
5. **Security overhead** (SQLite; ``--only-security`` alone) — the same creates by a user
   bound to ``edit`` (so RBAC is really evaluated, not short-cut for ``system:masters``),
   with ``Node,RBAC`` authorization and an audit log against ``AlwaysAllow`` without one;
   prints the on/off ratio (goal ≥ 0.8).

Beside each HTTPS rate it prints the CPU the server process and the benchmark process
(the client) spent per create, so a client-bound run shows as one. Runs on uvloop, as
the server does (``--loop asyncio`` for the default loop). Prints each figure and the
anchor ratio (goal for etcd: creates/s ÷ puts/s ≥ 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

REPO = Path(__file__).resolve().parents[1]
# The repository first, so ``apiserver`` is the package and not bench/apiserver.py.
sys.path.insert(0, str(REPO))

from etcdproc import start_etcd, stop  # noqa: E402
from leanhttp import Connection, process_cpu, tree_cpu  # noqa: E402

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


async def lean_creates(url: str, ctx: ssl.SSLContext, *, count: int, concurrency: int, tag: str) -> float:
    connections = [await Connection.open(url, ctx) for _ in range(concurrency)]
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
    conn = await Connection.open(url, ctx)
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


def client_context(data_dir: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(data_dir / "pki" / "ca.crt"))
    ctx.load_cert_chain(str(data_dir / "pki" / "admin.crt"), str(data_dir / "pki" / "admin.key"))
    return ctx


# -- in process -------------------------------------------------------------------------


class _FixedUser:
    async def authenticate(self, scope: Any) -> Any:
        from apiserver.authn import UserInfo

        return UserInfo(name="bench", groups=("system:masters", "system:authenticated"))


async def asgi_create(app: Any, body: bytes) -> None:
    """One POST through the ASGI app, as uvicorn would hand it over (minus TLS and HTTP)."""
    scope = {
        "type": "http", "method": "POST", "path": "/api/v1/namespaces/default/pods", "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
        "extensions": {},
    }  # fmt: skip
    sent: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    await app(scope, receive, send)
    if sent != [201]:
        raise RuntimeError(f"create failed: {sent}")


async def bench_in_process(name: str, workdir: Path, *, etcd: str | None, sizes: dict[int, int]) -> None:
    from apiserver.app import create_app
    from apiserver.bootstrap import bootstrap
    from apiserver.health import Health
    from apiserver.metrics import InstrumentedStorage, Metrics
    from apiserver.registry import API
    from kube.resources import default_registry

    print(f"\n== {name}: pod creates in process (ASGI app, no TLS/HTTP/security filters) ==")
    metrics = Metrics()
    if etcd:
        raw = await open_storage(etcd_servers=[etcd], key_namespace="/bench-in-process")
    else:
        raw = await open_storage(data_dir=workdir / "in-process")
    storage = InstrumentedStorage(raw, metrics=metrics)
    api = API(storage=storage, resources=default_registry())
    try:
        await api.start()
        await bootstrap(api)
        health = Health(storage=storage, caches_ready=lambda: True, shutting_down=lambda: False)
        app = create_app(api=api, metrics=metrics, health=health, authenticator=_FixedUser(), extra_routes=[])
        for i in range(200):
            await asgi_create(app, orjson.dumps(pod_body(f"warm-{i}", "node-0")))
        gc.collect()
        gc.freeze()  # as the server does once started
        for c, n in sizes.items():
            async def worker(names: Iterator[int], c: int = c) -> None:
                for i in names:
                    await asgi_create(app, orjson.dumps(pod_body(f"p{c}-{i}", f"node-{i % NODES}")))

            started, cpu = time.perf_counter(), time.thread_time()
            shared = iter(range(n))
            await asyncio.gather(*(worker(shared) for _ in range(c)))
            await asyncio.sleep(0.2)  # the watch cache catches up (its work counts)
            loop_cpu = time.thread_time() - cpu
            rate = n / (time.perf_counter() - started - 0.2)
            per_create = loop_cpu / n * 1e6
            print(f"concurrency {c:>2}: {rate:6.0f} creates/s | event-loop thread CPU {per_create:5.0f} µs/create")
    finally:
        await api.stop()
        await storage.close()


# -- the runs ---------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def bench_creates(
    name: str, workdir: Path, *, etcd: str | None, sizes: dict[int, int], workers: tuple[int, ...] = (1,)
) -> None:
    """The anchor once, then the server's creates for each number of worker processes."""
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
    for n_workers in workers:
        data = workdir / f"creates-{n_workers}"
        extra = ["--etcd-servers", etcd, "--workers", str(n_workers)] if etcd else []
        proc, url = start_apiserver(data, *extra)
        label = f" [{n_workers} workers]" if n_workers > 1 else ""
        try:
            ctx = client_context(data)
            await lean_creates(url, ctx, count=200, concurrency=8, tag=f"warm-{n_workers}")
            for c, n in sizes.items():
                server_cpu, client_cpu = tree_cpu(proc.pid), time.process_time()
                lean = await lean_creates(url, ctx, count=n, concurrency=c, tag=f"lean{c}-{n_workers}")
                server_us = (tree_cpu(proc.pid) - server_cpu) / n * 1e6
                client_us = (time.process_time() - client_cpu) / n * 1e6
                via_httpx = await httpx_creates(
                    url, ctx, count=max(n // 4, 100), concurrency=c, tag=f"httpx{c}-{n_workers}"
                )
                print(
                    f"concurrency {c:>2}{label}: storage puts {anchor[c]:7.0f}/s | creates (lean client)"
                    f" {lean:6.0f}/s ratio {lean / anchor[c]:.2f} (CPU per create: server {server_us:.0f} µs,"
                    f" client {client_us:.0f} µs) | creates (httpx) {via_httpx:6.0f}/s ratio {via_httpx / anchor[c]:.2f}"
                )
        finally:
            stop(proc)


def user_context(data_dir: Path, *, user: str) -> ssl.SSLContext:
    """A client certificate for ``user`` (no groups), signed by the server's CA."""
    from kube import pki

    ca = pki.load_pair(data_dir / "pki" / "ca.crt", data_dir / "pki" / "ca.key")
    cert, key = data_dir / f"{user}.crt", data_dir / f"{user}.key"
    if not cert.exists():
        pki.save_pair(pki.issue_cert(ca=ca, common_name=user, server=False, client=True), cert, key)
    ctx = ssl.create_default_context(cafile=str(data_dir / "pki" / "ca.crt"))
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


async def security_round(
    workdir: Path, *, secure: bool, sizes: dict[int, int], tag: str
) -> dict[int, tuple[float, float]]:
    """Creates/s by a user bound to ``edit`` (not system:masters, so RBAC really
    evaluates), with ``--authorization-mode=Node,RBAC`` and an audit log, or with
    ``AlwaysAllow`` and no audit log."""
    data = workdir / f"security-{tag}"
    extra = ["--audit-log-path", str(workdir / f"audit-{tag}.log")] if secure else ["--authorization-mode", "AlwaysAllow"]
    proc, url = start_apiserver(data, *extra)
    try:
        binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": "bench-edit"}, "subjects": [{"kind": "User", "name": "bench-user"}],
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}}
        async with httpx.AsyncClient(base_url=url, verify=client_context(data)) as admin:
            resp = await admin.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json=binding)
            resp.raise_for_status()
        ctx = user_context(data, user="bench-user")
        await asyncio.sleep(0.5)  # the binding reaches the RBAC cache
        await lean_creates(url, ctx, count=200, concurrency=8, tag="warm")
        out: dict[int, tuple[float, float]] = {}
        for c, n in sizes.items():
            cpu = process_cpu(proc.pid)
            rate = await lean_creates(url, ctx, count=n, concurrency=c, tag=f"s{c}")
            out[c] = (rate, (process_cpu(proc.pid) - cpu) / n * 1e6)
        return out
    finally:
        stop(proc)


async def bench_security(name: str, workdir: Path, *, sizes: dict[int, int]) -> None:
    """Security overhead: the same create load with RBAC + audit on and off, twice each,
    alternating (off, on, on, off) so drift on a shared machine affects both alike."""
    print(f"\n== {name}: security overhead (RBAC + audit on vs AlwaysAllow, no audit) ==")
    rates: dict[bool, list[dict[int, tuple[float, float]]]] = {False: [], True: []}
    for i, secure in enumerate((False, True, True, False)):
        rates[secure].append(await security_round(workdir, secure=secure, sizes=sizes, tag=f"{i}"))
    for c in sizes:
        off = statistics.mean(r[c][0] for r in rates[False])
        on = statistics.mean(r[c][0] for r in rates[True])
        cpu_off = statistics.mean(r[c][1] for r in rates[False])
        cpu_on = statistics.mean(r[c][1] for r in rates[True])
        print(f"concurrency {c:>2}: off {off:6.0f} creates/s | on {on:6.0f} creates/s | on/off {on / off:.2f}"
              f" (goal >= 0.8) | server CPU per create off {cpu_off:.0f} µs, on {cpu_on:.0f} µs,"
              f" off/on {cpu_off / cpu_on:.2f}")


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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    parser.add_argument("--no-etcd", action="store_true", help="SQLite only")
    parser.add_argument("--no-lists", action="store_true", help="skip the LIST measurements (3.)")
    parser.add_argument("--in-process", action="store_true", help="also measure creates in process (4.)")
    parser.add_argument("--only-in-process", action="store_true", help="only the in-process measurement (4.)")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop", help="the event loop")
    parser.add_argument("--only-security", action="store_true", help="only the security overhead (5.)")
    parser.add_argument(
        "--workers", type=int, default=1, help="also measure etcd creates with python -m apiserver --workers N"
    )
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    sizes = {1: 300, 32: 1500} if args.quick else {1: 1000, 32: 6000}
    runs = 40 if args.quick else 200
    in_process = args.in_process or args.only_in_process
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.loop}")
    with tempfile.TemporaryDirectory(prefix="kubesim-bench-") as tmp:
        root = Path(tmp)
        (root / "sqlite").mkdir()
        if args.only_security:
            await bench_security("sqlite", root / "sqlite", sizes=sizes)
            return
        if in_process:
            await bench_in_process("sqlite", root / "sqlite", etcd=None, sizes=sizes)
        if not args.only_in_process:
            await bench_creates("sqlite", root / "sqlite", etcd=None, sizes=sizes)
            if not args.no_lists:
                await bench_lists("sqlite", root / "sqlite", etcd=None, runs=runs)
            await bench_security("sqlite", root / "sqlite", sizes=sizes)
        if args.no_etcd or shutil.which("etcd") is None:
            print("\n(etcd skipped)")
            return
        for name in ("creates", "lists"):
            if name == "lists" and (args.only_in_process or args.no_lists):
                continue
            (root / f"etcd-{name}").mkdir()
            proc, endpoint = start_etcd(root / f"etcd-{name}")
            try:
                if name == "creates":
                    if in_process:
                        await bench_in_process("etcd", root / "etcd-creates", etcd=endpoint, sizes=sizes)
                    if not args.only_in_process:
                        workers = (1, args.workers) if args.workers > 1 else (1,)
                        await bench_creates("etcd", root / "etcd-creates", etcd=endpoint, sizes=sizes, workers=workers)
                else:
                    await bench_lists("etcd", root / "etcd-lists", etcd=endpoint, runs=runs)
            finally:
                stop(proc)


if __name__ == "__main__":
    arguments = parse_args()
    factory = None
    if arguments.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main(arguments))
