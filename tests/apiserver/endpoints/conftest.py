"""The whole ASGI app in process (no TLS): the real registry over SQLite, and an
authenticator that names the caller from a test header, so HTTP semantics are tested
without certificates. TLS and certificates are covered by the e2e tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver.app import KubeApp, create_app
from apiserver.authn import UserInfo
from apiserver.health import Health
from apiserver.metrics import InstrumentedStorage, Metrics
from apiserver.registry import API
from apiserver.storage import Storage, open_storage


class HeaderAuthenticator:
    async def authenticate(self, scope: Any) -> UserInfo | None:
        for name, value in scope["headers"]:
            if name == b"x-test-user":
                return UserInfo(name=value.decode(), groups=("system:masters", "system:authenticated"))
        return None


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def api_storage(tmp_path: Path, metrics: Metrics) -> AsyncIterator[Storage]:
    storage = InstrumentedStorage(await open_storage(data_dir=tmp_path), metrics=metrics)
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
def app(api: API, metrics: Metrics) -> KubeApp:
    health = Health(storage=api.storage, caches_ready=lambda: True, shutting_down=lambda: False)
    return create_app(api=api, metrics=metrics, health=health, authenticator=HeaderAuthenticator(), extra_routes=[])


@pytest.fixture
async def client(app: KubeApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers={"x-test-user": "admin"}) as c:
        yield c
