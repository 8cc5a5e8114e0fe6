"""The request core under the typed client: one pool, one rate limit, retries, typed errors.

:class:`~kube.client.rest.Client` builds paths and parameters; everything that happens
to a request after that lives here, once, so the typed verbs, watches and the raw
``request`` escape hatch all behave alike: they wait for a token from the QPS bucket,
are retried by the same rules (:mod:`kube.client.retry`), and turn any non-2xx answer
into the typed error the server's Status names (:mod:`kube.client.errors`).

The network is the client's own HTTP/1.1 transport (:mod:`kube.client.transport`),
whose keep-alive pool is unbounded in size since each watch holds a connection for
minutes. A test may inject an ``httpx`` transport instead (``httpx.MockTransport``, or
one that fails on cue); then requests go through an ``httpx.AsyncClient`` and behave
the same above this module. The TLS context (CA, client certificate) is built once per
kubeconfig and shared.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

import httpx
import orjson

from kube.client.clock import Clock, RealClock
from kube.client.errors import TransportError, error_from_response, parse_body
from kube.client.ratelimit import TokenBucket
from kube.client.retry import Backoff, RetryPolicy, retry_after
from kube.client.transport import Transport
from kube.kubeconfig import ClientConfig

JSON = "application/json"
DEFAULT_USER_AGENT = "kubesim/0.1.0"


@functools.lru_cache(maxsize=32)
def ssl_context(config: ClientConfig) -> ssl.SSLContext:
    """Loading a CA and a key pair costs milliseconds; clients of one config share it."""
    return config.ssl_context()


class Answer(Protocol):
    """What the wire reads of a response, from either network (``httpx.Response`` or
    :class:`kube.client.transport.Response`)."""

    @property
    def status_code(self) -> int: ...
    @property
    def is_success(self) -> bool: ...
    @property
    def content(self) -> bytes: ...
    @property
    def text(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    async def aread(self) -> bytes: ...
    def aiter_lines(self) -> AsyncIterator[str] | AsyncIterator[bytes]: ...
    async def aclose(self) -> None: ...


class Wire:
    def __init__(
        self,
        config: ClientConfig,
        *,
        qps: float,
        burst: int,
        retry: RetryPolicy,
        clock: Clock | None,
        transport: httpx.AsyncBaseTransport | None,
        timeout: float,
        user_agent: str,
    ) -> None:
        self.retry = retry
        self.clock: Clock = clock or RealClock()
        self.limiter = TokenBucket(qps=qps, burst=burst, clock=self.clock)
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self.server = config.server.rstrip("/")
        self.http: httpx.AsyncClient | None = None
        self.direct: Transport | None = None
        if transport is None:
            self.direct = Transport(
                config, ssl_context=ssl_context(config), user_agent=user_agent, accept=JSON
            )
            return
        headers = {"Accept": JSON, "User-Agent": user_agent}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        # httpx takes the TLS verification name (kubeconfig tls-server-name) per request.
        self._extensions = {"sni_hostname": config.tls_server_name} if config.tls_server_name else None
        self.http = httpx.AsyncClient(
            base_url=config.server,
            transport=transport,
            headers=headers,
            timeout=self.timeout,
            trust_env=False,
        )

    async def close(self) -> None:
        if self.direct is not None:
            await self.direct.aclose()
        if self.http is not None:
            await self.http.aclose()

    def _once(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None,
        content: bytes | None,
        content_type: str | None,
        stream: bool,
        http_timeout: httpx.Timeout | None,
    ) -> Callable[[], Awaitable[Answer]]:
        """One attempt at the request, on whichever network this wire has."""
        timeout = http_timeout or self.timeout
        if self.direct is not None:
            direct = self.direct
            if stream:
                return lambda: direct.stream(
                    method, path, params=params, connect_timeout=timeout.connect, read_timeout=timeout.read
                )
            total = None if timeout.read is None else timeout.read + (timeout.connect or 0.0)
            return lambda: direct.request(
                method, path, params=params, content=content, content_type=content_type,
                connect_timeout=timeout.connect, deadline=total,
            )  # fmt: skip
        http = self.http
        assert http is not None
        headers = {"Content-Type": content_type} if content is not None and content_type else None

        async def via_httpx() -> Answer:
            request = http.build_request(
                method, path, params=params, content=content, headers=headers,
                timeout=timeout, extensions=self._extensions,
            )  # fmt: skip
            return await http.send(request, stream=stream)

        return via_httpx

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        stream: bool = False,
        http_timeout: httpx.Timeout | None = None,
    ) -> Answer:
        """Send with rate limiting and retries; return the last answer, whatever its code."""
        once = self._once(
            method, path, params=params, content=content, content_type=content_type,
            stream=stream, http_timeout=http_timeout,
        )  # fmt: skip
        backoff: Backoff | None = None
        attempt = 0
        while True:
            await self.limiter.acquire()
            try:
                response = await once()
            except httpx.TransportError as err:
                if attempt < self.retry.max_retries and self.retry.should_retry_error(
                    method=method, error=err
                ):
                    attempt += 1
                    backoff = backoff or self.retry.backoff(self.clock)
                    await self.clock.sleep(backoff.next())
                    continue
                raise TransportError(
                    str(err) or type(err).__name__, method=method, url=self.server + path
                ) from err
            if attempt < self.retry.max_retries and self.retry.should_retry_status(
                method=method, status=response.status_code
            ):
                await response.aread()
                await response.aclose()
                delay = retry_after(response, parse_body(response.content))
                attempt += 1
                backoff = backoff or self.retry.backoff(self.clock)
                await self.clock.sleep(backoff.next() if delay is None else delay)
                continue
            return response

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = JSON,
        resource: str = "",
        name: str = "",
    ) -> Any:
        """One request and its decoded answer: JSON as Python values, anything else as text."""
        content = None if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
        response = await self.send(method, path, params=params, content=content, content_type=content_type)
        if not response.is_success:
            raise error_from_response(
                status_code=response.status_code,
                content=response.content,
                method=method,
                resource=resource,
                name=name,
            )
        if "json" in response.headers.get("content-type", ""):
            return parse_body(response.content)
        return response.text
