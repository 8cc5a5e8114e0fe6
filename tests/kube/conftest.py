"""A real kubesim API server for the client machinery's tests.

The client, informers and leader election are tested against the server they will
talk to in production, not a fake of it: one ``python -m apiserver`` per test session
(SQLite storage in a temporary directory, a free port), shared by every test. Tests
isolate themselves with a fresh namespace each (``namespace``), so they may run in any
order. Fakes appear only where a failure must be injected (see the tests' own
``httpx.MockTransport`` servers).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kube.client import Client
from kube.resources import default_registry

STARTUP_TIMEOUT = 60.0
REGISTRY = default_registry()
NAMESPACES = REGISTRY.lookup("namespaces")[0]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def apiserver_kubeconfig() -> Iterator[Path]:
    """The admin kubeconfig of a running API server (started once per session)."""
    workdir = Path(tempfile.mkdtemp(prefix="kubesim-apiserver-"))
    log_path = workdir / "apiserver.log"
    data_dir = workdir / "data"
    args = [sys.executable, "-m", "apiserver", "--data-dir", str(data_dir), "--secure-port", "0"]
    root = Path(__file__).resolve().parents[2]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=root, env={**os.environ})
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            text = log_path.read_text(errors="replace")
            if any("ready" in line and "https://" in line for line in text.splitlines()):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the API server did not become ready:\n{text[-3000:]}")
            time.sleep(0.05)
        kubeconfig = data_dir / "admin.kubeconfig"
        assert kubeconfig.exists(), f"no {kubeconfig} after ready"
        yield kubeconfig
    finally:
        _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
async def client(apiserver_kubeconfig: Path) -> AsyncIterator[Client]:
    async with Client.from_kubeconfig(apiserver_kubeconfig) as c:
        yield c


@pytest.fixture
async def namespace(client: Client) -> AsyncIterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    try:
        await client.delete(NAMESPACES, name=name)
    except Exception:  # the server may already be gone at session end; nothing to clean then
        pass
