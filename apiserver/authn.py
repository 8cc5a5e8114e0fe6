"""Authentication: who is making this request?

As in kube-apiserver, authentication only names the caller (user, groups, uid,
extra); what they may do is authorization's job. Several methods are tried in turn
(:class:`UnionAuthenticator`): today the client certificate, later bearer tokens
(static token file, service-account JWTs) and anonymous. Each authenticator answers
one of three ways, which is what lets the chain be ordered safely:

- a :class:`UserInfo`: the credential it understands is present and valid;
- ``None``: there is no credential of its kind, ask the next one;
- raise :class:`~kube.errors.Unauthorized`: a credential of its kind is present but
  wrong. Unless another method names the caller, the request fails with 401 even
  where anonymous access is on: a typo in a token never silently makes its bearer
  anonymous.

Certificates arrive already verified by the TLS handshake (chain to the client CA,
validity, clientAuth usage; see :mod:`apiserver.tls`). The one check repeated here
is expiry, because a keep-alive connection can outlive the certificate it was
opened with; kube-apiserver likewise verifies the chain on every request.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kube.errors import Unauthorized

Scope = MutableMapping[str, Any]

AUTHENTICATED = "system:authenticated"
# The extra key kube-apiserver (1.31+) records so audit logs can tell credentials apart.
CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"


@dataclass(frozen=True, slots=True)
class UserInfo:
    """The authenticated caller, shaped like Kubernetes' ``user.Info``."""

    name: str
    groups: tuple[str, ...]
    uid: str = ""
    # Excluded from hashing (dicts are unhashable) so a UserInfo can key a cache.
    extra: dict[str, list[str]] = field(default_factory=dict, hash=False)


class Authenticator(Protocol):
    """One authentication method; see the module docstring for the three possible answers."""

    async def authenticate(self, scope: Scope) -> UserInfo | None: ...


def with_authenticated_group(groups: Iterable[str]) -> tuple[str, ...]:
    """Every authenticated user is in ``system:authenticated`` (RBAC binds to it)."""
    out = tuple(dict.fromkeys(groups))
    return out if AUTHENTICATED in out else (*out, AUTHENTICATED)


def _subject(peer_cert: dict[str, Any]) -> tuple[str, list[str]]:
    common_name, organizations = "", []
    for rdn in peer_cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                common_name = value  # Go's pkix.Name keeps the last CN; so do we
            elif key == "organizationName":
                organizations.append(value)
    return common_name, organizations


def authenticate_request(scope: Scope) -> UserInfo | None:
    """The user named by the verified client certificate, or ``None`` if none was sent.

    user = the subject's CN, groups = each O, plus ``system:authenticated``.
    """
    tls = (scope.get("extensions") or {}).get("tls") or {}
    peer_cert = tls.get("peer_cert")
    if not peer_cert:
        return None
    now = time.time()
    if now >= ssl.cert_time_to_seconds(peer_cert["notAfter"]):
        raise Unauthorized(f"x509: certificate has expired (notAfter {peer_cert['notAfter']})")
    if now < ssl.cert_time_to_seconds(peer_cert["notBefore"]):
        raise Unauthorized(f"x509: certificate is not yet valid (notBefore {peer_cert['notBefore']})")
    name, organizations = _subject(peer_cert)
    if not name:
        return None  # as kube-apiserver: a certificate without a CN names nobody
    extra = {CREDENTIAL_ID: [f"X509SHA256={tls['peer_cert_sha256']}"]} if tls.get("peer_cert_sha256") else {}
    return UserInfo(name=name, groups=with_authenticated_group(organizations), extra=extra)


class CertificateAuthenticator:
    """Client certificates, verified during the TLS handshake against ``--client-ca-file``."""

    async def authenticate(self, scope: Scope) -> UserInfo | None:
        return authenticate_request(scope)


class UnionAuthenticator:
    """Try each authenticator in order; the first user found wins.

    As kube-apiserver's union: a rejection by one method does not stop a later one
    from succeeding (a request may carry a stale token and a good certificate), but
    if nobody succeeds, the first rejection is the answer. With ``fail_on_error`` the
    first rejection ends the search; kube-apiserver puts anonymous behind the other
    methods this way: ``UnionAuthenticator(methods, anonymous, fail_on_error=True)``.
    """

    def __init__(self, *authenticators: Authenticator, fail_on_error: bool = False) -> None:
        self.authenticators = authenticators
        self.fail_on_error = fail_on_error

    async def authenticate(self, scope: Scope) -> UserInfo | None:
        rejected: Unauthorized | None = None
        for authenticator in self.authenticators:
            try:
                user = await authenticator.authenticate(scope)
            except Unauthorized as err:
                if self.fail_on_error:
                    raise
                rejected = rejected or err
                continue
            if user is not None:
                return user
        if rejected is not None:
            raise rejected
        return None
