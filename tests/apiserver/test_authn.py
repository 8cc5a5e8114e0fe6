"""Authentication from the TLS scope extension, and the order rules of the authenticator chain.

The peer-certificate dicts here are decoded by the ssl module itself, exactly as
``SSLObject.getpeercert()`` hands them to apiserver.tls; tests/apiserver/test_tls.py
drives the same code over real connections.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from apiserver.authn import (
    AUTHENTICATED,
    CREDENTIAL_ID,
    Authenticator,
    CertificateAuthenticator,
    UnionAuthenticator,
    UserInfo,
    authenticate_request,
)
from kube import pki
from kube.errors import Unauthorized


@pytest.fixture(scope="module")
def ca() -> pki.KeyPair:
    return pki.new_ca()


def _scope(pair: pki.KeyPair, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "peer.crt"
    path.write_bytes(pair.cert_pem())
    peer_cert = ssl._ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]
    der = pair.cert.public_bytes(serialization.Encoding.DER)
    tls = {"peer_cert": peer_cert, "peer_cert_sha256": hashlib.sha256(der).hexdigest()}
    return {"type": "http", "extensions": {"tls": tls}}


def test_user_is_the_common_name_and_groups_the_organizations(ca: pki.KeyPair, tmp_path: Path) -> None:
    pair = pki.issue_cert(ca=ca, common_name="jane", organizations=["dev", "ops"], server=False, client=True)
    user = authenticate_request(_scope(pair, tmp_path))
    assert user is not None
    assert (user.name, user.groups, user.uid) == ("jane", ("dev", "ops", AUTHENTICATED), "")
    fingerprint = hashlib.sha256(pair.cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert user.extra == {CREDENTIAL_ID: [f"X509SHA256={fingerprint}"]}


def test_groups_are_not_repeated(ca: pki.KeyPair, tmp_path: Path) -> None:
    orgs = ["system:nodes", "system:nodes", AUTHENTICATED]
    pair = pki.issue_cert(ca=ca, common_name="system:node:n1", organizations=orgs, server=False, client=True)
    user = authenticate_request(_scope(pair, tmp_path))
    assert user is not None and user.groups == ("system:nodes", AUTHENTICATED)


@pytest.mark.parametrize(
    "scope",
    [
        {"type": "http"},
        {"type": "http", "extensions": {}},
        {"type": "http", "extensions": {"tls": {"client_cert_chain": [], "peer_cert": None}}},
    ],
)
def test_no_certificate_means_no_user(scope: dict[str, Any]) -> None:
    assert authenticate_request(scope) is None


def test_a_certificate_without_common_name_names_nobody() -> None:
    peer_cert = {
        "subject": ((("organizationName", "system:masters"),),),
        "notBefore": "Jan  1 00:00:00 2020 GMT",
        "notAfter": "Jan  1 00:00:00 2999 GMT",
    }
    assert authenticate_request({"extensions": {"tls": {"peer_cert": peer_cert}}}) is None


def test_a_certificate_outliving_its_validity_on_an_open_connection_is_refused(
    ca: pki.KeyPair, tmp_path: Path
) -> None:
    # The handshake checked the dates; a keep-alive connection can last past notAfter.
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    expired = pki.issue_cert(ca=ca, common_name="old", server=False, client=True, days=1, not_before=long_ago)
    with pytest.raises(Unauthorized, match="certificate has expired"):
        authenticate_request(_scope(expired, tmp_path))
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    future = pki.issue_cert(ca=ca, common_name="new", server=False, client=True, not_before=soon)
    with pytest.raises(Unauthorized, match="not yet valid"):
        authenticate_request(_scope(future, tmp_path))


def test_user_info_can_key_a_cache() -> None:
    a = UserInfo("jane", ("dev",), extra={"k": ["v"]})
    assert hash(a) == hash(UserInfo("jane", ("dev",)))
    assert a != UserInfo("jane", ("dev",))


class Fixed:
    """An authenticator with a canned answer."""

    def __init__(self, answer: UserInfo | Unauthorized | None) -> None:
        self.answer, self.calls = answer, 0

    async def authenticate(self, scope: Any) -> UserInfo | None:
        self.calls += 1
        if isinstance(self.answer, Unauthorized):
            raise self.answer
        return self.answer


JANE = UserInfo("jane", ("dev", AUTHENTICATED))
BOB = UserInfo("bob", (AUTHENTICATED,))


async def test_union_first_user_wins_and_none_passes_on() -> None:
    later = Fixed(BOB)
    union = UnionAuthenticator(Fixed(None), Fixed(JANE), later)
    assert await union.authenticate({}) == JANE
    assert later.calls == 0
    assert await UnionAuthenticator(Fixed(None), Fixed(None)).authenticate({}) is None
    assert await UnionAuthenticator().authenticate({}) is None


async def test_union_a_rejection_stands_unless_someone_else_names_the_caller() -> None:
    bad_token = Unauthorized("invalid bearer token")
    assert await UnionAuthenticator(Fixed(bad_token), Fixed(JANE)).authenticate({}) == JANE
    with pytest.raises(Unauthorized, match="invalid bearer token"):
        await UnionAuthenticator(Fixed(bad_token), Fixed(None), Fixed(Unauthorized("other"))).authenticate({})


async def test_union_fail_on_error_keeps_anonymous_from_hiding_a_bad_credential() -> None:
    anonymous = Fixed(UserInfo("system:anonymous", ("system:unauthenticated",)))
    methods = UnionAuthenticator(Fixed(Unauthorized("invalid bearer token")))
    with pytest.raises(Unauthorized):
        await UnionAuthenticator(methods, anonymous, fail_on_error=True).authenticate({})
    assert anonymous.calls == 0
    no_credentials = UnionAuthenticator(UnionAuthenticator(Fixed(None)), anonymous, fail_on_error=True)
    assert (await no_credentials.authenticate({})) == anonymous.answer


async def test_certificate_authenticator_is_an_authenticator(ca: pki.KeyPair, tmp_path: Path) -> None:
    chain: Authenticator = UnionAuthenticator(CertificateAuthenticator())
    pair = pki.issue_cert(ca=ca, common_name="jane", server=False, client=True)
    user = await chain.authenticate(_scope(pair, tmp_path))
    assert user is not None and user.name == "jane"
