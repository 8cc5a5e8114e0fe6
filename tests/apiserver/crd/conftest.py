"""An API with the CRD machinery installed and its controller running, over SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from apiserver import crd
from apiserver.bootstrap import bootstrap
from apiserver.registry import API
from apiserver.storage import open_storage
from kube.resources import default_registry


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[API]:
    crd.install()
    storage = await open_storage(data_dir=tmp_path)
    registry = API(storage=storage, resources=default_registry())
    await registry.start()
    await bootstrap(registry)
    controller = await crd.start(registry)
    registry.crd_controller = controller  # type: ignore[attr-defined]
    try:
        yield registry
    finally:
        await controller.stop()
        await registry.stop()
        await storage.close()


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 5.0) -> Any:
    """Retry ``check`` until it returns something truthy without raising."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            result = await check()
            if result:
                return result
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
