"""A throwaway etcd for the benchmarks that compare against it (storage, API server).

Started on free loopback ports with its data under the given directory (on disk, so its
per-commit fsync is part of what is measured); ``stop`` it when done.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_etcd(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start etcd and wait until it answers healthy; returns it and its client URL."""
    client, peer = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    log = (workdir / "etcd.log").open("wb")
    proc = subprocess.Popen(
        ["etcd", "--name", "bench", "--data-dir", str(workdir / "etcd"),
         "--listen-client-urls", client, "--advertise-client-urls", client,
         "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
         "--initial-cluster", f"bench={peer}", "--logger", "zap", "--log-level", "error"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{client}/health", timeout=1) as resp:
                if b'"health":"true"' in resp.read():
                    return proc, client
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"etcd did not start: {(workdir / 'etcd.log').read_text()[-2000:]}")


def stop(proc: subprocess.Popen[Any]) -> None:
    """Terminate a benchmark's child process (etcd, the API server) and reap it."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
