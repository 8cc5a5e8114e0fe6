"""Scheduler benchmark, shaped like kube-scheduler's scheduler_perf SchedulingBasic.

Run: ``.venv/bin/python bench/scheduler.py`` (``--quick`` for small sizes,
``--sizes 500x1000,5000x10000`` to choose, ``--profile`` to cProfile the in-process run,
``--profile-scheduler out.prof`` / ``--profile-apiserver out.prof`` to cProfile that
process of the end-to-end runs by CPU time, ``--modes streaming`` and
``--no-in-process`` to run less).

For each size (nodes × pods):

1. **In-process** — the scheduler's own capacity with no API in the way: a complete
   scheduler (real profile, queue, cache, plugins, decision records and annotations)
   whose binder only records the decision. Reported with the per-signature node memo
   on and off, so the cost of the algorithm itself is visible, with the p50/p99 of one
   scheduling cycle (pop → bind started).
2. **End to end** — ``python -m apiserver`` and ``python -m scheduler`` started as
   users start them; fake Node objects created through the API (no kubelets), then
   SchedulingBasic-like pods (one container, 100m CPU, 100Mi memory) created at
   concurrency 32 while the scheduler runs. A watch in this process notes when each pod
   is first seen bound. Throughput is pods ÷ (first create sent → last bind seen);
   latency is per pod, create sent → bind seen (p50/p99).
   Also run with the pods created *before* the scheduler starts ("preloaded"), which
   takes pod creation off the API server while the scheduler works, and — for the
   first size — with pods created open-loop at a steady ``--pace`` (50/s) below
   capacity, so create→bound latency measures one pod's trip, not a backlog.
   CPU seconds of the scheduler and the API server are read from /proc and reported
   per pod: on a shared 2-core machine that figure carries over, wall time does not.

Anchor (test/integration/scheduler_perf, in Go, in-process apiserver + etcd):
SchedulingBasic 5,000 nodes: 680 pods/s. Goal here: ≥ 300 pods/s.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere

from kube.client import Client  # noqa: E402
from kube.kubeconfig import load_kubeconfig  # noqa: E402
from kube.resources import default_registry  # noqa: E402
from scheduler.builder import build_scheduler  # noqa: E402
from scheduler.config import SchedulerConfig  # noqa: E402
from scheduler.eventhandlers import EventHandlers  # noqa: E402
from scheduler.explain import DecisionStore  # noqa: E402
from scheduler.framework.podinfo import PodInfo  # noqa: E402
from scheduler.plugins.helpers import NodeMemo  # noqa: E402

ANCHOR_PODS_PER_S = 680.0
GOAL_PODS_PER_S = 300.0
REGISTRY = default_registry()
PODS = REGISTRY.lookup("pods")[0]
NODES = REGISTRY.lookup("nodes")[0]
NAMESPACES = REGISTRY.lookup("namespaces")[0]
EVENTS = REGISTRY.lookup("events")[0]
Obj = dict[str, Any]


def node_body(i: int) -> Obj:
    # scheduler_perf's default node: 4 CPU, 32Gi, 110 pods, spread over 3 zones.
    allocatable = {"cpu": "4", "memory": "32Gi", "pods": "110"}
    name = f"node-{i:05d}"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": f"zone-{i % 3}"},
        },
        "spec": {},
        "status": {
            "capacity": allocatable,
            "allocatable": allocatable,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod_body(i: int, namespace: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"pod-{i:06d}", "namespace": namespace, "uid": f"uid-{i}", "labels": {"app": "basic"}},
        "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                                 "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}}}]},
        "status": {"phase": "Pending"},
    }  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --- 1. in-process ---------------------------------------------------------------------


class RecordingApi:
    def __init__(self) -> None:
        self.binds = 0

    async def bind(self, pod: PodInfo, node: str, *, annotations: dict[str, str] | None = None) -> Obj:
        self.binds += 1
        return {}

    async def update_pod_status(self, pod: Obj, **_: Any) -> bool:
        return True

    async def annotate(self, pod: Obj, annotations: dict[str, str]) -> None:
        return None


async def in_process(
    nodes: int, pods: int, *, memo: bool, profile: bool
) -> tuple[float, float, float, float]:
    """(pods per wall second, pods per CPU second of this process, p50 and p99 of one
    scheduling cycle in ms)."""
    NodeMemo.enabled = memo
    api = RecordingApi()
    sched = build_scheduler(SchedulerConfig(), api=api, recorder=None, listers={}, decisions=DecisionStore())  # type: ignore[arg-type]
    handlers = EventHandlers(sched)
    for i in range(nodes):
        handlers.on_node_add(node_body(i))
    for i in range(pods):
        handlers.on_pod_add(pod_body(i, "bench"))
    prof = cProfile.Profile(time.process_time) if profile else None
    gc.collect()
    start, cpu_start = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    done = 0
    cycles: list[float] = []
    while sched.queue.pending()["active"]:
        t = time.perf_counter()
        await sched.schedule_one()
        cycles.append((time.perf_counter() - t) * 1000)
        done += 1
        if done % 64 == 0:
            await sched.drain()  # let the bindings (and the cache's confirmations) run
    await sched.drain()
    if prof:
        prof.disable()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    NodeMemo.enabled = True
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    assert api.binds == pods, f"bound {api.binds} of {pods}"
    return pods / elapsed, pods / cpu, percentile(cycles, 50), percentile(cycles, 99)


# --- 2. end to end ---------------------------------------------------------------------


class Process:
    def __init__(self, args: list[str], log: Path, ready: str) -> None:
        self.log_path = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + 120
        while not re.search(ready, log.read_text(errors="replace")):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[2]} did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def client_for(kubeconfig: Path) -> Client:
    cfg = load_kubeconfig(kubeconfig)
    return Client(cfg, qps=0, timeout=120)


async def create_paced(client: Client, bodies: list[Obj], *, namespace: str, rate: float,
                       sent: dict[str, float]) -> None:  # fmt: skip
    """Open loop: pod i is sent at start + i/rate whether or not earlier creates returned."""
    start = time.perf_counter()
    tasks = []
    for i, body in enumerate(bodies):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[body["metadata"]["name"]] = time.perf_counter()
        tasks.append(asyncio.ensure_future(client.create(PODS, body, namespace=namespace)))
    await asyncio.gather(*tasks)


async def create_all(client: Client, info: Any, bodies: list[Obj], *, namespace: str = "", concurrency: int = 32,
                     sent: dict[str, float] | None = None) -> None:  # fmt: skip
    queue: asyncio.Queue[Obj] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker() -> None:
        while not queue.empty():
            body = queue.get_nowait()
            if sent is not None:
                sent[body["metadata"]["name"]] = time.perf_counter()
            await client.create(info, body, namespace=namespace)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def wait_for_events(client: Client, *, want: int, quiet: float = 5.0) -> int:
    """How many Events the bench namespace holds once ``want`` are there, or once none
    arrived for ``quiet`` seconds (a list of one item: its remainingItemCount counts)."""
    count, last_change = -1, time.perf_counter()
    while True:
        page = await client.list(EVENTS, namespace="bench", limit=1)
        now = len(page["items"]) + int(page["metadata"].get("remainingItemCount") or 0)
        if now != count:
            count, last_change = now, time.perf_counter()
        if count >= want or time.perf_counter() - last_change > quiet:
            return count
        await asyncio.sleep(0.2)


async def watch_bound(
    client: Client, namespace: str, want: int, bound: dict[str, float], ready: asyncio.Event
) -> None:
    listed = await client.list(PODS, namespace=namespace)
    rv = listed["metadata"]["resourceVersion"]
    for pod in listed["items"]:
        if pod["spec"].get("nodeName"):
            bound.setdefault(pod["metadata"]["name"], time.perf_counter())
    ready.set()
    while len(bound) < want:
        async with client.watch(
            PODS, namespace=namespace, resource_version=rv, timeout_seconds=600
        ) as events:
            async for event in events:
                meta = event.object.get("metadata") or {}
                rv = meta.get("resourceVersion", rv)
                if (event.object.get("spec") or {}).get("nodeName"):
                    bound.setdefault(meta["name"], time.perf_counter())
                    if len(bound) >= want:
                        return


PROFILED_SCHEDULER = """
import cProfile, sys, time
from scheduler.__main__ import main
out = sys.argv.pop(1)
prof = cProfile.Profile(time.process_time)
prof.enable()
try:
    code = main(sys.argv[1:])
