"""``--workers N``: one API server served by N processes that share its port.

kube-apiserver is one Go process and uses every core; a Python process uses one, and
its event loop is what limits the creates and the watch fan-out a server sustains. So
on etcd the server can run as N whole API servers, exactly as an HA control plane runs
several kube-apiservers on one etcd, except that they share one port: each worker binds
it with ``SO_REUSEPORT`` and the kernel spreads new connections over them. Every worker
has its own watch caches fed by etcd, so a watch opened on one sees the writes made
through the others; everything that must be unique (resource versions, ClusterIPs,
NodePorts) is decided in etcd by compare-and-swap already. The embedded SQLite store
belongs to one process, hence etcd only.

This process is only the supervisor. It creates the PKI once, holds the port (bound,
not listening, so port 0 stays the same for every worker), starts the first worker
alone — its bootstrap writes the default namespaces and RBAC objects — then the rest,
and prints the one ``ready`` line when all of them serve. SIGTERM and SIGINT are passed
on to every worker, which drains as a single server does. If a worker dies on its own,
the others are stopped and the supervisor exits 1, so that whatever runs it (systemd,
a container runtime, ``pyctl up``) restarts the whole server.

Each worker answers ``/metrics`` for itself, as each kube-apiserver behind a load
balancer does: a scrape sees one worker's counters.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import selectors
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import IO

from apiserver.options import Options
from apiserver.server import GRACEFUL_TIMEOUT, tls_files
from apiserver.tls import bind

logger = logging.getLogger("apiserver.workers")

READY_TIMEOUT = 120.0
_PR_SET_PDEATHSIG = 1


def supervise(options: Options, *, argv: list[str]) -> int:
    """Run ``options.workers`` API server processes on one port; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    options.data_dir.mkdir(parents=True, exist_ok=True)
    tls_files(options)  # the PKI, created once here rather than raced by the workers
    try:
        reserved = bind(options.bind_address, options.secure_port, reuse_port=True, listen=False)
    except OSError as err:
        print(f"apiserver: {err} (listening on {options.bind_address}:{options.secure_port})", file=sys.stderr)
        return 1
    port = reserved.getsockname()[1]
    command = [sys.executable, "-m", "apiserver", *argv, "--secure-port", str(port), "--workers", "1", "--reuse-port"]
    workers: list[subprocess.Popen[str]] = []
    stopping = threading.Event()

    def on_signal(sig: int, _frame: FrameType | None) -> None:
        stopping.set()
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                worker.send_signal(sig)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        ready = ""
        # The first alone: its bootstrap creates what the others then find.
        for batch in ([0], range(1, options.workers)):
            started = [_start(command) for _ in batch]
            workers.extend(started)
            for worker in started:
                line = _wait_ready(worker, stopping)
                if line is None:
                    _stop(workers)
                    return 1 if not stopping.is_set() else 0
                ready = ready or line
        reserved.close()
        for worker in workers:
            threading.Thread(target=_forward, args=(worker.stdout,), daemon=True).start()
        print(f"{ready} with {options.workers} workers", flush=True)
        return _watch(workers, stopping)
    finally:
        reserved.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _die_with_parent() -> None:
    # A worker must not outlive a supervisor that was killed outright (SIGKILL, OOM).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(command: list[str]) -> subprocess.Popen[str]:
    # Its own process group: a terminal's Ctrl+C reaches the supervisor once, which
    # passes it on once (a worker takes a second SIGINT as "stop waiting for requests").
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_die_with_parent
    )


def _wait_ready(worker: subprocess.Popen[str], stopping: threading.Event) -> str | None:
    """The worker's ``ready`` line; None if it exited, we are stopping, or it took longer
    than ``READY_TIMEOUT`` (then it is stopped here)."""
    assert worker.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(worker.stdout, selectors.EVENT_READ)
        while not stopping.is_set() and time.monotonic() < deadline:
            if not selector.select(timeout=0.2):
                continue
            line = worker.stdout.readline()
            if not line:
                break  # it exited
            if " ready at " in line:
                return line.rstrip("\n")
            print(line, end="", flush=True)
    if not stopping.is_set():
        logger.error("worker %d did not become ready (exit code %s)", worker.pid, worker.poll())
    return None


def _forward(stream: IO[str] | None) -> None:
    if stream is None:
        return
    for line in stream:
        print(line, end="", flush=True)


def _watch(workers: list[subprocess.Popen[str]], stopping: threading.Event) -> int:
    """Until every worker has exited: 0 when all stopped cleanly on our signal."""
    while not stopping.is_set():
        for worker in workers:
            code = worker.poll()
            if code is not None and not stopping.is_set():
                logger.error("worker %d exited with code %d; stopping the others", worker.pid, code)
                _stop(workers)
                return 1
        stopping.wait(0.2)
    codes = _wait_all(workers, timeout=GRACEFUL_TIMEOUT + 10)
    return 0 if all(code == 0 for code in codes) else 1


def _stop(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                worker.terminate()
    _wait_all(workers, timeout=GRACEFUL_TIMEOUT + 10)


def _wait_all(workers: list[subprocess.Popen[str]], *, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    codes = []
    for worker in workers:
        try:
            codes.append(worker.wait(max(0.1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            logger.error("worker %d did not stop in time; killing it", worker.pid)
            worker.kill()
            codes.append(worker.wait())
    return codes
