"""Turn a request's method, path and query into what it asks for, as Kubernetes does.

Authorization, audit, metrics and the handlers all need the same answer to "which verb on
which resource in which namespace?", so it is computed once per request, here, with the
rules of Kubernetes' ``RequestInfoFactory`` (apiserver/pkg/endpoints/request/requestinfo.go):

- ``/api/{version}/...`` is the core group; ``/apis/{group}/{version}/...`` any other.
  Shorter paths (``/api``, ``/apis/apps``) and everything else are non-resource requests.
- ``/namespaces/{ns}/{resource}/{name}/{subresource}`` — but ``/namespaces/{name}/status``
  and ``/namespaces/{name}/finalize`` are subresources of the namespace itself.
- The verb comes from the method; a GET without a name is ``list`` or, with
  ``watch=true``, ``watch``; a DELETE without a name is ``deletecollection``; the legacy
  ``/api/v1/watch/...`` prefix makes any GET a ``watch``.

The parser is a plain string split, and its answers are remembered: it runs on every
request.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

_METHOD_VERBS = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}

# Path segments that name a verb rather than a resource (the deprecated watch prefix;
# "proxy" is recognised so that it is never mistaken for a resource name).
_SPECIAL_VERBS = frozenset({"watch", "proxy"})
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_VERBS_WITH_SELECTORS = frozenset({"list", "watch", "deletecollection"})


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestInfo:
    is_resource_request: bool
    path: str
    verb: str
    """Kubernetes verb for resource requests; the lower-cased HTTP method otherwise."""
    api_prefix: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    """Also set for the namespace object itself (``/api/v1/namespaces/x`` → ``x``), as in
    Kubernetes; handlers of cluster-scoped resources ignore it."""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    parts: tuple[str, ...] = ()
    """Path segments from the resource on: ``(resource, name, subresource, ...)``."""
    verb_via_path: bool = False
    """True for the legacy ``/watch/`` path prefix."""
    label_selector: str = ""
    field_selector: str = ""


# Parsed query strings: clients repeat a few (``resourceVersion=0``, a watch's
# selectors), and parse_qsl costs more than the rest of the request's parsing.
_QUERIES: dict[bytes, dict[str, str]] = {}
_QUERIES_MAX = 1024
_QUERY_KEEP = 256
"""Longer query strings are parsed every time (they are rarely repeated)."""


def parse_query(query: bytes | str) -> dict[str, str]:
    """Query parameters, first value winning as Go's ``url.Values.Get`` does. The dict
    is the caller's own."""
    if not query:
        return {}
    if isinstance(query, str):  # not kept: one key type, as bytes and str of equal text collide
        return _parse_query(query)
    found = _QUERIES.get(query)
    if found is None:
        found = _parse_query(query.decode("latin-1"))
        if len(query) > _QUERY_KEEP:
            return found
        if len(_QUERIES) >= _QUERIES_MAX:
            _QUERIES.clear()
        _QUERIES[query] = found
    return found.copy()


def _parse_query(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        out.setdefault(key, value)
    return out


def _truthy(value: str) -> bool:
    # Kubernetes' parameter codec treats anything but "false"/"0" as true for ``watch``.
    return value.lower() not in ("false", "0")


# Answers by (method, path and the query parameters that matter): clients repeat the
# same requests (every pod create POSTs to one path), and a RequestInfo is immutable.
_PARSED: dict[tuple[str, str, str | None, str | None, str | None], RequestInfo] = {}
_PARSED_MAX = 4096


def parse(*, method: str, path: str, query: dict[str, str]) -> RequestInfo:
    """The RequestInfo of one request; never raises (bad paths become non-resource or
    resource requests that the router then answers with 404)."""
    key = (method, path, query.get("watch"), query.get("labelSelector"), query.get("fieldSelector"))
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        found = _PARSED[key] = _parse(method=method, path=path, query=query)
    return found


def _parse(*, method: str, path: str, query: dict[str, str]) -> RequestInfo:
    verb = method.lower()
    parts = [p for p in path.split("/") if p]
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return RequestInfo(is_resource_request=False, path=path, verb=verb)
    prefix = parts[0]
    rest = parts[1:]
    group = ""
    if prefix == "apis":
        if len(rest) < 3:
            return RequestInfo(is_resource_request=False, path=path, verb=verb)
        group = rest[0]
        rest = rest[1:]
    version = rest[0]
    rest = rest[1:]

    via_path = False
    if rest[0] in _SPECIAL_VERBS:
        if len(rest) < 2:
            # "/api/v1/watch" alone names nothing; the router answers 404.
            return RequestInfo(
                is_resource_request=True,
                path=path,
                verb=rest[0],
                api_prefix=prefix,
                api_group=group,
                api_version=version,
            )
        verb = rest[0]
        rest = rest[1:]
        via_path = True
    else:
        verb = _METHOD_VERBS.get(method, "")

    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]

    resource = rest[0]
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 and verb != "proxy" else ""

    if not name and verb == "get":
        verb = "watch" if _truthy(query.get("watch", "false")) else "list"
    if not name and verb == "delete":
        verb = "deletecollection"

    label_selector = field_selector = ""
    if not via_path and verb in _VERBS_WITH_SELECTORS:
        label_selector = query.get("labelSelector", "")
        field_selector = query.get("fieldSelector", "")

    return RequestInfo(
        is_resource_request=True,
        path=path,
        verb=verb,
        api_prefix=prefix,
        api_group=group,
        api_version=version,
        namespace=namespace,
        resource=resource,
        subresource=subresource,
        name=name,
        parts=tuple(rest),
        verb_via_path=via_path,
        label_selector=label_selector,
        field_selector=field_selector,
    )
