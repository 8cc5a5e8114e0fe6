"""The handler chain in front of the API: authenticate, audit, limit, time out.

kube-apiserver wraps its API in filters, outermost first: authentication, audit,
max-in-flight, request timeout, then authorization and the handlers. ``Filters`` is
that chain around ``apiserver.app.KubeApp`` (which keeps authorization, dispatch and
metrics):

1. authenticate with the configured chain (certificates, bearer tokens, anonymous);
   failure is a 401, and is audited too;
2. record the user in the scope, where ``KubeApp`` takes it (``PreAuthenticated``), with
   the parsed RequestInfo and query, so ``KubeApp`` does not parse them again;
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
import random
import time
from typing import Any

from apiserver import requestinfo
from apiserver.app import (
    QUERY_SCOPE_KEY,
    REQUEST_INFO_SCOPE_KEY,
    USER_SCOPE_KEY,
    ConnectionCachingAuthenticator,
)
from apiserver.authn import Authenticator, Scope, UserInfo
from apiserver.endpoints import send_status
from apiserver.health import PATHS as HEALTH_PATHS
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
    return path.startswith(HEALTH_PATHS) and any(path == p or path.startswith(p + "/") for p in HEALTH_PATHS)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1"))
    return ""


_ids = random.Random()  # seeded from os.urandom once
# A version-4 UUID's fixed bits: version 4 in bits 76-79, variant 0b10 in bits 62-63.
_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)


def audit_id() -> str:
    """A version-4 UUID in its usual text form, formatted directly: ``uuid.UUID`` costs
    a few microseconds per request, and ``uuid4()``'s os.urandom releases the GIL. Audit
    IDs must be unique, not secret."""
    h = "%032x" % ((_ids.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Deadline:
    """Cancels a request's task when its time is up (``asyncio.timeout`` without the
    context manager's bookkeeping: this runs on every request)."""

    __slots__ = ("expired", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.expired = False

    def __call__(self) -> None:
        self.expired = True
        self.task.cancel()


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
        # The per-connection certificate answer, asked synchronously before the full chain.
        self._cached = (
            authenticator.cached_user if isinstance(authenticator, ConnectionCachingAuthenticator) else None
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "websocket":
                await self._websocket(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if _is_health(path):
            await self.app(scope, receive, send)
            return
        audit = self.audit
        received = time.time() if audit is not None else 0.0
        query_string: bytes = scope.get("query_string", b"")
        query = requestinfo.parse_query(query_string)
        info = requestinfo.parse(method=scope["method"], path=path, query=query)
        scope[REQUEST_INFO_SCOPE_KEY] = info
        scope[QUERY_SCOPE_KEY] = query
        long_running = limits.is_long_running(verb=info.verb, subresource=info.subresource)
        request_id = audit_id()
        audit_header = (b"audit-id", request_id.encode())
        # One pass over the headers for everything the filters read.
        content_type = ""
        authorization = impersonating = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                if not content_type:
                    content_type = value.decode("latin-1")
            elif name == b"authorization":
                authorization = True
            elif name.startswith(b"impersonate-"):
                impersonating = True
        code = 0
        authenticated: Any = None
        impersonated: Any = None

        def record(stage: str) -> None:
            if audit is None:
                return
            raw = scope.get("raw_path") or path.encode()
            uri = raw.decode("latin-1") + ("?" + query_string.decode("latin-1") if query_string else "")
            client = scope.get("client")
            try:
                audit.write(
                    event(
                        audit_id=request_id,
                        stage=stage,
                        info=info,
                        request_uri=uri,
                        user=authenticated,
                        source_ip=client[0] if client else "",
                        user_agent=_header(scope, b"user-agent"),
                        code=code,
                        received=received,
                        now=time.time(),
                        impersonated=impersonated,
                    )
                )
            except OSError:
                logger.exception("cannot write the audit log")

        async def send_tracked(message: Any) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), audit_header]}
                if long_running:
                    record("ResponseStarted")
            await send(message)

        try:
            user = self._cached(scope, authorization=authorization) if self._cached is not None else None
            if user is None:
                user = await self.authenticator.authenticate(scope)
                if user is None:
                    raise Unauthorized()
        except Exception as err:
            await send_status(send_tracked, err)
            record("ResponseComplete")
            return
        authenticated = user
        if impersonating and self.chain is not None and isinstance(user, UserInfo):
            try:
                impersonated = impersonate(scope, user=user, chain=self.chain)
            except Exception as err:
                await send_status(send_tracked, err)
                record("ResponseComplete")
                return
            if impersonated is not None:
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
            body_receive = limits.checked_receive(receive, content_type=content_type)
            if long_running:
                await self.app(scope, body_receive, send_tracked)
                return
            # The request's deadline: asyncio.timeout's semantics on one timer handle (the
            # context manager costs ~5 µs more per request). A cancellation the deadline
            # caused becomes the 504; anyone else's (the client went away, shutdown)
            # propagates.
            seconds = self.request_timeout
            if "timeout" in query:
                asked = limits.parse_timeout(query["timeout"])
                if asked is not None and 0 < asked < seconds:
                    seconds = asked
            task = asyncio.current_task()
            assert task is not None
            cancelling = task.cancelling()
            deadline = _Deadline(task)
            handle = asyncio.get_running_loop().call_later(seconds, deadline)
            try:
                await self.app(scope, body_receive, send_tracked)
            except asyncio.CancelledError:
                if not deadline.expired:
                    raise
                deadline.expired = False  # uncancelled here, not again below
                if task.uncancel() > cancelling:
                    raise
                if code:
                    raise TimeoutError() from None  # the response had begun: all we can do is drop the connection
                await send_status(send_tracked, Timeout(f"Timeout: {TIMEOUT_MESSAGE}"))
            except TimeoutError:
                if code:
                    raise
                await send_status(send_tracked, Timeout(f"Timeout: {TIMEOUT_MESSAGE}"))
            finally:
                handle.cancel()
                if deadline.expired:
                    task.uncancel()  # the time ran out, but the app finished anyway
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
