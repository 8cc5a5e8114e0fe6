"""The registry over a real SQLite store, and the whole ASGI app over it in process.

Resource rules are tested at both levels: ``api`` (the stores and handlers, as the
scheduler or kubelet would reach them through the server) and ``client`` (HTTP, for
status codes and the exact Status bodies clients print).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver.app import KubeApp, create_app
from apiserver.authn import UserInfo
from apiserver.bootstrap import bootstrap
from apiserver.health import Health
from apiserver.metrics import Metrics
from apiserver.registry import API
from apiserver.storage import open_storage
from kube.resources import default_registry


class HeaderAuthenticator:
    async def authenticate(self, scope: Any) -> UserInfo | None:
        return UserInfo(name="admin", groups=("system:masters", "system:authenticated"))


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


@pytest.fixture
def app(api: API) -> KubeApp:
    health = Health(storage=api.storage, caches_ready=lambda: True, shutting_down=lambda: False)
    return create_app(
        api=api, metrics=Metrics(), health=health, authenticator=HeaderAuthenticator(), extra_routes=[]
    )


@pytest.fixture
async def client(app: KubeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c
