"""Run ``python -m apiserver`` as a real process, for tests that need the real server.

The server is started exactly as a user starts it (a fresh ``--data-dir``, port 0 so
parallel runs never collide) and is ready when it prints its ``ready`` line on stdout,
which also names the URL. Clients get the generated admin kubeconfig and client
certificate, so tests talk to it as kubectl and the official Python client would.

Used by the end-to-end tests (one server per module), the client-machinery and
scheduler tests (one per session) and the security tests (a server per PKI).
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0
_READY = re.compile(r"ready at (https://\S+)")


@dataclass
class ApiserverProcess:
    """A started server; a context manager that stops it on exit."""

    data_dir: Path
    proc: subprocess.Popen[str]
    url: str
    log_path: Path
    output: list[str] = field(default_factory=list)  # stdout lines (the ready line among them)

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    @property
    def pki(self) -> Path:
        return self.data_dir / "pki"

    def ssl_context(self, *, client_cert: bool = True) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        if client_cert:
            ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return ctx

    def client(self, *, client_cert: bool = True, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, verify=self.ssl_context(client_cert=client_cert), timeout=timeout
        )

    def log(self) -> str:
        """The server's stderr (its logging) so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, *, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self) -> ApiserverProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_apiserver(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> ApiserverProcess:
    """Start the server on ``data_dir`` (created if missing) and wait for its ready line.

    ``extra`` are further command-line flags. stderr goes to ``<data_dir>.stderr.log``
    beside the data directory. Raises ``RuntimeError`` with the log's tail if the
    server exits or is not ready within ``READY_TIMEOUT`` seconds.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}.stderr.log"
    args = [sys.executable, "-m", "apiserver", "--data-dir", str(data_dir), "--secure-port", "0", *extra]
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            args, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True, env={**os.environ, **(env or {})}
        )
    assert proc.stdout is not None
    output: list[str] = []
    url = _read_until_ready(proc, output)
    if url is None:
        proc.kill()
        proc.wait()
        raise RuntimeError(
            f"apiserver did not become ready (exit {proc.returncode}); stdout: {''.join(output)!r}; "
            f"stderr tail: {log_path.read_text(errors='replace')[-3000:]}"
        )
    # Keep reading stdout for the server's lifetime: a pipe nobody reads fills up and
    # would block the server on its next write.
    threading.Thread(target=_drain, args=(proc, output), daemon=True).start()
    return ApiserverProcess(data_dir=data_dir, proc=proc, url=url, log_path=log_path, output=output)


def _read_until_ready(proc: subprocess.Popen[str], output: list[str]) -> str | None:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if not selector.select(timeout=0.2):
                if proc.poll() is not None:
                    return None
                continue
            line = proc.stdout.readline()
            if not line:
                return None
            output.append(line)
            match = _READY.search(line)
            if match:
                return match.group(1)
    finally:
        selector.close()
    return None


def _drain(proc: subprocess.Popen[str], output: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        output.append(line)
