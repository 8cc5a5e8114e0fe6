"""Watch cache fan-out benchmark: commit → receive latency with 1,000 watchers.

Goal (docs/benchmarks.md, design): 1,000 watchers, 200 events/s, p99 ≤ 100 ms. One
``Cacher`` over the real SQLite storage; a writer commits pods at a steady rate, each
stamped with the time just before its write call; every watcher notes when the event
reaches it. Two shapes of load, because they cost very differently:

* ``all`` — 1,000 unfiltered watchers (controllers, kubectl): every event reaches every
  watcher, 200,000 deliveries/s. The worst case for the fan-out.
* ``nodes`` — 1,000 kubelet-style watchers (``spec.nodeName=node-i``): each event reaches
  one watcher through the node index, plus 10 unfiltered watchers (scheduler,
  controllers) as in a real cluster.

The anchor, in the same run: one raw storage watch consuming the same writes — the
floor that the cache adds its fan-out to. Figures are in-process (no HTTP, no JSON);
an HTTP-level fan-out bench comes later. Memory: VmRSS growth per watcher (watcher,
its buffer and its reader task).

    .venv/bin/python bench/watch.py [--scenario all|nodes|both] [--watchers 1000]
                                    [--rate 200] [--seconds 10] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import pathlib
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from typing import Any

# The repository first, so ``apiserver`` is the package and not bench/apiserver.py.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from apiserver.storage import Storage, open_storage
from apiserver.watchcache import Cacher, Watcher
from kube.fields import object_fields
from kube.fields import parse as parse_fields

GOAL_P99 = 0.100
BUCKET = 0.0001  # latency histogram resolution: 0.1 ms
BUCKETS = 200_000  # up to 20 s


def pod_fields(obj: dict[str, Any]) -> Mapping[str, str]:
    return object_fields("pods", obj)


class Latencies:
    """A fixed histogram, so recording costs no allocation and no memory growth. The
    readers bump ``counts`` inline: the bench should spend its time in the cache."""

    def __init__(self) -> None:
        self.counts = [0] * BUCKETS

    @property
    def n(self) -> int:
        return sum(self.counts)

    @property
    def worst(self) -> float:
        top = max((i for i, c in enumerate(self.counts) if c), default=0)
        return (top + 1) * BUCKET

    def add(self, seconds: float) -> None:
        i = int(seconds / BUCKET)
        self.counts[i if i < BUCKETS else BUCKETS - 1] += 1

    def quantile(self, q: float) -> float:
        target = q * self.n
        seen = 0
        for i, c in enumerate(self.counts):
            seen += c
            if seen >= target and c:
                return (i + 1) * BUCKET
        return self.worst


def rss_kib() -> int:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


SENT: dict[str, float] = {}
"""Pod name → time just before its write call."""


async def consume(watcher: Watcher, latencies: Latencies) -> None:
    counts, clock, sent, last = latencies.counts, time.perf_counter, SENT, BUCKETS - 1
    async for event in watcher:
        i = int((clock() - sent[event.object["metadata"]["name"]]) / BUCKET)
        counts[i if i < last else last] += 1


async def consume_storage(storage: Storage, revision: int, latencies: Latencies) -> None:
    async for event in storage.watch("/registry/pods/", revision=revision):
        latencies.add(time.perf_counter() - SENT[event.object["metadata"]["name"]])


async def write(storage: Storage, i: int, *, nodes: int) -> None:
    name = f"p{i}"
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "bench"}},
        "spec": {"nodeName": f"node-{i % nodes}", "containers": [{"name": "c", "image": "busybox"}]},
    }
    SENT[name] = time.perf_counter()
    await storage.create(f"/registry/pods/default/{name}", pod)


async def run(*, scenario: str, watchers: int, rate: float, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        storage = await open_storage(data_dir=pathlib.Path(tmp))
        cacher = Cacher(
            storage=storage, resource="pods", prefix="/registry/pods/", fields_of=pod_fields,
            kind="Pod", api_version="v1",
        )
        await cacher.start()
        latencies, floor = Latencies(), Latencies()
        gc.collect()
        rss_before = rss_kib()
        opened: list[Watcher] = []
        if scenario == "all":
            opened = [cacher.watch(revision=0) for _ in range(watchers)]
        else:
            opened = [cacher.watch(revision=0, field_selector=parse_fields(f"spec.nodeName=node-{i}")) for i in range(watchers)]
            opened += [cacher.watch(revision=0) for _ in range(10)]
        readers = [asyncio.create_task(consume(w, latencies)) for w in opened]
        anchor = asyncio.create_task(consume_storage(storage, cacher.revision, floor))
        await asyncio.sleep(0.2)
        gc.collect()
        rss_watching = rss_kib()

        writes = int(rate * seconds)
        per_event = watchers if scenario == "all" else 1 + 10
        expected = writes * per_event
        cpu0, start = cpu_seconds(), time.perf_counter()
        # Open loop: each write starts on its own schedule whether or not earlier ones
        # have finished, as independent clients would, so a slow moment shows up as
        # latency instead of silently lowering the offered rate.
        pending: set[asyncio.Task[None]] = set()
        for i in range(writes):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(write(storage, i, nodes=watchers))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        wrote = time.perf_counter() - start
        deadline = time.perf_counter() + 30
        # Polling a counter the readers bump: an Event would cost them a check per event.
        while latencies.n < expected and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - start
        cpu = cpu_seconds() - cpu0
        rss_after = rss_kib()

        await cacher.stop()
        for task in [*readers, anchor]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await storage.close()
    return {
        "watchers": len(opened),
        "writes": writes,
        "write_rate": writes / wrote,
        "deliveries": latencies.n,
        "expected": expected,
        "p50": latencies.quantile(0.50),
        "p99": latencies.quantile(0.99),
        "max": latencies.worst,
        "floor_p50": floor.quantile(0.50),
        "floor_p99": floor.quantile(0.99),
        "cpu_per_delivery_us": cpu / max(1, latencies.n) * 1e6,
        "cpu_per_write_us": cpu / max(1, writes) * 1e6,
        "cpu_share": cpu / elapsed,
        "rss_per_watcher_kib": (rss_watching - rss_before) / len(opened),
        "rss_mib": rss_after / 1024,
        "slow_closed": cacher.stats.closed_slow,
    }


def report(scenario: str, r: dict[str, float]) -> None:
    print(f"\n[{scenario}] {r['watchers']:.0f} watchers, {r['writes']:.0f} writes at {r['write_rate']:.0f}/s")
    print(f"  deliveries         {r['deliveries']:.0f} of {r['expected']:.0f}"
          f" (watchers closed as slow: {r['slow_closed']:.0f})")
    print(f"  commit→receive     p50 {r['p50'] * 1e3:.1f} ms   p99 {r['p99'] * 1e3:.1f} ms"
          f"   max {r['max'] * 1e3:.1f} ms")
    print(f"  anchor (1 storage watch, same writes)  p50 {r['floor_p50'] * 1e3:.1f} ms"
          f"   p99 {r['floor_p99'] * 1e3:.1f} ms")
    print(f"  CPU                {r['cpu_share'] * 100:.0f}% of one core,"
          f" {r['cpu_per_write_us']:.0f} µs per write, {r['cpu_per_delivery_us']:.1f} µs per delivery"
          " (storage, writer and readers included)")
    print(f"  memory             {r['rss_per_watcher_kib']:.1f} KiB RSS per watcher"
          f" (watcher + reader task); process {r['rss_mib']:.0f} MiB")
    print(f"  p99 / goal (100 ms) = {r['p99'] / GOAL_P99:.2f}  (≤ 1.0 meets the goal)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["all", "nodes", "both"], default="both")
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop",
                        help="uvloop is what uvicorn runs the API server on when installed")
    args = parser.parse_args()
    loop = args.loop
    if loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            loop = "asyncio"
        else:
            uvloop.install()
    if args.scenario == "both":
        # One process per scenario, so each one's memory figure starts from a clean heap.
        for scenario in ("all", "nodes"):
            argv = [sys.executable, __file__, "--scenario", scenario, "--watchers", str(args.watchers),
                    "--rate", str(args.rate), "--seconds", str(args.seconds), "--loop", args.loop]
            subprocess.run(argv, check=True)
        return
    print(f"watch cache fan-out: python {sys.version.split()[0]}, {loop} loop, sqlite storage")
    result = asyncio.run(run(scenario=args.scenario, watchers=args.watchers, rate=args.rate, seconds=args.seconds))
    report(args.scenario, result)


if __name__ == "__main__":
    main()
