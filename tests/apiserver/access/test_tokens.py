"""Bearer tokens: the static token file, service-account JWTs, TokenRequest, anonymous."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import pytest

from apiserver.app import create_app
from apiserver.authenticators.serviceaccounts import ServiceAccountTokens, TokenIssuer
from apiserver.authenticators.tokens import StaticTokens, TokenFileError
from apiserver.filters import PreAuthenticated
from apiserver.health import Health
from apiserver.metrics import Metrics
from apiserver.registry import DeleteOptions
from kube import pki
from kube.errors import Unauthorized

from .conftest import Env


def test_static_token_file_format() -> None:
    tokens = StaticTokens.parse('# comment\n\nt1,alice,1001,"dev,ops"\nt2,bob,1002\n')
    assert len(tokens) == 2
    with pytest.raises(TokenFileError, match=re.escape("file.csv:1: must have at least 3 columns")):
        StaticTokens.parse("t1,alice\n", source="file.csv")
    with pytest.raises(TokenFileError, match=":2: the token is empty"):
        StaticTokens.parse("t1,a,1\n,b,2\n")


async def test_static_tokens_name_users_with_groups() -> None:
    tokens = StaticTokens.parse('t1,alice,1001,"dev,ops"\n')
    alice = await tokens.authenticate_token("t1")
    assert alice is not None and alice.name == "alice" and alice.uid == "1001"
    assert alice.groups == ("dev", "ops", "system:authenticated")
    assert await tokens.authenticate_token("t2") is None


@pytest.fixture
def options_args(tmp_path: Path) -> list[str]:
    (tmp_path / "tokens.csv").write_text('admintoken,root,0,"system:masters"\nbobtoken,bob,1\n')
    return ["--token-auth-file", str(tmp_path / "tokens.csv"), "--anonymous-auth"]


@pytest.fixture
def real_app(env: Env) -> Any:
    """The app with the configured authenticators (no test headers)."""
    health = Health(storage=env.api.storage, caches_ready=lambda: True, shutting_down=lambda: False)
    inner = create_app(api=env.api, metrics=Metrics(), health=health, authenticator=PreAuthenticated(),
                       authorizer=env.security.authorizer)
    return env.security.wrap(inner)


def client(app: Any, token: str | None = None) -> httpx.AsyncClient:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers)


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def test_token_request_and_service_account_identity(real_app: Any, env: Env) -> None:
    async with client(real_app, "admintoken") as admin:
        sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}}
        uid = (await admin.post("/api/v1/namespaces/default/serviceaccounts", json=sa)).json()["metadata"]["uid"]
        r = await admin.post("/api/v1/namespaces/default/serviceaccounts/robot/token",
                             json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
        assert r.status_code == 201, r.text
        answer = r.json()
        assert answer["kind"] == "TokenRequest" and answer["spec"]["expirationSeconds"] == 3600
        token = answer["status"]["token"]
        assert answer["status"]["expirationTimestamp"].endswith("Z")
        claims = claims_of(token)
        assert claims["iss"] == "https://kubernetes.default.svc.cluster.local"
        assert claims["sub"] == "system:serviceaccount:default:robot"
        assert claims["aud"] == ["https://kubernetes.default.svc.cluster.local"]
        assert claims["kubernetes.io"] == {"namespace": "default", "serviceaccount": {"name": "robot", "uid": uid}}
        assert claims["exp"] - claims["iat"] == 3600 and claims["nbf"] == claims["iat"]
        assert jwt.get_unverified_header(token)["alg"] == "ES256"
        r = await admin.post("/api/v1/namespaces/default/serviceaccounts/robot/token",
                             json={"kind": "TokenRequest", "spec": {"expirationSeconds": 60}})
        assert r.status_code == 422 and "less than 10 minutes" in r.json()["message"]
        assert (await admin.post("/api/v1/namespaces/default/serviceaccounts/ghost/token",
                                 json={"kind": "TokenRequest", "spec": {}})).status_code == 404
    async with client(real_app, token) as robot:
        r = await robot.post("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                             json={"kind": "SelfSubjectRulesReview", "spec": {"namespace": "default"}})
        assert r.status_code == 201
        r = await robot.get("/api/v1/namespaces/default/pods")
        assert r.status_code == 403
        assert 'User "system:serviceaccount:default:robot" cannot list' in r.json()["message"]
    # Deleting the account kills its tokens at once.
    await env.store("serviceaccounts").delete(env.ctx("serviceaccounts", name="robot"), options=DeleteOptions())
    async with client(real_app, token) as robot:
        r = await robot.get("/api/v1/namespaces/default/pods")
        assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"
    # Recreated under the same name: a new uid, and the old token stays dead.
    await env.create("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}})
    async with client(real_app, token) as robot:
        assert (await robot.get("/api/v1/namespaces/default/pods")).status_code == 401


async def test_pod_bound_tokens_die_with_the_pod(real_app: Any, env: Env) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    uid = (await env.create("pods", pod))["metadata"]["uid"]
    async with client(real_app, "admintoken") as admin:
        r = await admin.post("/api/v1/namespaces/default/serviceaccounts/default/token", json={
            "kind": "TokenRequest", "spec": {"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": uid}}})
        assert r.status_code == 201, r.text
        token = r.json()["status"]["token"]
    assert claims_of(token)["kubernetes.io"]["pod"] == {"name": "p", "uid": uid}
    async with client(real_app, token) as bound:
        assert (await bound.get("/api")).status_code == 200
    await env.store("pods").delete(env.ctx("pods", name="p"), options=DeleteOptions(grace_period_seconds=0))
    async with client(real_app, token) as bound:
        assert (await bound.get("/api")).status_code == 401


async def test_tokens_we_did_not_sign_or_expired_ones_are_refused(real_app: Any, env: Env) -> None:
    sa = await env.create("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "r"}})
    uid = sa["metadata"]["uid"]
    forged_issuer = TokenIssuer(key=pki.new_key(), issuer="https://kubernetes.default.svc.cluster.local",
                                audiences=["https://kubernetes.default.svc.cluster.local"])
    forged, _ = forged_issuer.issue(namespace="default", name="r", uid=uid, audiences=forged_issuer.audiences,
                                    seconds=3600)
    assert env.security.issuer is not None
    expired, _ = env.security.issuer.issue(namespace="default", name="r", uid=uid,
                                           audiences=env.security.issuer.audiences, seconds=600,
                                           now=time.time() - 7200)
    wrong_aud, _ = env.security.issuer.issue(namespace="default", name="r", uid=uid, audiences=["vault"], seconds=600)
    for token in (forged, expired, wrong_aud, "not-a-token", "a.b.c"):
        async with client(real_app, token) as c:
            r = await c.get("/api")
            assert r.status_code == 401, token  # never anonymous, although anonymous auth is on


async def test_anonymous_when_enabled(real_app: Any) -> None:
    async with client(real_app) as anonymous:
        assert (await anonymous.get("/version")).status_code == 200
        r = await anonymous.get("/api/v1/namespaces")
        assert r.status_code == 403
        assert r.json()["message"] == ('namespaces is forbidden: User "system:anonymous" cannot list resource '
                                       '"namespaces" in API group "" at the cluster scope')


async def test_service_account_tokens_of_other_issuers_are_not_ours(env: Env) -> None:
    verifier = ServiceAccountTokens(public_keys=[pki.new_key().public_key()], issuers=["https://me"],
                                    audiences=["https://me"], api=env.api)
    other = TokenIssuer(key=pki.new_key(), issuer="https://someone-else", audiences=["x"])
    token, _ = other.issue(namespace="default", name="default", uid="u", audiences=["x"], seconds=600)
    assert await verifier.authenticate_token(token) is None
    mine = TokenIssuer(key=pki.new_key(), issuer="https://me", audiences=["https://me"])
    token, _ = mine.issue(namespace="default", name="default", uid="u", audiences=["https://me"], seconds=600)
    with pytest.raises(Unauthorized):
        await verifier.authenticate_token(token)  # our issuer, not our key
