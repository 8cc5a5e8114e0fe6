"""A real kubesim API server for the client machinery's tests.

The client, informers and leader election are tested against the server they will
talk to in production, not a fake of it: one ``python -m apiserver`` per test session
(SQLite storage in a temporary directory, a free port), shared by every test. Tests
isolate themselves with a fresh namespace each (``namespace``), so they may run in any
order. Fakes appear only where a failure must be injected (see the tests' own
``httpx.MockTransport`` servers).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kube.client import Client
from kube.resources import default_registry
from tests.support.apiserver import start_apiserver

REGISTRY = default_registry()
NAMESPACES = REGISTRY.lookup("namespaces")[0]


@pytest.fixture(scope="session")
def apiserver_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The admin kubeconfig of a running API server (started once per session)."""
    with start_apiserver(tmp_path_factory.mktemp("kube-apiserver") / "data") as server:
        yield server.kubeconfig


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
