"""A real API server and real ``python -m scheduler`` processes for the end-to-end tests.

As in ``tests/kube/conftest.py``: one ``python -m apiserver`` per session, started by
``tests.support.apiserver`` (SQLite in a temporary directory, a free port). Scheduler
processes are started per test, exactly as users start them, and stopped (or killed)
by the test. Nodes are cluster-wide and every scheduler sees every node, so a test
creates its nodes through ``cluster`` and they are deleted when it ends; each test also
gets a fresh namespace.

Until the API server serves ``pods/binding``, tests that need pods bound skip with
that reason (``require_binding``).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kube.client import Client
from kube.errors import NotFound
from kube.resources import default_registry
from tests.support.apiserver import REPO, start_apiserver

STARTUP_TIMEOUT = 60.0
REGISTRY = default_registry()
NAMESPACES = REGISTRY.lookup("namespaces")[0]
NODES = REGISTRY.lookup("nodes")[0]
PODS = REGISTRY.lookup("pods")[0]
EVENTS = REGISTRY.lookup("events")[0]
PRIORITY_CLASSES = REGISTRY.lookup("priorityclasses")[0]
Obj = dict[str, Any]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_for_line(proc: subprocess.Popen[bytes], log_path: Path, pattern: str, what: str) -> re.Match[str]:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    regex = re.compile(pattern)
    while True:
        text = log_path.read_text(errors="replace")
        match = regex.search(text)
        if match:
            return match
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not become ready:\n{text[-3000:]}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def apiserver_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with start_apiserver(tmp_path_factory.mktemp("sched-apiserver") / "data") as server:
        yield server.kubeconfig


@pytest.fixture
async def client(apiserver_kubeconfig: Path) -> AsyncIterator[Client]:
    async with Client.from_kubeconfig(apiserver_kubeconfig, qps=0) as c:
        yield c


@pytest.fixture
async def namespace(client: Client) -> AsyncIterator[str]:
    name = f"s-{uuid.uuid4().hex[:10]}"
    await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    try:
        await client.delete(NAMESPACES, name=name)
    except Exception:  # the server may already be gone at session end
        pass


async def binding_served(client: Client) -> bool:
    """Whether the API server answers ``pods/<name>/binding`` (a missing pod is then a
    ``pods "x" not found``, not a missing route)."""
    try:
        await client.post_subresource(
            PODS, name="binding-probe", namespace="default", subresource="binding",
            body={"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "binding-probe"},
                  "target": {"apiVersion": "v1", "kind": "Node", "name": "none"}},
        )  # fmt: skip
    except NotFound as err:
        return 'pods "binding-probe"' in str(err)
    except Exception:
        return True
    return True


@pytest.fixture
async def require_binding(client: Client) -> None:
    if not await binding_served(client):
        pytest.skip("the API server does not serve pods/binding yet")


class Cluster:
    """Nodes of one test (deleted at its end) and helpers to read the outcome."""

    def __init__(self, client: Client, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self.nodes: list[str] = []
        self.priority_classes: list[str] = []

    async def priority_class(self, name: str, value: int) -> str:
        """A PriorityClass for this test; pods name it (the API server's admission sets
        ``spec.priority`` from it)."""
        full = f"{self.namespace}-{name}"
        body = {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": full},
            "value": value,
        }
        await self.client.create(PRIORITY_CLASSES, body)
        self.priority_classes.append(full)
        return full

    async def node(self, name: str, *, cpu: str = "4", memory: str = "8Gi", labels: dict[str, str] | None = None,
                   taints: list[Obj] | None = None) -> Obj:  # fmt: skip
        allocatable = {"cpu": cpu, "memory": memory, "pods": "110"}
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints} if taints else {},
            "status": {"capacity": allocatable, "allocatable": allocatable,
                       "conditions": [{"type": "Ready", "status": "True"}]},
        }  # fmt: skip
        self.nodes.append(name)
        return await self.client.create(NODES, body)

    async def pod(self, name: str, *, cpu: str | None = None, memory: str | None = None, **spec: Any) -> Obj:
        requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
        labels = spec.pop("labels", {})
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": self.namespace, "labels": labels},
            "spec": {
                "containers": [{"name": "c", "image": "busybox", "resources": {"requests": requests}}],
                **spec,
            },
        }
        return await self.client.create(PODS, body, namespace=self.namespace)

    async def pods(self) -> dict[str, Obj]:
        items = (await self.client.list(PODS, namespace=self.namespace))["items"]
        return {p["metadata"]["name"]: p for p in items}

    async def events(self, reason: str) -> list[Obj]:
        items = (await self.client.list(EVENTS, namespace=self.namespace))["items"]
        return [e for e in items if e.get("reason") == reason]

    async def wait(
        self, check: Callable[[], Awaitable[Any]], what: str, *, give_up_after: float = 40.0
    ) -> Any:
        """Poll ``check`` until it returns something truthy (a condition, not a duration)."""
        deadline = time.monotonic() + give_up_after
        while True:
            result = await check()
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(f"gave up waiting for {what}")
            await asyncio.sleep(0.1)

    async def cleanup(self) -> None:
        for info, names in ((NODES, self.nodes), (PRIORITY_CLASSES, self.priority_classes)):
            for name in names:
                try:
                    await self.client.delete(info, name=name)
                except NotFound:
                    pass


@pytest.fixture
async def cluster(client: Client, namespace: str) -> AsyncIterator[Cluster]:
    c = Cluster(client, namespace)
    yield c
    await c.cleanup()


class SchedulerProcess:
    """``python -m scheduler`` as users start it; its debug port parsed from its log."""

    def __init__(self, kubeconfig: Path, *args: str) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="kubesim-scheduler-"))
        self.log_path = self.workdir / "scheduler.log"
        cmd = [sys.executable, "-m", "scheduler", "--kubeconfig", str(kubeconfig), "--secure-port", "0",
               "--bind-address", "127.0.0.1", "--cert-dir", str(self.workdir / "certs"), *args]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env={**os.environ}
            )
        match = _wait_for_line(
            self.proc, self.log_path, r"serving on https://127\.0\.0\.1:(\d+)", "the scheduler"
        )
        self.port = int(match.group(1))
        _wait_for_line(self.proc, self.log_path, r"ready:", "the scheduler")

    @property
    def ca_file(self) -> Path:
        return self.workdir / "certs" / "ca.crt"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            _stop(self.proc)
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture
def start_scheduler(apiserver_kubeconfig: Path) -> Iterator[Callable[..., SchedulerProcess]]:
    started: list[SchedulerProcess] = []

    def start(*args: str) -> SchedulerProcess:
        proc = SchedulerProcess(apiserver_kubeconfig, *args)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
