"""``/healthz``, ``/livez``, ``/readyz``: named checks, answered as kube-apiserver does.

Load balancers and ``kubectl get --raw /readyz?verbose`` expect the same format:
``ok`` when every check passes, otherwise a 500 listing ``[+]name ok`` /
``[-]name failed: reason withheld`` lines; ``?verbose`` lists them on success too, and
``/readyz/<name>`` runs one check. Liveness asks "is the process serving?" (and can it
reach storage); readiness also says no while the watch caches are loading and once a
graceful shutdown has begun, so traffic drains before the listener closes.

These paths are served without authentication (kube-apiserver grants them to
``system:unauthenticated`` through the ``system:public-info-viewer`` role).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from apiserver.requestinfo import parse_query
from apiserver.storage.interface import Storage

Check = Callable[[], Awaitable[None]]
"""Raises (any exception) when unhealthy."""
STORAGE_TIMEOUT = 2.0
PATHS = ("/healthz", "/livez", "/readyz")


class Health:
    def __init__(
        self,
        *,
        storage: Storage,
        caches_ready: Callable[[], bool],
        shutting_down: Callable[[], bool],
    ) -> None:
        self._storage = storage
        self._caches_ready = caches_ready
        self._shutting_down = shutting_down
        live: dict[str, Check] = {"ping": self._ping, "etcd": self._etcd}
        self.checks: dict[str, dict[str, Check]] = {
            "/livez": live,
            "/healthz": live,
            "/readyz": {**live, "informer-sync": self._informers, "shutdown": self._shutdown},
        }

    async def _ping(self) -> None:
        return None

    async def _etcd(self) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for wraps the call in a task
        # of its own, per probe.
        async with asyncio.timeout(STORAGE_TIMEOUT):
            await self._storage.current_revision()

    async def _informers(self) -> None:
        if not self._caches_ready():
            raise RuntimeError("watch caches are still loading")

    async def _shutdown(self) -> None:
        if self._shutting_down():
            raise RuntimeError("the server is shutting down")

    async def run(self, endpoint: str, *, only: str | None = None, verbose: bool = False) -> tuple[int, str]:
        checks = self.checks[endpoint]
        if only is not None:
            if only not in checks:
                return 404, f"no such check: {only}\n"
            checks = {only: checks[only]}
        lines: list[str] = []
        failed = False
        for name, check in checks.items():
            try:
                await check()
            except Exception:
                failed = True
                lines.append(f"[-]{name} failed: reason withheld")
            else:
                lines.append(f"[+]{name} ok")
        name = endpoint.strip("/")
        if failed:
            return 500, "\n".join(lines) + f"\n{name} check failed\n"
        if only is not None:
            return 200, "ok"
        if verbose:
            return 200, "\n".join(lines) + f"\n{name} check passed\n"
        return 200, "ok"

    async def respond(self, scope: Scope, send: Send, *, endpoint: str, only: str | None) -> None:
        """Answer one probe: for the routes, and for ``KubeApp``, which answers probes
        without the framework's routing and middleware (about half of a probe's cost;
        load balancers probe often)."""
        query_string: bytes = scope.get("query_string", b"")
        verbose = bool(query_string) and "verbose" in parse_query(query_string)
        code, text = await self.run(endpoint, only=only, verbose=verbose)
        body = text.encode()
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"content-length", b"%d" % len(body)),
            (b"content-type", b"text/plain; charset=utf-8"),
        ]
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def routes(self) -> list[BaseRoute]:
        """The probe paths, for what ``KubeApp`` does not answer itself: another method
        (405), a deeper path (404), a trailing slash (redirect)."""
        out: list[BaseRoute] = []
        for endpoint in PATHS:
            out.append(Route(endpoint, _Probe(self, endpoint, single=False), methods=["GET", "HEAD"]))
            out.append(Route(endpoint + "/{check}", _Probe(self, endpoint, single=True), methods=["GET", "HEAD"]))
        return out


class _Probe:
    """A probe route's ASGI endpoint (an object, not a function, so the router hands it
    the raw scope instead of a Request)."""

    def __init__(self, health: Health, endpoint: str, *, single: bool) -> None:
        self._health = health
        self._endpoint = endpoint
        self._single = single

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        only = scope["path_params"].get("check") if self._single else None
        await self._health.respond(scope, send, endpoint=self._endpoint, only=only)
