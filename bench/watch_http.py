"""Watch fan-out over HTTPS: commit → receive latency with 1,000 watchers on the real server.

Goal (design): 1,000 watchers, 200 events/s, commit → receive p99 ≤ 100 ms. ``bench/watch.py``
measures the watch cache alone, in process; this measures the whole path a client sees:
``python -m apiserver`` (SQLite store, in a temp dir) is started as users start it, and

* a **watcher process** opens N watches (``GET /api/v1/namespaces/default/configmaps
  ?watch=true&resourceVersion=<rv of a list>``), each on its own TLS connection with the
  admin client certificate, on raw asyncio streams (far cheaper than httpx per
  connection). Each watcher parses the chunked body (one JSON event per line) and
  records ``receive time − data.t`` in a fixed 0.1 ms histogram;
* once the server's ``apiserver_registered_watchers`` gauge (``/metrics``) reaches N,
  the **writer** (this process) creates ConfigMaps open-loop at a fixed rate (each create
  starts on schedule whether or not earlier ones finished), each carrying in ``data.t``
  the ``time.time()`` taken just before its POST.

So the latency includes the POST (TLS, admission, the SQLite commit), the watch cache
fan-out, JSON encoding, N TLS socket writes and the client's read. Reported: p50/p99/max
over all deliveries, deliveries received vs expected, watch streams that ended early,
the CPU each process spent, the server's VmRSS before the watchers connect and after
(per watcher), and p99 ÷ 100 ms. Writer, watchers and server are three processes on
the same machine and share its cores: the watchers' CPU is printed so a client-bound run
shows as one.

    .venv/bin/python bench/watch_http.py [--watchers 1000] [--rate 200] [--seconds 10]
                                         [--quick] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import resource
import ssl
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from leanhttp import Connection, process_cpu, rss_kib, split_url  # noqa: E402

from kube.kubeconfig import load_kubeconfig  # noqa: E402

GOAL_P99 = 0.100
BUCKET = 0.0001  # histogram resolution: 0.1 ms
BUCKETS = 300_000  # up to 30 s
PATH = "/api/v1/namespaces/default/configmaps"
T_MARK = b'"t":"'


# -- shared helpers ---------------------------------------------------------------------


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def use_loop(name: str) -> None:
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            return
        uvloop.install()


def client_context(kubeconfig: Path) -> ssl.SSLContext:
    return load_kubeconfig(kubeconfig).ssl_context()


def quantile(counts: list[int], q: float) -> float:
    total = sum(counts)
    target, seen = q * total, 0
    for i, c in enumerate(counts):
        seen += c
        if c and seen >= target:
            return (i + 1) * BUCKET
    return 0.0


def worst(counts: list[int]) -> float:
    return (max((i for i, c in enumerate(counts) if c), default=-1) + 1) * BUCKET


# -- the watcher process ----------------------------------------------------------------


class WatchState:
    def __init__(self) -> None:
        self.counts = [0] * BUCKETS
        self.deliveries = 0
        self.streaming = 0  # got the 200 response head
        self.ended = 0  # streams that ended (or broke) before we closed them
        self.failed: list[str] = []


async def watch_one(
    url: str, ctx: ssl.SSLContext, rv: str, state: WatchState, gate: asyncio.Semaphore
) -> None:
    host, port = split_url(url)
    async with gate:  # a bounded number of TLS handshakes at once
        try:
            reader, writer = await asyncio.open_connection(host, port, ssl=ctx, limit=2**20)
        except OSError as err:
            state.failed.append(repr(err))
            return
        writer.write(f"GET {PATH}?watch=true&resourceVersion={rv} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    counts, last, clock = state.counts, BUCKETS - 1, time.time
    try:
        status = int((await reader.readuntil(b"\r\n")).split()[1])
        while await reader.readuntil(b"\r\n") != b"\r\n":
            pass
        if status != 200:
            state.failed.append(f"status {status}")
            return
        state.streaming += 1
        buffer = b""
        while size := int(await reader.readuntil(b"\r\n"), 16):
            data = await reader.readexactly(size + 2)
            now = clock()
            buffer += data[:-2]
            end = buffer.rfind(b"\n")
            if end < 0:
                continue
            lines, buffer = buffer[: end + 1], buffer[end + 1 :]
            at = lines.find(T_MARK)
            while at >= 0:
                at += len(T_MARK)
                stop = lines.index(b'"', at)
                i = int((now - float(lines[at:stop])) / BUCKET)
                counts[i if 0 <= i < last else (0 if i < 0 else last)] += 1
                state.deliveries += 1
                at = lines.find(T_MARK, stop)
        state.ended += 1
    except (OSError, asyncio.IncompleteReadError, ValueError) as err:
        state.ended += 1
        state.failed.append(repr(err)[:200])
    finally:
        writer.close()


async def watchers_main(url: str, kubeconfig: Path, rv: str, n: int, pipe: Pipe) -> None:
    ctx = client_context(kubeconfig)
    state = WatchState()
    gate = asyncio.Semaphore(32)
    tasks = [asyncio.create_task(watch_one(url, ctx, rv, state, gate)) for _ in range(n)]
    deadline = time.monotonic() + 120
    while state.streaming + len(state.failed) < n and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    pipe.send(("open", state.streaming, state.failed[:5]))
    expected, timeout = await asyncio.to_thread(pipe.recv)  # from the writer, once it is done
    deadline = time.monotonic() + timeout
    while state.deliveries < expected and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    ended_early = state.ended
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send(("done", state.counts, state.deliveries, ended_early, state.failed[:5]))


def watcher_process(url: str, kubeconfig: Path, rv: str, n: int, pipe: Pipe, loop: str) -> None:
    raise_fd_limit()
    use_loop(loop)
    asyncio.run(watchers_main(url, kubeconfig, rv, n, pipe))


# -- the server and the writer ----------------------------------------------------------


def start_apiserver(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    log = (data_dir.parent / "apiserver.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "apiserver", "--data-dir", str(data_dir), "--secure-port", "0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"ready at (https://\S+)", line)
        if match:
            return proc, match.group(1)
    raise SystemExit(f"apiserver did not start; see {log.name}")


async def gauge(conn: Connection) -> float:
    status, body = await conn.request("GET", "/metrics")
    match = re.search(rb"^apiserver_registered_watchers (\S+)$", body, re.M)
    if status != 200 or match is None:
        raise RuntimeError(f"/metrics: {status} {body[:200]!r}")
    return float(match.group(1))


async def write_all(url: str, ctx: ssl.SSLContext, *, rate: float, seconds: float) -> tuple[int, int, float]:
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(32):
        pool.put_nowait(await Connection.open(url, ctx))
    failures = 0

    async def create(i: int) -> None:
        nonlocal failures
        conn = await pool.get()
        try:
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"w{i}"},
                    "data": {"t": repr(time.time())}}  # fmt: skip
            status, _ = await conn.request("POST", PATH, orjson.dumps(body))
            failures += status != 201
        finally:
            pool.put_nowait(conn)

    writes = int(rate * seconds)
    pending: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    for i in range(writes):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(create(i))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().close()
    return writes, failures, elapsed


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        server, url = start_apiserver(data_dir)
        child: multiprocessing.process.BaseProcess | None = None
        try:
            kubeconfig = data_dir / "admin.kubeconfig"
            ctx = client_context(kubeconfig)
            admin = await Connection.open(url, ctx)
            status, body = await admin.request("GET", PATH)
            if status != 200:
                raise SystemExit(f"list failed: {status} {body[:300]!r}")
            rv = orjson.loads(body)["metadata"]["resourceVersion"]
            await asyncio.sleep(1.0)
            rss_before = rss_kib(server.pid)

            mp = multiprocessing.get_context("spawn")
            ours, theirs = mp.Pipe()
            child = mp.Process(
                target=watcher_process, args=(url, kubeconfig, rv, args.watchers, theirs, args.loop)
            )
            opened_at = time.perf_counter()
            child.start()
            assert child.pid is not None
            _, streaming, failed = await asyncio.to_thread(ours.recv)
            registered = 0.0
            for _ in range(200):
                registered = await gauge(admin)
                if registered >= args.watchers:
                    break
                await asyncio.sleep(0.1)
            connect_s = time.perf_counter() - opened_at
            await asyncio.sleep(1.0)
            rss_after = rss_kib(server.pid)
            print(
                f"{streaming} watch streams open ({registered:.0f} registered at the server) in {connect_s:.1f} s"
                + (f"; failures: {failed}" if failed else "")
            )

            cpu_server, cpu_child, cpu_self = (
                process_cpu(server.pid),
                process_cpu(child.pid),
                process_cpu(os.getpid()),
            )
            writes, write_failures, elapsed = await write_all(url, ctx, rate=args.rate, seconds=args.seconds)
            expected = (writes - write_failures) * streaming
            registered_end = await gauge(admin)
            ours.send((expected, 120.0))
            _, counts, deliveries, ended_early, errors = await asyncio.to_thread(ours.recv)
            waited = time.perf_counter() - opened_at - connect_s
            cpu_server = process_cpu(server.pid) - cpu_server
            cpu_child = process_cpu(child.pid) - cpu_child
            cpu_self = process_cpu(os.getpid()) - cpu_self
            admin.close()
            child.join(30)
        finally:
            if child is not None and child.is_alive():
                child.kill()
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    p50, p99 = quantile(counts, 0.50), quantile(counts, 0.99)
    print(
        f"\n{args.watchers} watchers, {writes} ConfigMap creates at {writes / elapsed:.0f}/s"
        f" ({write_failures} failed), {os.cpu_count()} cores"
    )
    print(
        f"  deliveries         {deliveries} of {expected}"
        f" ({deliveries / max(1, expected) * 100:.1f}%); streams ended early: {ended_early};"
        f" registered after the writes: {registered_end:.0f}" + (f"; errors: {errors}" if errors else "")
    )
    print(
        f"  commit→receive     p50 {p50 * 1e3:.1f} ms   p99 {p99 * 1e3:.1f} ms   max {worst(counts) * 1e3:.1f} ms"
    )
    print(
        f"  CPU (writes + drain, {waited:.1f} s)  server {cpu_server / waited * 100:.0f}%,"
        f" watchers {cpu_child / waited * 100:.0f}%, writer {cpu_self / waited * 100:.0f}% of one core;"
        f" server {cpu_server / max(1, deliveries) * 1e6:.1f} µs per delivery"
    )
    print(
        f"  server RSS         {rss_before / 1024:.0f} MiB before watchers, {rss_after / 1024:.0f} MiB with them:"
        f" {(rss_after - rss_before) / max(1, streaming):.1f} KiB per watcher"
    )
    print(f"  p99 / goal (100 ms) = {p99 / GOAL_P99:.2f}  (≤ 1.0 meets the goal)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="100 watchers for 3 s")
    parser.add_argument(
        "--loop", choices=["uvloop", "asyncio"], default="uvloop", help="the clients' event loop"
    )
    args = parser.parse_args()
    if args.quick:
        args.watchers, args.seconds = 100, 3.0
    raise_fd_limit()
    use_loop(args.loop)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
