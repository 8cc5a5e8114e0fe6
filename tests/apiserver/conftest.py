"""``api``: every store and watch cache over a real SQLite store in a temp directory.

Suites that need more around it override ``api`` (the CRD controller) or
``api_storage`` (metrics) in their own conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apiserver.bootstrap import bootstrap
from apiserver.registry import API
from apiserver.storage import Storage, open_storage
from kube.resources import default_registry


@pytest.fixture
async def api_storage(tmp_path: Path) -> AsyncIterator[Storage]:
    """The store under ``api``; a suite may wrap it by overriding this fixture."""
    storage = await open_storage(data_dir=tmp_path)
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
async def api(api_storage: Storage) -> AsyncIterator[API]:
    registry = API(storage=api_storage, resources=default_registry())
    await registry.start()
    await bootstrap(registry)
    try:
        yield registry
    finally:
        await registry.stop()
