"""The request core under the typed client: one pool, one rate limit, retries, typed errors.

:class:`~kube.client.rest.Client` builds paths and parameters; everything that happens
to a request after that lives here, once, so the typed verbs, watches and the raw
``request`` escape hatch all behave alike: they wait for a token from the QPS bucket,
are retried by the same rules (:mod:`kube.client.retry`), and turn any non-2xx answer
into the typed error the server's Status names (:mod:`kube.client.errors`).

The pool is HTTP/1.1 keep-alive and unbounded in size, since each watch holds a
connection for minutes; 25 idle connections are kept, as in client-go's transport. The
TLS context (CA, client certificate) is built once per kubeconfig and shared.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx
import orjson

from kube.client.clock import Clock, RealClock
from kube.client.errors import TransportError, error_from_response, parse_body
from kube.client.ratelimit import TokenBucket
from kube.client.retry import RetryPolicy, retry_after
from kube.kubeconfig import ClientConfig

JSON = "application/json"
DEFAULT_USER_AGENT = "kubesim/0.1.0"


@functools.lru_cache(maxsize=32)
def ssl_context(config: ClientConfig) -> ssl.SSLContext:
    """Loading a CA and a key pair costs milliseconds; clients of one config share it."""
    return config.ssl_context()


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
        headers = {"Accept": JSON, "User-Agent": user_agent}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        # httpx takes the TLS verification name (kubeconfig tls-server-name) per request.
        self._extensions = {"sni_hostname": config.tls_server_name} if config.tls_server_name else None
        self.http = httpx.AsyncClient(
            base_url=config.server,
            verify=ssl_context(config) if transport is None else True,
            transport=transport,
            headers=headers,
            timeout=self.timeout,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=25, keepalive_expiry=90.0),
            trust_env=False,
        )

    async def close(self) -> None:
        await self.http.aclose()

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
    ) -> httpx.Response:
        """Send with rate limiting and retries; return the last answer, whatever its code."""
        headers = {"Content-Type": content_type} if content is not None and content_type else None
        backoff = self.retry.backoff(self.clock)
        attempt = 0
        while True:
            await self.limiter.acquire()
            request = self.http.build_request(
                method,
                path,
                params=params,
                content=content,
                headers=headers,
                timeout=http_timeout or self.timeout,
                extensions=self._extensions,
            )
            try:
                response = await self.http.send(request, stream=stream)
            except httpx.TransportError as err:
                if attempt < self.retry.max_retries and self.retry.should_retry_error(
                    method=method, error=err
                ):
                    attempt += 1
                    await self.clock.sleep(backoff.next())
                    continue
                raise TransportError(
                    str(err) or type(err).__name__, method=method, url=str(request.url)
                ) from err
            if attempt < self.retry.max_retries and self.retry.should_retry_status(
                method=method, status=response.status_code
            ):
                await response.aread()
                await response.aclose()
                delay = retry_after(response, parse_body(response.content))
                attempt += 1
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
