"""``GET pods/<name>/log``: the container's log, streamed from the node's kubelet.

The API server has no logs; the kubelet of the pod's node does. As Kubernetes'
``LogREST``, the request is checked here (options, pod, container), then proxied to
``https://<node address>:<kubelet port>/containerLogs/<ns>/<pod>/<container>`` with the
options as query parameters, and the kubelet's answer is streamed back as
``text/plain`` — chunk by chunk, so ``kubectl logs -f`` follows the log live.

Answers as Kubernetes gives them:

- bad options: 400 (not a number) or 422 ``PodLogOptions "p" is invalid`` (negative);
- a container the pod does not have: 400 ``container x is not valid for pod p``; none
  named for a pod with several: 400 ``a container name must be specified for pod p,
  choose one of: [a b]``;
- a pod not yet on a node: 204 No Content — there is no log yet;
- a kubelet that cannot be reached: 503 with Go's wording of the failed call
  (``Get "https://…": dial tcp …: connect: connection refused``) and the node's name;
  kube-apiserver answers 500 there, which would suggest a bug in the API server;
- the kubelet's own errors keep their code and message.
"""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import orjson
from starlette.responses import StreamingResponse

from apiserver.tls import until_shutdown
from kube import meta as kmeta
from kube.errors import BadRequest, FieldError, Invalid, ServiceUnavailable, StatusError, forbidden, invalid
from kube.resources import ResourceInfo

from ..query import query_bool, query_int
from ..subresources import ASGIResponse, Reply, Scope, SubresourceRequest
from .kubelet import KubeletClientConfig, KubeletLocation, locate

MAX_ERROR_BODY = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class LogOptions:
    container: str = ""
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    since_seconds: int | None = None
    since_time: str | None = None
    tail_lines: int | None = None
    limit_bytes: int | None = None

    def query(self) -> str:
        """The kubelet's query string (only what differs from the defaults)."""
        params: list[tuple[str, str]] = []
        for name, flag in (
            ("follow", self.follow),
            ("previous", self.previous),
            ("timestamps", self.timestamps),
        ):
            if flag:
                params.append((name, "true"))
        if self.since_seconds is not None:
            params.append(("sinceSeconds", str(self.since_seconds)))
        if self.since_time is not None:
            params.append(("sinceTime", self.since_time))
        if self.tail_lines is not None:
            params.append(("tailLines", str(self.tail_lines)))
        if self.limit_bytes is not None:
            params.append(("limitBytes", str(self.limit_bytes)))
        return urlencode(params)


def read_options(query: dict[str, str], *, pod_name: str) -> LogOptions:
    """The query parameters as PodLogOptions, checked as ``ValidatePodLogOptions``."""
    since_time = query.get("sinceTime") or None
    if since_time is not None:
        try:
            since_time = kmeta.format_time(kmeta.parse_time(since_time))
        except ValueError:
            raise BadRequest(
                f'invalid value for query parameter sinceTime: "{since_time}" is not an RFC 3339 time'
            ) from None
    options = LogOptions(
        container=query.get("container", ""),
        follow=bool(query_bool(query, "follow")),
        previous=bool(query_bool(query, "previous")),
        timestamps=bool(query_bool(query, "timestamps")),
        since_seconds=query_int(query, "sinceSeconds"),
        since_time=since_time,
        tail_lines=query_int(query, "tailLines"),
        limit_bytes=query_int(query, "limitBytes"),
    )
    errors: list[FieldError] = []
    if options.tail_lines is not None and options.tail_lines < 0:
        errors.append(invalid("tailLines", options.tail_lines, "must be greater than or equal to 0"))
    if options.limit_bytes is not None and options.limit_bytes < 1:
        errors.append(invalid("limitBytes", options.limit_bytes, "must be greater than 0"))
    if options.since_seconds is not None and options.since_time is not None:
        errors.append(
            forbidden("sinceSeconds", "at most one of `sinceTime` or `sinceSeconds` may be specified")
        )
    elif options.since_seconds is not None and options.since_seconds < 1:
        errors.append(invalid("sinceSeconds", options.since_seconds, "must be greater than 0"))
    if errors:
        raise Invalid.of(kind="PodLogOptions", name=pod_name, errors=errors)
    return options


