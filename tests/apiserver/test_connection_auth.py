"""The per-connection memory of who a client certificate names (``ConnectionCachingAuthenticator``).

A connection's certificate never changes, so its answer is kept in that connection's
``tls`` extension dict: it must never answer for another connection, never stand in
for a bearer token, never remember a refusal, and lapse when the certificate does.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from apiserver.app import ConnectionCachingAuthenticator
from apiserver.authn import AUTHENTICATED, CertificateAuthenticator, UserInfo
from apiserver.filters import Filters
from kube.errors import Unauthorized

FAR = "Jan  1 00:00:00 2999 GMT"
PAST = "Jan  1 00:00:00 2020 GMT"


def _peer(name: str, *, not_after: str = FAR) -> dict[str, Any]:
    return {"subject": ((("commonName", name),),), "notBefore": PAST, "notAfter": not_after}


def _connection(name: str | None, **kwargs: Any) -> dict[str, Any]:
    """A connection's ``tls`` extension, as ``apiserver.tls`` builds one per connection."""
    return {"peer_cert": _peer(name, **kwargs) if name else None, "client_cert_chain": []}


def _request(tls: dict[str, Any], *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "headers": list(headers), "extensions": {"tls": tls}}


class Counting:
    """Certificates, then a canned token answer; counts every full authentication."""

    def __init__(self, token_user: UserInfo | None = None) -> None:
        self.calls = 0
        self.token_user = token_user

    async def authenticate(self, scope: Any) -> UserInfo | None:
        self.calls += 1
        if any(name == b"authorization" for name, _ in scope["headers"]):
            if self.token_user is None:
                raise Unauthorized("invalid bearer token")
            return self.token_user
        return await CertificateAuthenticator().authenticate(scope)


async def test_a_connection_is_authenticated_once() -> None:
    inner = Counting()
    cache = ConnectionCachingAuthenticator(inner)
    tls = _connection("jane")
    for _ in range(3):
        user = await cache.authenticate(_request(tls))
        assert user is not None and user.name == "jane" and AUTHENTICATED in user.groups
    assert inner.calls == 1
    assert cache.cached_user(_request(tls), authorization=False) == user


async def test_the_answer_never_crosses_to_another_connection() -> None:
    inner = Counting()
    cache = ConnectionCachingAuthenticator(inner)
    jane, bob = _connection("jane"), _connection("bob")
    assert (await cache.authenticate(_request(jane))).name == "jane"
    assert cache.cached_user(_request(bob), authorization=False) is None
    assert (await cache.authenticate(_request(bob))).name == "bob"
    assert (await cache.authenticate(_request(jane))).name == "jane"
    assert inner.calls == 2


async def test_without_a_certificate_every_request_is_authenticated() -> None:
    inner = Counting()
    cache = ConnectionCachingAuthenticator(inner)
    tls = _connection(None)
    for _ in range(2):
        assert await cache.authenticate(_request(tls)) is None
        assert cache.cached_user(_request(tls), authorization=False) is None
    assert inner.calls == 2
    assert "kubesim.authenticated" not in tls
    # No TLS extension at all (plain ASGI tests): likewise.
    assert cache.cached_user({"type": "http", "headers": []}, authorization=False) is None


async def test_a_bearer_token_is_checked_on_every_request_and_never_remembered() -> None:
    token_user = UserInfo("system:serviceaccount:default:sa", (AUTHENTICATED,))
    inner = Counting(token_user)
    cache = ConnectionCachingAuthenticator(inner)
    tls = _connection("jane")
    assert (await cache.authenticate(_request(tls))).name == "jane"
    bearer = (b"authorization", b"Bearer t0ken")
    for _ in range(2):
        assert cache.cached_user(_request(tls, bearer), authorization=True) is None
        assert await cache.authenticate(_request(tls, bearer)) == token_user
    assert inner.calls == 3
    # The certificate's answer is still the one for requests without a token.
    assert (await cache.authenticate(_request(tls))).name == "jane"
    assert inner.calls == 3
    inner.token_user = None  # the token was revoked: the next request says so
    with pytest.raises(Unauthorized):
        await cache.authenticate(_request(tls, bearer))


async def test_a_refused_certificate_is_asked_again() -> None:
    inner = Counting()
    cache = ConnectionCachingAuthenticator(inner)
    tls = _connection("old", not_after=PAST)  # expired while the connection stayed open
    for _ in range(2):
        with pytest.raises(Unauthorized, match="expired"):
            await cache.authenticate(_request(tls))
        assert cache.cached_user(_request(tls), authorization=False) is None
    assert inner.calls == 2


async def test_the_answer_lapses_with_the_certificate() -> None:
    inner = Counting()
    cache = ConnectionCachingAuthenticator(inner)
    tls = _connection("jane")
    user = await cache.authenticate(_request(tls))
    tls["kubesim.authenticated"] = (user, time.time() - 1)  # as if notAfter just passed
    assert cache.cached_user(_request(tls), authorization=False) is None
    await cache.authenticate(_request(tls))
    assert inner.calls == 2


async def test_filters_use_the_remembered_user_and_still_ask_for_tokens() -> None:
    token_user = UserInfo("tina", (AUTHENTICATED,))
    inner = Counting(token_user)
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["kubesim.user"].name)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    filters = Filters(
        app, authenticator=ConnectionCachingAuthenticator(inner), audit=None, limiter=None, request_timeout=5
    )

    async def call(*headers: tuple[bytes, bytes], tls: dict[str, Any]) -> int:
        sent: list[int] = []

        async def send(message: Any) -> None:
            if message["type"] == "http.response.start":
                sent.append(message["status"])

        async def receive() -> Any:
            return {"type": "http.request", "body": b"", "more_body": False}

        scope = _request(tls, *headers)
        scope.update(method="GET", path="/api/v1/namespaces/default/pods", query_string=b"")
        await filters(scope, receive, send)
        return sent[0]

    jane, nobody = _connection("jane"), _connection(None)
    assert [await call(tls=jane) for _ in range(3)] == [200, 200, 200]
    assert await call((b"authorization", b"Bearer x"), tls=jane) == 200
    assert await call(tls=nobody) == 401
    assert seen == ["jane", "jane", "jane", "tina"]
    assert inner.calls == 3  # jane once, the token, the connection without a certificate
