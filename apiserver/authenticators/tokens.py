"""Bearer tokens and anonymous requests.

``Authorization: Bearer <token>`` is offered to each token authenticator in turn (the
static token file, then service-account JWTs). As in kube-apiserver, a bearer token
that none of them recognises is an error (401), not "no credential": a mistyped token
must never fall through to anonymous access.

The static token file (``--token-auth-file``) is Kubernetes' CSV: ``token,user,uid``
and an optional fourth column of comma-separated groups (quoted when there are
several), e.g. ``s3cr3t,alice,1001,"dev,ops"``. Blank lines and lines starting with
``#`` are skipped; a line with fewer than three columns or an empty token stops the
server with the line number, because a half-read credentials file is worse than none.

Anonymous access (``--anonymous-auth``, off by default) names requests that carry no
credential at all ``system:anonymous`` in the group ``system:unauthenticated``.
"""

from __future__ import annotations

import csv
import hmac
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from apiserver.authn import Scope, UserInfo, with_authenticated_group
from kube.errors import Unauthorized

logger = logging.getLogger(__name__)

ANONYMOUS_USER = "system:anonymous"
UNAUTHENTICATED_GROUP = "system:unauthenticated"


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None if there is none."""
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() != "bearer":
                return None
            token = token.strip()
            return token or None
    return None


class TokenAuthenticator(Protocol):
    async def authenticate_token(self, token: str) -> UserInfo | None:
        """A user for a token this authenticator issued, None for one it does not know,
        or raise Unauthorized for one of its own that is no longer valid."""
        ...


class BearerTokenAuthenticator:
    def __init__(self, authenticators: Sequence[TokenAuthenticator]) -> None:
        self.authenticators = tuple(authenticators)

    async def authenticate(self, scope: Scope) -> UserInfo | None:
        token = bearer_token(scope)
        if token is None:
            return None
        for authenticator in self.authenticators:
            user = await authenticator.authenticate_token(token)
            if user is not None:
                return user
        raise Unauthorized()


class TokenFileError(Exception):
    """The token file cannot be used; the message names the line."""


class StaticTokens:
    """``--token-auth-file``: tokens compared in constant time."""

    def __init__(self, users: dict[str, UserInfo]) -> None:
        self._users = users

    @classmethod
    def from_file(cls, path: Path) -> StaticTokens:
        try:
            text = path.read_text()
        except OSError as err:
            raise TokenFileError(f"cannot read --token-auth-file {path}: {err.strerror}") from None
        return cls.parse(text, source=str(path))

    @classmethod
    def parse(cls, text: str, *, source: str = "token file") -> StaticTokens:
        users: dict[str, UserInfo] = {}
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if len(row) < 3:
                raise TokenFileError(
                    f"{source}:{number}: must have at least 3 columns (token, user name, user uid), found {len(row)}"
                )
            token, name, uid = row[0].strip(), row[1].strip(), row[2].strip()
            if not token:
                raise TokenFileError(f"{source}:{number}: the token is empty")
            if token in users:
                logger.warning("%s:%d: duplicate token; the later line wins", source, number)
            groups = [g.strip() for g in row[3].split(",") if g.strip()] if len(row) > 3 else []
            users[token] = UserInfo(name=name, uid=uid, groups=with_authenticated_group(groups))
        return cls(users)

    def __len__(self) -> int:
        return len(self._users)

    async def authenticate_token(self, token: str) -> UserInfo | None:
        found: UserInfo | None = None
        encoded = token.encode()
        for candidate, user in self._users.items():
            # Compare against every entry so timing does not reveal where a match is.
            if hmac.compare_digest(candidate.encode(), encoded):
                found = user
        return found


class Anonymous:
    """The last resort: a request with no credential of any kind."""

    async def authenticate(self, scope: Scope) -> UserInfo | None:
        return UserInfo(name=ANONYMOUS_USER, groups=(UNAUTHENTICATED_GROUP,))


def request_user(scope: Scope) -> Any:
    return scope.get("kubesim.user")
