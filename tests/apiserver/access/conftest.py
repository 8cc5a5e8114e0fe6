"""The registry with the security wiring bound (admission, authorizers, token issuer),
over a real SQLite store, and the in-process ASGI app behind the security filters.

Callers are named by test headers (``x-test-user``, ``x-test-groups``) so that RBAC,
the Node authorizer and admission can be driven without certificates; TLS and real
credentials are covered by ``tests/apiserver/security``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver.app import create_app
from apiserver.authn import UserInfo, with_authenticated_group
from apiserver.bootstrap import bootstrap
from apiserver.filters import PreAuthenticated
from apiserver.health import Health
from apiserver.metrics import Metrics
from apiserver.options import parse
from apiserver.registry import API, Context
from apiserver.security import Security
from apiserver.storage import open_storage
from kube.model import FieldValidation
from kube.resources import default_registry


class HeaderAuthenticator:
    async def authenticate(self, scope: Any) -> UserInfo | None:
        headers = dict(scope["headers"])
        name = headers.get(b"x-test-user")
        if name is None:
            return None
        groups = [g for g in headers.get(b"x-test-groups", b"").decode().split(",") if g]
        return UserInfo(name=name.decode(), groups=with_authenticated_group(groups))


@dataclass
class Env:
    api: API
    security: Security
    tmp: Path

    def ctx(self, resource: str, *, group: str = "", namespace: str = "default", name: str = "",
            user: UserInfo | None = None, subresource: str = "") -> Context:
        info = next(i for i in self.api.resources if i.resource == resource and i.group == group)
        return Context(info=info, namespace=namespace if info.namespaced else "", name=name, user=user,
                       subresource=subresource, field_manager="test", field_validation=FieldValidation.STRICT)

    def store(self, resource: str, group: str = "") -> Any:
        info = next(i for i in self.api.resources if i.resource == resource and i.group == group)
        return self.api.store_for(info)

    async def create(self, resource: str, obj: dict[str, Any], *, group: str = "", namespace: str = "default",
                     user: UserInfo | None = None) -> dict[str, Any]:
        ctx = self.ctx(resource, group=group, namespace=namespace, user=user)
        result: dict[str, Any] = await self.store(resource, group).create(ctx, obj)
        return result

    async def settle(self) -> None:
        """Until every watch cache holds the newest write (the authorizers read them)."""
        import asyncio

        for _ in range(200):
            behind = False
            for store in self.api.stores():
                listed = await store.storage.list(store.prefix())
                newest = max((int(o["metadata"].get("resourceVersion") or 0) for o in listed.items), default=0)
                if store.cacher is not None and store.cacher.revision < newest:
                    behind = True
            if not behind:
                return
            await asyncio.sleep(0.01)


def user(name: str, *groups: str) -> UserInfo:
    return UserInfo(name=name, groups=with_authenticated_group(groups))


@pytest.fixture
def options_args() -> list[str]:
    return []


@pytest.fixture
async def env(tmp_path: Path, options_args: list[str]) -> AsyncIterator[Env]:
    options = parse(["--data-dir", str(tmp_path), *options_args])
    security = Security(options)
    storage = await open_storage(data_dir=tmp_path)
    api = API(storage=storage, resources=default_registry(), admission=security.admission)
    security.bind(api)
    await api.start()
    await bootstrap(api)
    await security.start()
    try:
        yield Env(api=api, security=security, tmp=tmp_path)
    finally:
        await security.stop()
        await api.stop()
        await storage.close()


@pytest.fixture
def app(env: Env) -> Any:
    health = Health(storage=env.api.storage, caches_ready=lambda: True, shutting_down=lambda: False)
    inner = create_app(api=env.api, metrics=Metrics(), health=health, authenticator=PreAuthenticated(),
                       authorizer=env.security.authorizer, extra_routes=[])
    env.security.authenticator = HeaderAuthenticator()
    return env.security.wrap(inner)


@pytest.fixture
def as_user(app: Any) -> Callable[..., httpx.AsyncClient]:
    def make(name: str, *groups: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test",
            headers={"x-test-user": name, "x-test-groups": ",".join(groups)},
        )

    return make
