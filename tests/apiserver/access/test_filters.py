"""The filters in front of the API: audit, body limits, timeouts, in-flight limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from apiserver import limits

from .conftest import Env

Client = Callable[..., httpx.AsyncClient]
CMS = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def options_args(tmp_path: Path) -> list[str]:
    return ["--audit-log-path", str(tmp_path / "audit" / "audit.log"), "--max-requests-inflight", "2",
            "--max-mutating-requests-inflight", "1", "--request-timeout", "1s"]


def audit_events(env: Env) -> list[dict[str, Any]]:
    assert env.security.audit is not None
    env.security.audit.flush()  # lines are written at the end of the loop turn
    return [orjson.loads(line) for line in (env.tmp / "audit" / "audit.log").read_bytes().splitlines()]


async def test_audit_records_metadata_only(as_user: Client, env: Env) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "hunter2-XYZ"}}
    async with as_user("admin", "system:masters") as admin, as_user("bob") as bob:
        r = await admin.post("/api/v1/namespaces/default/secrets?fieldManager=t", json=secret,
                             headers={"user-agent": "kubectl/v1.33.1"})
        assert r.status_code == 201
        audit_id = r.headers["audit-id"]
        assert (await bob.get("/api/v1/namespaces/default/secrets/s")).status_code == 403
    events = {e["auditID"]: e for e in audit_events(env)}
    log = (env.tmp / "audit" / "audit.log").read_bytes()
    assert b"hunter2-XYZ" not in log and b"aHVudGVyMi1YWVo" not in log  # neither plain nor base64
    assert (env.tmp / "audit" / "audit.log").stat().st_mode & 0o777 == 0o600
    created = events[audit_id]
    assert created["kind"] == "Event" and created["apiVersion"] == "audit.k8s.io/v1"
    assert created["level"] == "Metadata" and created["stage"] == "ResponseComplete"
    assert created["verb"] == "create" and created["requestURI"] == "/api/v1/namespaces/default/secrets?fieldManager=t"
    assert created["user"] == {"username": "admin", "groups": ["system:masters", "system:authenticated"]}
    assert created["userAgent"] == "kubectl/v1.33.1"
    assert created["objectRef"] == {"resource": "secrets", "namespace": "default", "apiGroup": "", "apiVersion": "v1"}
    assert created["responseStatus"]["code"] == 201
    assert created["requestReceivedTimestamp"] <= created["stageTimestamp"]
    denied = [e for e in events.values() if e["user"].get("username") == "bob"]
    assert denied[0]["responseStatus"]["code"] == 403
    assert denied[0]["objectRef"]["name"] == "s"


@pytest.mark.parametrize("depth", [limits.MAX_DEPTH + 1, 5000])
async def test_deep_bodies_are_a_400(as_user: Client, depth: int) -> None:
    async with as_user("admin", "system:masters") as admin:
        deep_json = "[" * depth + "]" * depth
        r = await admin.post(CMS, content=f'{{"data": {deep_json}}}', headers={"content-type": "application/json"})
        assert r.status_code == 400, r.text
        deep_yaml = "a:\n" + "".join(" " * (i + 1) + "b:\n" for i in range(depth))
        r = await admin.post(CMS, content=deep_yaml, headers={"content-type": "application/yaml"})
        assert r.status_code in (400, 413), r.text
        r = await admin.patch(f"{CMS}/x", content=f'{{"data": {deep_json}}}',
                              headers={"content-type": "application/merge-patch+json"})
        assert r.status_code == 400


async def test_json_patch_operation_count_is_bounded(as_user: Client) -> None:
    ops = [{"op": "test", "path": "/metadata/name", "value": "x"}] * (limits.MAX_JSON_PATCH_OPERATIONS + 1)
    async with as_user("admin", "system:masters") as admin:
        r = await admin.patch(f"{CMS}/x", content=orjson.dumps(ops), headers={"content-type": "application/json-patch+json"})
        assert r.status_code == 413 and "10000" in r.json()["message"]


async def test_timeouts_answer_504(as_user: Client, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    store = env.store("configmaps")

    async def slow_get(ctx: Any) -> Any:
        await asyncio.sleep(5)

    monkeypatch.setattr(store, "get", slow_get)
    async with as_user("admin", "system:masters") as admin:
        r = await admin.get(f"{CMS}/x")
        assert r.status_code == 504
        assert r.json()["message"] == ("Timeout: request did not complete within requested timeout - "
                                       "context deadline exceeded")
        r = await admin.get(f"{CMS}/x?timeout=100ms")
        assert r.status_code == 504


async def test_in_flight_limits_per_user(as_user: Client, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    store = env.store("configmaps")
    release = asyncio.Event()
    original = store.get

    async def held_get(ctx: Any) -> Any:
        await release.wait()
        return await original(ctx)

    monkeypatch.setattr(store, "get", held_get)
    rb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
          "subjects": [{"kind": "User", "name": "bob"}, {"kind": "User", "name": "carol"}]}
    async with as_user("admin", "system:masters") as admin, as_user("bob") as bob, as_user("carol") as carol:
        assert (await admin.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json=rb)).status_code == 201
        await env.settle()
        held = [asyncio.create_task(bob.get(f"{CMS}/x")) for _ in range(2)]
        await asyncio.sleep(0.1)
        r = await bob.get(f"{CMS}/y")
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        assert r.json()["message"] == "Too many requests, please try again later."
        assert (await carol.get(f"{CMS}")).status_code == 200  # her own budget
        assert (await admin.get(f"{CMS}/x?timeout=50ms")).status_code == 504  # masters are exempt from limits
        release.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [404, 404]
        # Watches are not counted.
        assert (await bob.get(f"{CMS}?watch=true&timeoutSeconds=1")).status_code == 200


def test_timeout_parameter_parsing() -> None:
    assert limits.parse_timeout("5s") == 5.0
    assert limits.parse_timeout("1m30s") == 90.0
    assert limits.parse_timeout("250ms") == 0.25
    assert limits.parse_timeout("nonsense") is None
    assert limits.parse_timeout("5") is None


async def test_watches_are_audited_when_they_start_and_end(as_user: Client, env: Env) -> None:
    async with as_user("admin", "system:masters") as admin:
        r = await admin.get(f"{CMS}?watch=true&timeoutSeconds=1")
        assert r.status_code == 200
        audit_id = r.headers["audit-id"]
    stages = [e["stage"] for e in audit_events(env) if e["auditID"] == audit_id]
    assert stages == ["ResponseStarted", "ResponseComplete"]


async def test_websocket_upgrades_are_authenticated_and_authorized(env: Env) -> None:
    from apiserver.filters import Filters

    from .conftest import HeaderAuthenticator

    reached: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["kubesim.user"].name)
        await send({"type": "websocket.accept"})

    filters = Filters(inner, authenticator=HeaderAuthenticator(), audit=None, limiter=None, request_timeout=1.0,
                      chain=env.security.chain)

    async def connect(*headers: tuple[bytes, bytes]) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        scope = {"type": "websocket", "path": "/api/v1/namespaces/default/pods/p/exec", "query_string": b"command=sh",
                 "headers": list(headers)}
        await filters(scope, receive, send)
        return sent

    assert await connect() == [{"type": "websocket.close", "code": 1008}]
    assert await connect((b"x-test-user", b"bob")) == [{"type": "websocket.close", "code": 1008}]
    assert reached == []
    assert await connect((b"x-test-user", b"root"), (b"x-test-groups", b"system:masters")) == [
        {"type": "websocket.accept"}]
    assert reached == ["root"]
