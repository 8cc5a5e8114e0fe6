"""An API with the CRD machinery installed and its controller running, over SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from apiserver import crd
from apiserver.registry import API


@pytest.fixture(autouse=True)
def _crds_served() -> None:
    crd.install()  # before API(...) is built (idempotent)


@pytest.fixture
async def api(api: API) -> AsyncIterator[API]:
    """The suite-wide ``api`` with the CRD controller following the stored CRDs."""
    controller = await crd.start(api)
    api.crd_controller = controller  # type: ignore[attr-defined]
    try:
        yield api
    finally:
        await controller.stop()


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
