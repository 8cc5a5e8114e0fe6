"""Service-account tokens: JWTs the API server signs, and accepts while their account lives.

A token is an ES256 JWT signed with ``sa.key`` (``kube.pki.ensure_service_account_key``),
with the claims Kubernetes puts in one::

    {"iss": "https://kubernetes.default.svc.cluster.local", "aud": [...],
     "sub": "system:serviceaccount:<ns>:<name>", "iat": ..., "nbf": ..., "exp": ..., "jti": ...,
     "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": name, "uid": uid},
                       "pod": {"name", "uid"} (when bound to a pod)}}

and a ``kid`` header (base64url SHA-256 of the public key's DER), so ``kubectl create
token`` output decodes the same way as a real cluster's.

Verifying one: the issuer must be ours (otherwise the token is not ours to judge), the
signature, ``exp``/``nbf`` and an audience we accept must hold, and then the account
must still exist **with the uid in the token** — read from the watch cache, falling back
to storage on a miss — so deleting a ServiceAccount (or deleting and recreating it
under the same name) invalidates every token issued for it. A token bound to a pod
likewise dies with the pod. Signature checks cost ~0.2 ms, so verified claims are
cached per token; the account and pod checks run on every request.

The user is ``system:serviceaccount:<ns>:<name>`` in the groups
``system:serviceaccounts``, ``system:serviceaccounts:<ns>`` and ``system:authenticated``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apiserver.authn import CREDENTIAL_ID, UserInfo, with_authenticated_group
from kube.errors import NotFound, StatusError, Unauthorized

logger = logging.getLogger(__name__)

DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
USER_PREFIX = "system:serviceaccount:"
ALL_GROUP = "system:serviceaccounts"
_CACHE_SIZE = 4096
_LEEWAY = 60  # seconds of clock skew tolerated on nbf/exp, as Kubernetes' validator


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def user_name(namespace: str, name: str) -> str:
    return f"{USER_PREFIX}{namespace}:{name}"


def split_user_name(user: str) -> tuple[str, str] | None:
    if not user.startswith(USER_PREFIX):
        return None
    namespace, sep, name = user[len(USER_PREFIX):].partition(":")
    return (namespace, name) if sep and namespace and name else None


@dataclass(frozen=True, slots=True)
class Claims:
    namespace: str
    name: str
    uid: str
    jti: str
    expires: float
    pod: tuple[str, str] | None  # (name, uid)


class TokenIssuer:
    """Signs tokens; the TokenRequest handler is its only client."""

    def __init__(self, *, key: ec.EllipticCurvePrivateKey, issuer: str, audiences: list[str]) -> None:
        self.key = key
        self.issuer = issuer
        self.audiences = audiences
        self.kid = key_id(key.public_key())

    def issue(
        self,
        *,
        namespace: str,
        name: str,
        uid: str,
        audiences: list[str],
        seconds: int,
        pod: tuple[str, str] | None = None,
        now: float | None = None,
    ) -> tuple[str, int]:
        """(token, expiry as a Unix time)."""
        issued = int(now if now is not None else time.time())
        expires = issued + seconds
        private: dict[str, Any] = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}}
        if pod is not None:
            private["pod"] = {"name": pod[0], "uid": pod[1]}
        claims = {
            "aud": audiences,
            "exp": expires,
            "iat": issued,
            "iss": self.issuer,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": private,
            "nbf": issued,
            "sub": user_name(namespace, name),
        }
        token = jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": self.kid})
        return token, expires


class ServiceAccountTokens:
    """A ``TokenAuthenticator`` for the tokens ``TokenIssuer`` signs."""

    def __init__(
        self,
        *,
        public_keys: list[ec.EllipticCurvePublicKey],
        issuers: list[str],
        audiences: list[str],
        api: Any,
    ) -> None:
        self.public_keys = public_keys
        self.issuers = set(issuers)
        self.audiences = audiences
        self.api = api
        self._verified: OrderedDict[str, Claims] = OrderedDict()

    def _verify(self, token: str) -> Claims | None:
        cached = self._verified.get(token)
        if cached is not None:
            if time.time() > cached.expires + _LEEWAY:
                self._verified.pop(token, None)
                raise Unauthorized()
            return cached
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None  # not a JWT at all: someone else's token format
        if unverified.get("iss") not in self.issuers:
            return None  # another issuer's token: not ours to judge
        last_error: Exception | None = None
        for key in self.public_keys:
            try:
                claims = jwt.decode(
                    token, key, algorithms=["ES256"], audience=self.audiences, issuer=list(self.issuers),
                    leeway=_LEEWAY, options={"require": ["exp", "iat", "sub"]},
                )
                break
            except jwt.InvalidSignatureError as err:
                last_error = err
                continue
            except jwt.PyJWTError as err:
                logger.debug("service account token refused: %s", err)
                raise Unauthorized() from None
        else:
            logger.debug("service account token refused: %s", last_error)
            raise Unauthorized()
        parsed = _claims(claims)
        if parsed is None:
            raise Unauthorized()
        self._verified[token] = parsed
        if len(self._verified) > _CACHE_SIZE:
            self._verified.popitem(last=False)
        return parsed

    async def authenticate_token(self, token: str) -> UserInfo | None:
        claims = self._verify(token)
        if claims is None:
            return None
        account = await _live(self.api, "serviceaccounts", claims.namespace, claims.name, uid=claims.uid)
        if account is None or (account.get("metadata") or {}).get("uid") != claims.uid:
            raise Unauthorized()  # deleted (or deleted and recreated): every token dies with it
        extra = {CREDENTIAL_ID: [f"JTI={claims.jti}"]} if claims.jti else {}
        if claims.pod is not None:
            pod = await _live(self.api, "pods", claims.namespace, claims.pod[0], uid=claims.pod[1])
            if pod is None or (pod.get("metadata") or {}).get("uid") != claims.pod[1]:
                raise Unauthorized()
            extra["authentication.kubernetes.io/pod-name"] = [claims.pod[0]]
            extra["authentication.kubernetes.io/pod-uid"] = [claims.pod[1]]
        return UserInfo(
            name=user_name(claims.namespace, claims.name),
            uid=claims.uid,
            groups=with_authenticated_group([ALL_GROUP, f"{ALL_GROUP}:{claims.namespace}"]),
            extra=extra,
        )


def _claims(raw: dict[str, Any]) -> Claims | None:
    private = raw.get("kubernetes.io")
    if not isinstance(private, dict):
        return None
    account = private.get("serviceaccount") or {}
    namespace, name, uid = private.get("namespace"), account.get("name"), account.get("uid")
    if not (isinstance(namespace, str) and isinstance(name, str) and isinstance(uid, str)):
        return None
    if not (namespace and name and uid):
        return None
    if raw.get("sub") != user_name(namespace, name):
        return None
    pod = private.get("pod")
    bound = (str(pod.get("name")), str(pod.get("uid"))) if isinstance(pod, dict) else None
    return Claims(
        namespace=namespace, name=name, uid=uid, jti=str(raw.get("jti") or ""), expires=float(raw["exp"]), pod=bound
    )


async def _live(api: Any, resource: str, namespace: str, name: str, *, uid: str) -> dict[str, Any] | None:
    """From the watch cache; from storage when the cache misses or holds another uid
    (it may lag an account created, or recreated, a moment ago)."""
    store = api.store(group="", version="v1", resource=resource)
    if store is None:
        return None
    key = store.key(namespace=namespace, name=name)
    if store.cacher is not None:
        try:
            found: dict[str, Any] | None = store.cacher.get(key)
        except StatusError:
            found = None
        if found is not None and (found.get("metadata") or {}).get("uid") == uid:
            return found
    try:
        stored: dict[str, Any] = await store.storage.get(key)
        return stored
    except NotFound:
        return None
