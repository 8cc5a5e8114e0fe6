"""A real etcd for the tests that need one (marked ``@pytest.mark.etcd``).

One etcd per test session, on free loopback ports (client and peer, so parallel runs on
one machine do not collide), with its data in a temporary directory — on tmpfs when the
machine has one, because etcd fsyncs every commit and the tests care about behaviour,
not disk speed. Tests share it and isolate themselves by key prefix. ``EtcdServer`` is
also usable directly by a test that needs an etcd of its own (to stop or freeze it).

No etcd binary: the tests skip, except under ``CI=true``, where a missing etcd must not
quietly turn the suite green.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ETCD = "/usr/bin/etcd"
STARTUP_TIMEOUT = 30.0


def require_etcd() -> None:
    if not os.access(ETCD, os.X_OK):
        message = f"{ETCD} not found (Debian package etcd-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EtcdServer:
    """One etcd process in a temporary directory; ``stop()`` removes both."""

    def __init__(self) -> None:
        base = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.workdir = Path(tempfile.mkdtemp(prefix="kubesim-etcd-", dir=base))
        for attempt in range(3):  # a free port can be taken between probe and bind
            try:
                self.proc, self.endpoint = self._start(attempt)
                return
            except RuntimeError:
                if attempt == 2:
                    shutil.rmtree(self.workdir, ignore_errors=True)
                    raise

    def _start(self, attempt: int) -> tuple[subprocess.Popen[bytes], str]:
        client, peer = f"http://127.0.0.1:{_free_port()}", f"http://127.0.0.1:{_free_port()}"
        log_path = self.workdir / f"etcd{attempt}.log"
        args = [
            ETCD, "--name", "kubesim-test", "--data-dir", str(self.workdir / f"data{attempt}"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"kubesim-test={peer}",
            "--logger", "zap", "--log-level", "error",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if self._healthy(client):
                return proc, client
            time.sleep(0.05)
        _terminate(proc)
        raise RuntimeError(f"etcd did not become healthy: {log_path.read_text(errors='replace')[-2000:]}")

    @staticmethod
    def _healthy(client_url: str) -> bool:
        try:
            with urllib.request.urlopen(f"{client_url}/health", timeout=1) as resp:
                return b'"health":"true"' in resp.read()
        except OSError:
            return False

    def metrics(self) -> str:
        with urllib.request.urlopen(f"{self.endpoint}/metrics", timeout=5) as resp:
            return str(resp.read().decode())

    def stop(self) -> None:
        _terminate(self.proc)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[EtcdServer]:
    require_etcd()
    server = EtcdServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def etcd_endpoint(etcd_server: EtcdServer) -> str:
    """The client URL of the session's etcd, e.g. ``http://127.0.0.1:41234``."""
    return etcd_server.endpoint


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under ``CI=true`` a skip is a failure.

    Tests skip on a developer's machine when a real part is absent (etcd, a kubectl
    version). CI installs every one of them, so a skip there can only mean something is
    missing that should not be — and a skipped test must never hide a missing feature.
    """
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped under CI=true, which must not happen: {reason}"
