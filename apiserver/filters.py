"""The handler chain in front of the API: authenticate, audit, limit, time out.

kube-apiserver wraps its API in filters, outermost first: authentication, audit,
max-in-flight, request timeout, then authorization and the handlers. ``Filters`` is
that chain around ``apiserver.app.KubeApp`` (which keeps authorization, dispatch and
metrics):

1. authenticate with the configured chain (certificates, bearer tokens, anonymous);
   failure is a 401, and is audited too;
2. record the user in the scope, where ``KubeApp`` takes it (``PreAuthenticated``);
3. open the audit record and add the ``Audit-Id`` response header;
4. take a per-user in-flight slot (``limits.InFlightLimiter``) unless long-running;
5. check the body lazily when the handler reads it (depth, JSON-patch length);
6. bound the time of non-long-running requests: 504 Timeout Status if no response
   started in time.

Health probes pass straight through, unauthenticated and unaudited, as ``KubeApp``
already lets them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any

from apiserver import requestinfo
from apiserver.app import USER_SCOPE_KEY
from apiserver.authn import Authenticator, Scope, UserInfo
from apiserver.endpoints import send_status
from apiserver.health import PATHS as HEALTH_PATHS
from apiserver.registry.objectmeta import new_uid
from kube.errors import Timeout, Unauthorized

from . import limits
from .audit import AuditLog, event
from .authz.attributes import from_request
from .authz.chain import PRIVILEGED_GROUP, Chain, forbidden
from .impersonation import impersonate

logger = logging.getLogger(__name__)
_STREAMING_SUBRESOURCES = frozenset({"exec", "attach", "portforward"})
TIMEOUT_MESSAGE = "request did not complete within requested timeout - context deadline exceeded"


class PreAuthenticated:
    """The authenticator ``KubeApp`` gets: ``Filters`` already named the user."""

    scope_provided = True

    async def authenticate(self, scope: Scope) -> UserInfo | None:
        user: UserInfo | None = scope.get(USER_SCOPE_KEY)
        return user


def _is_health(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in HEALTH_PATHS)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class Filters:
    def __init__(
        self,
        app: Any,
        *,
        authenticator: Authenticator,
        audit: AuditLog | None,
        limiter: limits.InFlightLimiter | None,
        request_timeout: float,
        chain: Chain | None = None,
    ) -> None:
        self.app = app
        self.chain = chain
        """Decides impersonation and websocket upgrades (HTTP requests are authorized by ``KubeApp``)."""
        self.authenticator = authenticator
        self.audit = audit
        self.limiter = limiter
        self.request_timeout = request_timeout

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http" or _is_health(scope["path"]):
            await self.app(scope, receive, send)
            return
        received = time.time()
        query_string = scope.get("query_string", b"")
        query = requestinfo.parse_query(query_string)
        info = requestinfo.parse(method=scope["method"], path=scope["path"], query=query)
        long_running = limits.is_long_running(verb=info.verb, subresource=info.subresource)
        audit_id = new_uid()  # not uuid4(): os.urandom releases the GIL per call
        state: dict[str, Any] = {"code": 0}
        audit = self.audit

        def record(stage: str) -> None:
            if audit is None:
                return
            raw = scope.get("raw_path") or scope["path"].encode()
            uri = raw.decode("latin-1") + ("?" + query_string.decode("latin-1") if query_string else "")
            client = scope.get("client")
            try:
                audit.write(event(
                    audit_id=audit_id, stage=stage, info=info, request_uri=uri, user=state.get("authenticated"),
                    source_ip=client[0] if client else "", user_agent=_header(scope, b"user-agent"),
                    code=state["code"], received=received, now=time.time(),
                    impersonated=state.get("impersonated"),
                ))
            except OSError:
                logger.exception("cannot write the audit log")

        async def send_tracked(message: Any) -> None:
            if message["type"] == "http.response.start":
                state["code"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"audit-id", audit_id.encode())]}
                if long_running:
                    record("ResponseStarted")
            await send(message)

        try:
            user = await self.authenticator.authenticate(scope)
            if user is None:
                raise Unauthorized()
        except Exception as err:
            await send_status(send_tracked, err)
            record("ResponseComplete")
            return
        state["authenticated"] = user
        if self.chain is not None and isinstance(user, UserInfo):
            try:
                impersonated = impersonate(scope, user=user, chain=self.chain)
            except Exception as err:
                await send_status(send_tracked, err)
                record("ResponseComplete")
                return
            if impersonated is not None:
                state["impersonated"] = impersonated
                user = impersonated
        scope[USER_SCOPE_KEY] = user
        release = None
        try:
            privileged = isinstance(user, UserInfo) and PRIVILEGED_GROUP in user.groups
            if self.limiter is not None and not long_running and not privileged:
                try:
                    release = self.limiter.acquire(
                        user=getattr(user, "name", ""), mutating=info.verb in limits.MUTATING_VERBS
                    )
                except Exception as err:
                    await send_status(send_tracked, err)
                    return
            body_receive = limits.checked_receive(receive, content_type=_header(scope, b"content-type"))
            if long_running:
                await self.app(scope, body_receive, send_tracked)
            else:
                await self._bounded(scope, body_receive, send_tracked, query=query, state=state)
        finally:
            if release is not None:
                release()
            record("ResponseComplete")

    async def _websocket(self, scope: Scope, receive: Any, send: Any) -> None:
        """Upgraded connections (exec, attach, port-forward) bypass ``KubeApp``'s HTTP
        path, so they are authenticated and authorized here before the route sees them.
        As Kubernetes does for streaming upgrades, ``pods/exec``, ``attach`` and
        ``portforward`` need ``create``; a refusal closes the handshake (HTTP 403)."""
        try:
            user = await self.authenticator.authenticate(scope)
            if user is None:
                raise Unauthorized()
            if self.chain is not None and isinstance(user, UserInfo):
                user = impersonate(scope, user=user, chain=self.chain) or user
                query = requestinfo.parse_query(scope.get("query_string", b""))
                info = requestinfo.parse(method="GET", path=scope["path"], query=query)
                attrs = from_request(user=user, info=info)
                if info.subresource in _STREAMING_SUBRESOURCES:
                    attrs = dataclasses.replace(attrs, verb="create")
                if not self.chain.allowed(attrs):
                    raise forbidden(attrs)
        except Exception:
            await send({"type": "websocket.close", "code": 1008})
            return
        scope[USER_SCOPE_KEY] = user
        await self.app(scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Any, send: Any, *, query: dict[str, str], state: dict[str, int]) -> None:
        seconds = self.request_timeout
        asked = limits.parse_timeout(query.get("timeout", ""))
        if asked is not None and 0 < asked < seconds:
            seconds = asked
        try:
            async with asyncio.timeout(seconds):
                await self.app(scope, receive, send)
        except TimeoutError:
            if state["code"]:
                raise  # the response had begun: all we can do is drop the connection
            await send_status(send, Timeout(f"Timeout: {TIMEOUT_MESSAGE}"))
