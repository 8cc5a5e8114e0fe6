"""``api``: every store and watch cache over a real SQLite store in a temp directory.

Suites that need more around it (the ASGI app, the CRD controller, metrics) override it
in their own conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apiserver.bootstrap import bootstrap
from apiserver.registry import API
from apiserver.storage import open_storage
from kube.resources import default_registry


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[API]:
    storage = await open_storage(data_dir=tmp_path)
    registry = API(storage=storage, resources=default_registry())
    await registry.start()
    await bootstrap(registry)
    try:
        yield registry
    finally:
        await registry.stop()
        await storage.close()