def _container_names(spec: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or ():
            if isinstance(container, dict) and isinstance(container.get("name"), str):
                names.append(container["name"])
    return names


def choose_container(pod: dict[str, Any], requested: str) -> str:
    """The container to read: the one asked for, or the pod's only one."""
    name = pod["metadata"]["name"]
    raw_spec = pod.get("spec")
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    if requested:
        if requested not in _container_names(spec):
            raise BadRequest(f"container {requested} is not valid for pod {name}")
        return requested
    containers = [c for c in spec.get("containers") or () if isinstance(c, dict)]
    if len(containers) == 1 and isinstance(containers[0].get("name"), str):
        return str(containers[0]["name"])
    if not containers:
        raise BadRequest(f"a container name must be specified for pod {name}")
    choices = " ".join(_container_names(spec))
    raise BadRequest(f"a container name must be specified for pod {name}, choose one of: [{choices}]")


def _dial_failure(*, url: str, where: KubeletLocation, err: httpx.HTTPError) -> ServiceUnavailable:
    """Go's words for a failed call, so the message reads like kube-apiserver's."""
    cause: BaseException | None = err
    reason = ""
    while cause is not None and not reason:
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            reason = "connect: connection refused"
        cause = cause.__cause__ or cause.__context__
    if not reason:
        text = str(err) or type(err).__name__
        reason = "connect: connection refused" if "refused" in text.lower() else text
    if isinstance(err, httpx.TimeoutException):
        reason = "i/o timeout"
    dial = (
        f"dial tcp {where.authority}: " if isinstance(err, httpx.ConnectError | httpx.ConnectTimeout) else ""
    )
    return ServiceUnavailable(f'Get "{url}": {dial}{reason} (the kubelet of node "{where.node}")')


async def _error_from(response: httpx.Response, *, url: str) -> StatusError:
    body = b""
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) >= MAX_ERROR_BODY:
            break
    text = body.decode("utf-8", "replace").strip()
    try:
        status = orjson.loads(body)
        if isinstance(status, dict) and status.get("kind") == "Status":
            return StatusError.from_status(status, http_code=response.status_code)
    except ValueError:
        pass
    message = text or f'the kubelet answered "{response.status_code} {response.reason_phrase}" to GET {url}'
    if response.status_code >= 500:
        return ServiceUnavailable(message)
    return StatusError.from_status({"message": message, "code": response.status_code})


async def _no_content(scope: Scope, receive: Any, send: Any) -> None:
    await send(
        {"type": "http.response.start", "status": 204, "headers": [(b"cache-control", b"no-cache, private")]}
    )
    await send({"type": "http.response.body", "body": b""})


class PodLogHandler:
    verbs = frozenset({"get"})

    def __init__(self, *, nodes_info: ResourceInfo, config: KubeletClientConfig | None = None) -> None:
        self.nodes_info = nodes_info
        self.config = config or KubeletClientConfig()

    async def __call__(self, request: SubresourceRequest) -> Reply | ASGIResponse:
        ctx = request.ctx
        options = read_options(request.query, pod_name=ctx.name)
        pod = await request.parent.get(ctx)
        container = choose_container(pod, options.container)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            return _no_content
        nodes = request.api.store_for(self.nodes_info)
        where = await locate(nodes=nodes, ctx=ctx, node_name=node_name, config=self.config)
        path = "/containerLogs/" + "/".join(
            quote(part, safe="") for part in (ctx.namespace, ctx.name, container)
        )
        query = options.query()
        url = where.url(path + (f"?{query}" if query else ""))
        return await self._proxy(url=url, where=where, scope=request.scope)

    async def _proxy(self, *, url: str, where: KubeletLocation, scope: Scope) -> ASGIResponse:
        timeout = httpx.Timeout(self.config.connect_timeout, read=None)
        client = httpx.AsyncClient(verify=self.config.ssl_context(), timeout=timeout)
        try:
            response = await client.send(client.build_request("GET", url), stream=True)
        except httpx.HTTPError as err:
            await client.aclose()
            raise _dial_failure(url=url, where=where, err=err) from None
        except BaseException:
            await client.aclose()
            raise
        if not 200 <= response.status_code < 300:
            try:
                raise await _error_from(response, url=url)
            finally:
                await response.aclose()
                await client.aclose()

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in until_shutdown(scope, response.aiter_raw()):
                    yield chunk
            except httpx.HTTPError:
                return  # the kubelet went away mid-stream: end the log where it stopped
            finally:
                await response.aclose()
                await client.aclose()

        return StreamingResponse(relay(), status_code=200, media_type="text/plain")
