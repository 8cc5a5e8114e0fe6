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
   started in time (up to ``_TICK`` late: deadlines due together share one timer).

Health probes pass straight through, unauthenticated and unaudited, as ``KubeApp``
already lets them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
import time
from collections.abc import Awaitable, Iterator
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
from kube.meta import uuid4_text

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


_ids: tuple[str, Iterator[int]] = ("", iter(()))
"""(prefix, counter) of the audit IDs; drawn when the process first needs one."""


def _draw_ids() -> None:
    global _ids
    first = uuid4_text(int.from_bytes(os.urandom(16)))
    # The counter starts below 2**47: it would take 2**47 requests to outgrow 12 digits.
    _ids = (first[:24], itertools.count(int(first[24:], 16) >> 1))


def audit_id() -> str:
    """A version-4 UUID in its usual text form, unique per process: random (74 bits drawn
    from os.urandom once per process) but for a counter in the last group. Audit IDs
    must be unique, not secret, and drawing and formatting 122 random bits on every
    request cost more than the rest of the audit-ID handling."""
    prefix, counter = _ids
    if not prefix:
        _draw_ids()
        prefix, counter = _ids
    return f"{prefix}{next(counter):012x}"


os.register_at_fork(after_in_child=_draw_ids)  # a forked child must not repeat its parent's IDs


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


_TICK = 0.025
"""Seconds by which a request deadline may fire late: deadlines due within one tick share
a timer (about 3 µs saved per request over a timer each, at any rate above ~40/s)."""


class _Deadlines:
    """The pending request deadlines of one event loop, grouped by the tick they fall due."""

    __slots__ = ("_due", "_loop")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._due: dict[int, set[_Deadline]] = {}

    def add(self, deadline: _Deadline, seconds: float, loop: asyncio.AbstractEventLoop) -> set[_Deadline]:
        """Schedule ``deadline`` ``seconds`` from now (up to a tick later) on ``loop``, the
        running one; returns the set to discard it from when the request ends in time."""
        if loop is not self._loop:
            self._loop, self._due = loop, {}
        tick = int((loop.time() + seconds) / _TICK) + 1
        pending = self._due.get(tick)
        if pending is None:
            pending = self._due[tick] = set()
            loop.call_at(tick * _TICK, self._expire, tick)
        pending.add(deadline)
        return pending

    def _expire(self, tick: int) -> None:
        for deadline in self._due.pop(tick, ()):
            deadline()


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
        self._deadlines = _Deadlines()
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
        long_running = (
            info.verb in limits.LONG_RUNNING_VERBS or info.subresource in limits.LONG_RUNNING_SUBRESOURCES
        )
        request_id = audit_id()
        audit_header = (b"audit-id", request_id.encode())
        # One pass over the headers for everything the filters read.
        content_type = ""
        authorization = impersonating = has_body = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                if not content_type:
                    content_type = value.decode("latin-1")
            elif name == b"authorization":
                authorization = True
            elif name == b"content-length":
                has_body = has_body or value != b"0"
            elif name == b"transfer-encoding":
                has_body = True
            elif name.startswith(b"impersonate-"):
                impersonating = True
        code = 0

        # A plain function returning send's awaitable: one coroutine less per message.
        def send_tracked(message: Any) -> Awaitable[None]:
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), audit_header]}
                if long_running and audit is not None:
                    self._record(
                        audit, scope, stage="ResponseStarted", request_id=request_id, info=info,
                        user=user, impersonated=impersonated, code=code, received=received,
                    )  # fmt: skip
            return send(message)

        user: Any = None
        impersonated: Any = None
        try:
            user = self._cached(scope, authorization=authorization) if self._cached is not None else None
            if user is None:
                user = await self.authenticator.authenticate(scope)
                if user is None:
                    raise Unauthorized()
        except Exception as err:
            user = None
            await send_status(send_tracked, err)
            if audit is not None:
                self._record(
                    audit, scope, stage="ResponseComplete", request_id=request_id, info=info,
                    user=None, impersonated=None, code=code, received=received,
                )  # fmt: skip
            return
        if impersonating and self.chain is not None and isinstance(user, UserInfo):
            try:
                impersonated = impersonate(scope, user=user, chain=self.chain)
            except Exception as err:
                await send_status(send_tracked, err)
                if audit is not None:
                    self._record(
                        audit, scope, stage="ResponseComplete", request_id=request_id, info=info,
                        user=user, impersonated=None, code=code, received=received,
                    )  # fmt: skip
                return
        acting = user if impersonated is None else impersonated
        scope[USER_SCOPE_KEY] = acting
        release = None
        try:
            if self.limiter is not None and not long_running:
                if not (isinstance(acting, UserInfo) and PRIVILEGED_GROUP in acting.groups):
                    try:
                        release = self.limiter.acquire(
                            user=getattr(acting, "name", ""), mutating=info.verb in limits.MUTATING_VERBS
                        )
                    except Exception as err:
                        await send_status(send_tracked, err)
                        return
            # Bodies are checked as the handler reads them; without one there is nothing to check.
            body_receive = limits.checked_receive(receive, content_type=content_type) if has_body else receive
            if long_running:
                await self.app(scope, body_receive, send_tracked)
                return
            # The request's deadline: asyncio.timeout's semantics, on a timer shared by the
            # requests due at about the same time (see ``_Deadlines``). A cancellation the
            # deadline caused becomes the 504; anyone else's (the client went away,
            # shutdown) propagates.
            seconds = self.request_timeout
            if "timeout" in query:
                asked = limits.parse_timeout(query["timeout"])
                if asked is not None and 0 < asked < seconds:
                    seconds = asked
            loop = asyncio.get_running_loop()
            task = asyncio.current_task(loop)
            assert task is not None
            cancelling = task.cancelling()
            deadline = _Deadline(task)
            pending = self._deadlines.add(deadline, seconds, loop)
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
                pending.discard(deadline)
                if deadline.expired:
                    task.uncancel()  # the time ran out, but the app finished anyway
        finally:
            if release is not None:
                release()
            if audit is not None:
                self._record(
                    audit, scope, stage="ResponseComplete", request_id=request_id, info=info,
                    user=user, impersonated=impersonated, code=code, received=received,
                )  # fmt: skip

    @staticmethod
    def _record(
        audit: AuditLog,
        scope: Scope,
        *,
        stage: str,
        request_id: str,
        info: requestinfo.RequestInfo,
        user: Any,
        impersonated: Any,
        code: int,
        received: float,
    ) -> None:
        raw = scope.get("raw_path") or scope["path"].encode()
        query_string: bytes = scope.get("query_string", b"")
        uri = raw.decode("latin-1") + ("?" + query_string.decode("latin-1") if query_string else "")
        client = scope.get("client")
        try:
            audit.write(
                event(
                    audit_id=request_id,
                    stage=stage,
                    info=info,
                    request_uri=uri,
                    user=user,
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
