"""The whole ASGI app in process over the registry (``api``, from tests/apiserver/conftest.py).

Resource rules are tested at both levels: ``api`` (the stores and handlers, as the
scheduler or kubelet would reach them through the server) and ``client`` (HTTP, for
status codes and the exact Status bodies clients print).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from apiserver.app import KubeApp, create_app
from apiserver.authn import UserInfo
from apiserver.health import Health
from apiserver.metrics import Metrics
from apiserver.registry import API


class HeaderAuthenticator:
    async def authenticate(self, scope: Any) -> UserInfo | None:
        return UserInfo(name="admin", groups=("system:masters", "system:authenticated"))


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
