"""Watch fan-out over HTTPS: commit → receive latency with 1,000 watchers on the real server.

Goal (design): 1,000 watchers, 200 events/s, commit → receive p99 ≤ 100 ms. ``bench/watch.py``
measures the watch cache alone, in process; this measures the whole path a client sees:
``python -m apiserver`` (SQLite store, in a temp dir) is started as users start it, and

* a **watcher process** opens N watches (``GET /api/v1/namespaces/default/configmaps
  ?watch=true&resourceVersion=<rv of a list>``), each on its own TLS connection with the
  admin client certificate. It must not be the bottleneck on a 2-core machine where it
  shares the cores with the server, so each watch is an ``asyncio.Protocol`` on uvloop
  (no streams, no task per connection) that parses the chunk framing incrementally and
  takes each event's timestamp from the bytes of its ``"t":"…"`` field without a JSON
  decode. It notes each chunk's receive time as it arrives; ``receive time − data.t``
  goes into a 0.1 ms histogram after the run (that binning's CPU is not counted). The
  watches mostly receive identical chunks, so a chunk's timestamps are parsed once and
  found by its bytes for the others (a dict lookup instead of a scan). Correctness
  is still checked: every event line must carry one timestamp, events are counted per
  watch and every watch must get every event, and 1% of the event lines are fully
  decoded with orjson and checked to be ADDED ConfigMap events in resourceVersion order;
* once the server's ``apiserver_registered_watchers`` gauge (``/metrics``) reaches N,
  the **writer** (this process) creates ConfigMaps open-loop at a fixed rate (each create
  starts on schedule whether or not earlier ones finished), each carrying in ``data.t``
  the ``time.time()`` taken just before its POST.

So the latency includes the POST (TLS, admission, the SQLite commit), the watch cache
fan-out, JSON encoding, N TLS socket writes and the client's read. Reported: p50/p99/max
over all deliveries, deliveries received vs expected, watch streams that ended early,
whether every watch got every event, the CPU each process spent and the CPU per
delivery (the server's net of the creates, whose cost is measured first with nobody
watching; the watcher process's), the server's VmRSS before the watchers connect and
after (per watcher), and p99 ÷ 100 ms. Writer, watchers and server are three processes
on the same machine and share its cores: the watchers' CPU is printed so a client-bound
run shows as one. On a machine shared with other work the latencies measure the share
of CPU the server got; the CPU per delivery does not.

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

from etcdproc import start_etcd, stop  # noqa: E402
from leanhttp import Connection, process_cpu, split_url, tree_cpu, tree_rss  # noqa: E402

from kube.kubeconfig import load_kubeconfig  # noqa: E402

GOAL_P99 = 0.100
BUCKET = 0.0001  # histogram resolution: 0.1 ms
BUCKETS = 300_000  # up to 30 s
PATH = "/api/v1/namespaces/default/configmaps"
T_FIELD = re.compile(rb'"t":"([^"]*)"')  # the writer's timestamp in data.t
PER_BUCKET = 1 / BUCKET
SAMPLE_EVERY = 100  # fully decode and check 1% of the event lines
PARSED_KEPT = 4096  # chunks remembered for the other watches that receive them


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
        self.received: list[tuple[float, tuple[float, ...]]] = []  # (receive time, stamps)
        self.parsed: dict[bytes, tuple[float, ...]] = {}  # chunk → its lines' timestamps
        self.deliveries = 0
        self.sampled = 0  # event lines fully decoded and checked
        self.streaming = 0  # got the 200 response head
        self.ended = 0  # streams that ended (or broke) before we closed them
        self.failed: list[str] = []
        self.watches: list[WatchStream] = []


class WatchStream(asyncio.Protocol):
    """One watch: the HTTP/1.1 response parsed incrementally as bytes arrive.

    Cheap on purpose, so that the client process is not what is measured: no streams, no
    task per connection, and an event's timestamp is read straight from the bytes of its
    ``"t":"<time>"`` field instead of decoding its JSON. Correctness is still checked:
    every event line must carry exactly one timestamp, events are counted per watch (the
    caller checks every watch got every event), and every ``SAMPLE_EVERY``-th line is
    fully decoded with orjson and checked to be a well-formed ADDED ConfigMap event with
    a newer resourceVersion than the previous sample of that watch.
    """

    def __init__(self, state: WatchState, request: bytes) -> None:
        self.state = state
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.need = -1  # -1: reading the head; -2: a chunk-size line; n >= 0: chunk data
        self.events = 0
        self.last_rv = 0
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.state.ended += 1
            if exc is not None:
                self.state.failed.append(repr(exc)[:200])
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        pos = 0
        try:
            while True:
                need = self.need
                if need >= 0:
                    if len(buffer) - pos < need + 2:
                        break
                    if need == 0:
                        self.finish()
                        return
                    self.events_in(bytes(buffer[pos : pos + need]))
                    pos += need + 2
                    self.need = -2
                elif need == -2:
                    eol = buffer.find(b"\r\n", pos)
                    if eol < 0:
                        break
                    self.need = int(buffer[pos:eol], 16)
                    pos = eol + 2
                else:
                    eoh = buffer.find(b"\r\n\r\n", pos)
                    if eoh < 0:
                        break
                    status = int(buffer[pos:eoh].split(None, 2)[1])
                    if status != 200 or b"transfer-encoding: chunked" not in buffer[pos:eoh].lower():
                        raise ValueError(
                            f"status {status}, not a chunked watch: {bytes(buffer[pos:eoh])[:200]!r}"
                        )
                    self.state.streaming += 1
                    pos = eoh + 4
                    self.need = -2
        except ValueError as err:
            self.state.failed.append(str(err)[:300])
            self.finish()
            return
        del buffer[:pos]

    def events_in(self, body: bytes) -> None:
        """A chunk's worth of event lines (the server writes whole lines per chunk).

        Only the receive time is taken here; the latencies are binned after the run.
        Most watches receive the very same chunks, so a chunk's timestamps are parsed
        (and its lines checked) once and looked up by its bytes for the other watches."""
        now = time.time()
        state = self.state
        stamps = state.parsed.get(body)
        if stamps is None:
            if not body.endswith(b"\n"):
                raise ValueError("a chunk that does not end with a whole event line")
            found = T_FIELD.findall(body)  # one C call for the whole chunk
            lines = body.count(b"\n")
            if len(found) != lines:
                raise ValueError(f"{lines} event lines but {len(found)} timestamps")
            stamps = tuple(map(float, found))
            if len(state.parsed) >= PARSED_KEPT:
                state.parsed.clear()
            state.parsed[body] = stamps
        state.received.append((now, stamps))
        seen = len(stamps)
        before = state.deliveries
        state.deliveries = before + seen
        self.events += seen
        # The lines whose global index is a multiple of SAMPLE_EVERY are decoded in full.
        first = -before % SAMPLE_EVERY
        if first < seen:
            split = body.split(b"\n")
            for k in range(first, seen, SAMPLE_EVERY):
                self.check(split[k])

    def check(self, line: bytes) -> None:
        event = orjson.loads(line)
        obj = event["object"]
        meta = obj["metadata"]
        rv = int(meta["resourceVersion"])
        valid = (
            event["type"] == "ADDED" and obj["kind"] == "ConfigMap" and meta["name"].startswith("w")
            and float(obj["data"]["t"]) > 0 and rv > self.last_rv
        )  # fmt: skip
        if not valid:
            raise ValueError(f"not the watch event expected: {line[:300]!r}")
        self.last_rv = rv
        self.state.sampled += 1

    def finish(self) -> None:
        if not self.done.done():
            self.state.ended += 1
            self.done.set_result(None)
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        if not self.done.done():
            self.done.set_result(None)
        if self.transport is not None:
            self.transport.abort()


async def open_watches(url: str, ctx: ssl.SSLContext, rv: str, n: int, state: WatchState) -> None:
    host, port = split_url(url)
    request = f"GET {PATH}?watch=true&resourceVersion={rv} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(32)  # a bounded number of TLS handshakes at once

    async def one() -> None:
        async with gate:
            stream = WatchStream(state, request)
            try:
                await loop.create_connection(lambda: stream, host, port, ssl=ctx)
            except OSError as err:
                state.failed.append(repr(err))
                return
            state.watches.append(stream)

    await asyncio.gather(*(one() for _ in range(n)))


async def watchers_main(url: str, kubeconfig: Path, rv: str, n: int, pipe: Pipe) -> None:
    ctx = client_context(kubeconfig)
    state = WatchState()
    opening = asyncio.create_task(open_watches(url, ctx, rv, n, state))
    deadline = time.monotonic() + 120
    while state.streaming + len(state.failed) < n and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    await opening
    pipe.send(("open", state.streaming, state.failed[:5]))
    expected, timeout = await asyncio.to_thread(pipe.recv)  # from the writer, once it is done
    deadline = time.monotonic() + timeout
    while state.deliveries < expected and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    ended_early = state.ended
    per_watch = sorted({w.events for w in state.watches})
    for watch in state.watches:
        watch.close()
    started = time.process_time()
    counts = histogram(state.received)
    binning = time.process_time() - started  # after the run: not part of the measured CPU
    pipe.send(
        ("done", counts, state.deliveries, ended_early, state.failed[:5], per_watch, state.sampled, binning)
    )


def histogram(received: list[tuple[float, tuple[float, ...]]]) -> list[int]:
    counts, last = [0] * BUCKETS, BUCKETS - 1
    for now, stamps in received:
        for stamp in stamps:
            i = int((now - stamp) * PER_BUCKET)
            counts[i if 0 <= i < last else (0 if i < 0 else last)] += 1
    return counts


def watcher_process(url: str, kubeconfig: Path, rv: str, n: int, pipe: Pipe, loop: str) -> None:
    raise_fd_limit()
    use_loop(loop)
    asyncio.run(watchers_main(url, kubeconfig, rv, n, pipe))


# -- the server and the writer ----------------------------------------------------------


def start_apiserver(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    log = (data_dir.parent / "apiserver.log").open("w")
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


async def gauge(conn: Connection) -> float:
    status, body = await conn.request("GET", "/metrics")
    match = re.search(rb"^apiserver_registered_watchers (\S+)$", body, re.M)
    if status != 200 or match is None:
        raise RuntimeError(f"/metrics: {status} {body[:200]!r}")
    return float(match.group(1))


async def write_all(
    url: str, ctx: ssl.SSLContext, *, rate: float, seconds: float, prefix: str = "w"
) -> tuple[int, int, float]:
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(32):
        pool.put_nowait(await Connection.open(url, ctx))
    failures = 0

    async def create(i: int) -> None:
        nonlocal failures
        conn = await pool.get()
        try:
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{prefix}{i}"},
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
        etcd: subprocess.Popen[bytes] | None = None
        extra: list[str] = []
        if args.etcd or args.workers > 1:
            etcd, endpoint = start_etcd(Path(tmp))
            extra = ["--etcd-servers", endpoint, "--workers", str(args.workers)]
        server, url = start_apiserver(data_dir, *extra)
        # Each worker answers /metrics for itself: its gauge counts its own watchers.
        per_worker = args.workers > 1
        child: multiprocessing.process.BaseProcess | None = None
        try:
            kubeconfig = data_dir / "admin.kubeconfig"
            ctx = client_context(kubeconfig)
            admin = await Connection.open(url, ctx)
            # Calibration: what a create costs the server with nobody watching, so the
            # per-delivery figure can be given net of the creates (before the list whose
            # revision the watches start from, so the watchers never see these).
            cpu_calibrate = tree_cpu(server.pid)
            calibrated, _, _ = await write_all(
                url, ctx, rate=args.rate, seconds=min(2.0, args.seconds), prefix="c"
            )
            per_create = (tree_cpu(server.pid) - cpu_calibrate) / max(1, calibrated)
            status, body = await admin.request("GET", PATH)
            if status != 200:
                raise SystemExit(f"list failed: {status} {body[:300]!r}")
            rv = orjson.loads(body)["metadata"]["resourceVersion"]
            await asyncio.sleep(1.0)
            rss_before = tree_rss(server.pid)

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
            for _ in range(0 if per_worker else 200):
                registered = await gauge(admin)
                if registered >= args.watchers:
                    break
                await asyncio.sleep(0.1)
            if per_worker:  # a watch is registered before its response head is sent
                registered = float(streaming)
            connect_s = time.perf_counter() - opened_at
            await asyncio.sleep(1.0)
            rss_after = tree_rss(server.pid)
            print(
                f"{streaming} watch streams open ({registered:.0f} registered at the server) in {connect_s:.1f} s"
                + (f"; failures: {failed}" if failed else "")
            )

            cpu_server, cpu_child, cpu_self = (
                tree_cpu(server.pid),
                process_cpu(child.pid),
                process_cpu(os.getpid()),
            )
            writes, write_failures, elapsed = await write_all(url, ctx, rate=args.rate, seconds=args.seconds)
            expected = (writes - write_failures) * streaming
            admin.close()  # idle for the whole write phase: the server may have closed it
            admin = await Connection.open(url, ctx)
            registered_end = float("nan") if per_worker else await gauge(admin)
            ours.send((expected, 120.0))
            _, counts, deliveries, ended_early, errors, per_watch, sampled, binning = await asyncio.to_thread(
                ours.recv
            )
            waited = time.perf_counter() - opened_at - connect_s
            cpu_server = tree_cpu(server.pid) - cpu_server
            cpu_child = process_cpu(child.pid) - cpu_child - binning
            cpu_self = process_cpu(os.getpid()) - cpu_self
            admin.close()
            child.join(30)
        finally:
            if child is not None and child.is_alive():
                child.kill()
            stop(server)
            if etcd is not None:
                stop(etcd)

    p50, p99 = quantile(counts, 0.50), quantile(counts, 0.99)
    print(
        f"\n{args.watchers} watchers, {writes} ConfigMap creates at {writes / elapsed:.0f}/s"
        f" ({write_failures} failed), {os.cpu_count()} cores"
    )
    print(
        f"  deliveries         {deliveries} of {expected}"
        f" ({deliveries / max(1, expected) * 100:.1f}%); streams ended early: {ended_early};"
        + (f" registered after the writes: {registered_end:.0f}" if registered_end == registered_end else "")
        + (f"; errors: {errors}" if errors else "")
    )
    complete = per_watch == [writes - write_failures]
    print(
        f"  per watch          {'every watch got every event' if complete else f'UNEVEN: event counts {per_watch[:10]}'};"
        f" {sampled} event lines ({sampled / max(1, deliveries) * 100:.1f}%) fully decoded and checked"
    )
    print(
        f"  commit→receive     p50 {p50 * 1e3:.1f} ms   p99 {p99 * 1e3:.1f} ms   max {worst(counts) * 1e3:.1f} ms"
    )
    print(
        f"  CPU (writes + drain, {waited:.1f} s)  server {cpu_server / waited * 100:.0f}%,"
        f" watchers {cpu_child / waited * 100:.0f}%, writer {cpu_self / waited * 100:.0f}% of one core;"
        f" server {cpu_server / max(1, deliveries) * 1e6:.1f} µs per delivery"
    )
    net = (cpu_server - per_create * writes) / max(1, deliveries)
    print(
        f"  CPU per delivery   server {net * 1e6:.1f} µs net of the creates ({per_create * 1e3:.2f} ms each,"
        f" measured with no watchers), watchers {cpu_child / max(1, deliveries) * 1e6:.1f} µs"
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
    parser.add_argument("--etcd", action="store_true", help="store in a throwaway etcd instead of SQLite")
    parser.add_argument(
        "--workers", type=int, default=1, help="API server processes (python -m apiserver --workers; implies --etcd)"
    )
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
