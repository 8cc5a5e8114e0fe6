"""Run ``python -m apiserver`` as a real process for end-to-end tests.

The server is started exactly as a user starts it (a fresh ``--data-dir``, port 0 so
parallel runs never collide) and is ready when it prints its ``ready`` line, which also
names the URL. Clients get the generated admin kubeconfig and client certificate, so
tests talk to it as kubectl and the official Python client would.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0
_READY = re.compile(r"ready at (https://\S+)")


@dataclass
class ApiserverProcess:
    data_dir: Path
    proc: subprocess.Popen[str]
    url: str
    log_path: Path
    output: list[str] = field(default_factory=list)

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
        return httpx.Client(base_url=self.url, verify=self.ssl_context(client_cert=client_cert), timeout=timeout)

    def log(self) -> str:
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


def start_apiserver(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> ApiserverProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}.stderr.log"
    log = log_path.open("w")
    args = [sys.executable, "-m", "apiserver", "--data-dir", str(data_dir), "--secure-port", "0", *extra]
    proc = subprocess.Popen(
        args,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, **(env or {})},
    )
    log.close()
    assert proc.stdout is not None
    output: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if not selector.select(timeout=0.2):
                if proc.poll() is not None:
                    break
                continue
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            match = _READY.search(line)
            if match:
                return ApiserverProcess(data_dir=data_dir, proc=proc, url=match.group(1), log_path=log_path, output=output)
    finally:
        selector.close()
    proc.kill()
    proc.wait()
    raise RuntimeError(
        f"apiserver did not become ready (exit {proc.returncode}); stdout: {''.join(output)!r}; "
        f"stderr tail: {log_path.read_text(errors='replace')[-3000:]}"
    )


def kubectl_binaries() -> dict[str, Path]:
    """The kubectl dispatcher on PATH and the versioned binaries beside its target."""
    found: dict[str, Path] = {}
    dispatcher = shutil.which("kubectl")
    if dispatcher is None:
        return found
    found["kubectl"] = Path(dispatcher)
    directory = Path(os.path.realpath(dispatcher)).parent
    for path in sorted(directory.glob("kubectl.1.*")):
        found[path.name] = path
    return found