finally:
    prof.disable()
    prof.dump_stats(out)
sys.exit(code)
"""
"""``python -c`` source: the scheduler's main under cProfile, by CPU time, dumped on exit."""
PROFILED_APISERVER = PROFILED_SCHEDULER.replace(
    "from scheduler.__main__ import main",
    "from apiserver.options import parse\nfrom apiserver.server import main",
).replace("main(sys.argv[1:])", "main(parse(sys.argv[1:]))")


async def end_to_end(
    nodes: int,
    pods: int,
    *,
    preload: bool,
    workdir: Path,
    pace: float = 0.0,
    profile: str = "",
    profile_api: str = "",
) -> dict[str, float]:
    """``preload``: pods exist before the scheduler starts; ``pace``: pods are created at
    that rate (per second) instead of as fast as the API server takes them; ``profile``:
    where the scheduler process writes its profile; ``profile_api``: the API server's."""
    data = workdir / f"data-{nodes}-{pods}-{int(preload)}-{int(pace)}"
    label = "preloaded" if preload else "paced" if pace else "streaming"
    api_flags = ["--data-dir", str(data), "--secure-port", "0"]
    if profile_api:
        out = profile_api.replace(".prof", f"-{nodes}x{pods}-{label}.prof")
        api_args = [sys.executable, "-c", PROFILED_APISERVER, out, *api_flags]
    else:
        api_args = [sys.executable, "-m", "apiserver", *api_flags]
    api = Process(api_args, workdir / f"apiserver-{nodes}-{int(preload)}.log", r"ready.*https://")
    kubeconfig = data / "admin.kubeconfig"
    sched: Process | None = None
    client = client_for(kubeconfig)
    flags = ["--kubeconfig", str(kubeconfig), "--secure-port", "-1", "--kube-api-qps", "5000",
             "--kube-api-burst", "5000"]  # fmt: skip
    if profile:
        out = profile.replace(".prof", f"-{nodes}x{pods}-{label}.prof")
        sched_args = [sys.executable, "-c", PROFILED_SCHEDULER, out, *flags]
    else:
        sched_args = [sys.executable, "-m", "scheduler", *flags]
    sched_log = workdir / f"scheduler-{nodes}-{int(preload)}.log"
    try:
        await client.create(
            NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}
        )
        t = time.perf_counter()
        await create_all(client, NODES, [node_body(i) for i in range(nodes)])
        node_seconds = time.perf_counter() - t
        bound: dict[str, float] = {}
        sent: dict[str, float] = {}
        bodies = [pod_body(i, "bench") for i in range(pods)]
        for body in bodies:
            del body["metadata"]["uid"]
        if preload:
            await create_all(client, PODS, bodies, namespace="bench", sent=sent)
        ready = asyncio.Event()
        watcher = asyncio.ensure_future(watch_bound(client, "bench", pods, bound, ready))
        await ready.wait()
        sched = Process(sched_args, sched_log, r"ready:")
        cpu0 = sched.cpu_seconds()
        api_cpu0 = api.cpu_seconds()
        start = time.perf_counter()
        if pace:
            await create_paced(client, bodies, namespace="bench", rate=pace, sent=sent)
        elif not preload:
            await create_all(client, PODS, bodies, namespace="bench", sent=sent)
        await asyncio.wait_for(watcher, timeout=max(600, pods / 5))
        end = max(bound.values())
        # The Scheduled events trail the bindings (they are sent in the background): the
        # CPU figures include them, so wait for them to arrive (or stop coming).
        events = await wait_for_events(client, want=pods)
        events_lag = time.perf_counter() - end
        cpu = sched.cpu_seconds() - cpu0
        api_cpu = api.cpu_seconds() - api_cpu0
        first = start if preload else min(sent.values())
        latencies = [(bound[n] - sent[n]) * 1000 for n in sent] if not preload else []
        return {
            "pods_per_s": pods / (end - first),
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
            "sched_cpu_pct": 100 * cpu / (end - first + events_lag),
            "api_cpu_pct": 100 * api_cpu / (end - first + events_lag),
            "sched_ms_per_pod": 1000 * cpu / pods,
            "api_ms_per_pod": 1000 * api_cpu / pods,
            "node_create_s": node_seconds,
            "events": events,
            "events_lag_s": events_lag,
        }
    finally:
        if sched is not None:
            sched.stop()
        await client.close()
        api.stop()
        shutil.rmtree(data, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="100×200 and 500×1000 instead of 500×1000 and 5000×10000"
    )
    parser.add_argument("--sizes", default="", help="comma-separated NODESxPODS, e.g. 500x1000,5000x10000")
    parser.add_argument("--no-e2e", action="store_true", help="only the in-process measurement")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process run (memo on)")
    parser.add_argument("--pace", type=float, default=50.0, help="creation rate of the latency run (pods/s)")
    parser.add_argument(
        "--profile-scheduler",
        default="",
        metavar="PATH.prof",
        help="cProfile (CPU time) the scheduler process of each end-to-end run",
    )
    parser.add_argument(
        "--profile-apiserver",
        default="",
        metavar="PATH.prof",
        help="cProfile (CPU time) the API server process of each end-to-end run",
    )
    parser.add_argument(
        "--modes",
        default="streaming,preloaded,paced",
        help="which end-to-end runs: streaming, preloaded, paced",
    )
    parser.add_argument("--no-in-process", action="store_true", help="only the end-to-end measurements")
    parser.add_argument("--keep-logs", default="", help="copy the apiserver/scheduler logs to this directory")
    args = parser.parse_args()
    sizes = [(100, 200), (500, 1000)] if args.quick else [(500, 1000), (5000, 10000)]
    if args.sizes:
        sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]  # type: ignore[misc]
    print(
        f"anchor: scheduler_perf SchedulingBasic 5k nodes {ANCHOR_PODS_PER_S:.0f} pods/s (Go); goal ≥ {GOAL_PODS_PER_S:.0f} pods/s"
    )
    workdir = Path(tempfile.mkdtemp(prefix="kubesim-bench-scheduler-"))
    try:
        for nodes, pods in sizes:
            for memo in () if args.no_in_process else (True, False):
                wall, per_cpu, p50, p99 = await in_process(
                    nodes, pods, memo=memo, profile=args.profile and memo
                )
                label = "in-process          " if memo else "in-process, no memo "
                print(f"{nodes:>5} nodes × {pods:>5} pods | {label}: {wall:6.0f} pods/s wall, "
                      f"{per_cpu:6.0f} pods per CPU-second ({1000 / per_cpu:.2f} ms CPU/pod), "
                      f"cycle p50 {p50:.2f} ms p99 {p99:.2f} ms")  # fmt: skip
            if args.no_e2e:
                continue
            modes = args.modes.split(",")
            for preload, pace in ((False, 0.0), (True, 0.0), (False, args.pace)):
                if pace and nodes != sizes[0][0]:
                    continue  # latency at a steady rate: the first size is enough
                if ("paced" if pace else "preloaded" if preload else "streaming") not in modes:
                    continue
                r = await end_to_end(nodes, pods if not pace else min(pods, int(pace * 20)), preload=preload,
                                     workdir=workdir, pace=pace, profile=args.profile_scheduler,
                                     profile_api=args.profile_apiserver)  # fmt: skip
                label = "preloaded " if preload else f"paced {pace:.0f}/s" if pace else "streaming "
                lat = (
                    ""
                    if preload
                    else f", latency create→bound p50 {r['p50_ms']:.0f} ms p99 {r['p99_ms']:.0f} ms"
                )
                print(f"{nodes:>5} nodes × {pods:>5} pods | end to end, {label}: {r['pods_per_s']:6.0f} pods/s"
                      f"{lat} | ÷ anchor {r['pods_per_s'] / ANCHOR_PODS_PER_S:.2f}, ÷ goal "
                      f"{r['pods_per_s'] / GOAL_PODS_PER_S:.2f} | CPU: scheduler {r['sched_cpu_pct']:.0f}% of a core, "
                      f"{r['sched_ms_per_pod']:.2f} ms/pod; apiserver {r['api_cpu_pct']:.0f}%, "
                      f"{r['api_ms_per_pod']:.2f} ms/pod (with {r['events']:.0f} events, the last "
                      f"{r['events_lag_s']:.1f} s after the last bind) | load avg {os.getloadavg()[0]:.1f}")  # fmt: skip
    finally:
        _clean(workdir, keep_logs=args.keep_logs)


def _clean(workdir: Path, *, keep_logs: str) -> None:
    if keep_logs:
        Path(keep_logs).mkdir(parents=True, exist_ok=True)
        for log in workdir.glob("*.log"):
            shutil.copy(log, Path(keep_logs) / log.name)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
