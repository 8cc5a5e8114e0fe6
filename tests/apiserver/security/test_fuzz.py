"""Hostile input against every route of a real HTTPS server, for at most ~30 seconds.

Hypothesis builds requests from the served routes (every resource's collection, object
and subresource paths, the non-resource paths), mutated paths, random query strings of
the parameters the server understands, random headers (including junk credentials)
and random bodies (JSON of any shape, YAML, protobuf-prefixed bytes, plain bytes).

For every request: no 5xx, an answer within the client's timeout (nothing hangs), and,
when the answer is an error, storage did not move — the revision a consistent LIST
reports is the same before and after, so a failed request changed no stored object.
After the run the server still serves.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import strategies as st
from hypothesis.errors import NonInteractiveExampleWarning

from kube.resources import BUILTIN

from .conftest import Cluster, start_cluster

pytestmark = pytest.mark.e2e

BUDGET_SECONDS = 25.0
CLIENT_TIMEOUT = 15.0


def _routes() -> list[str]:
    paths = ["/", "/api", "/apis", "/api/v1", "/version", "/openapi/v2", "/openapi/v3", "/healthz", "/livez",
             "/readyz", "/metrics", "/apis/apps", "/apis/apps/v1", "/api/v1/watch/pods", "/apis/nope/v1/things"]
    for info in BUILTIN:
        base = f"/apis/{info.group}/{info.version}" if info.group else f"/api/{info.version}"
        scoped = f"{base}/namespaces/fuzz/{info.resource}" if info.namespaced else f"{base}/{info.resource}"
        paths += [scoped, f"{scoped}/obj", f"{base}/{info.resource}"]
        paths += [f"{scoped}/obj/{sub}" for sub in (*info.subresources, "token", "bogus")]
    return paths


ROUTES = _routes()
PARAMS = ["watch", "labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "resourceVersionMatch",
          "timeoutSeconds", "dryRun", "fieldManager", "fieldValidation", "propagationPolicy", "gracePeriodSeconds",
          "timeout", "allowWatchBookmarks", "force", "includeObject", "follow", "container", "tailLines", "pretty"]
CONTENT_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
                 "application/merge-patch+json", "application/strategic-merge-patch+json",
                 "application/json-patch+json", "application/apply-patch+yaml", "text/plain", "",
                 "application/json; charset=utf-8", "multipart/form-data; boundary=x", "application/json;;;=="]
ACCEPTS = ["application/json", "application/json;as=Table;v=v1;g=meta.k8s.io", "application/yaml",
           "application/vnd.kubernetes.protobuf", "*/*", "text/html", "application/json;as=PartialObjectMetadataList;"
           "v=v1;g=meta.k8s.io", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", "garbage///"]
_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24)
_header_text = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
_META_KEYS = st.sampled_from(["name", "namespace", "labels", "resourceVersion", "uid", "generateName"])
_TOP_KEYS = st.sampled_from(["spec", "status", "data", "rules", "roleRef", "subjects"])
_HEADER_NAMES = st.sampled_from(["x-junk", "user-agent", "authorization", "impersonate-user", "impersonate-group",
                                 "audit-id", "expect"])
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)

_METADATA = st.dictionaries(_META_KEYS, _json, max_size=3)
_TOP = st.dictionaries(_TOP_KEYS, _json, max_size=2)
_JSON_PATCH = st.lists(st.fixed_dictionaries({
    "op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bogus"]),
    "path": st.sampled_from(["/metadata/labels/x", "/spec", "", "/", "/a~1b", "/-"]),
    "value": _json,
}), max_size=4)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["object", "json", "yaml", "protobuf", "bytes", "empty", "patch"]))
    if kind == "object":
        info = draw(st.sampled_from(BUILTIN))
        obj: dict[str, Any] = {"apiVersion": info.api_version, "kind": info.kind,
                               "metadata": draw(_METADATA)}
        obj.update(draw(_TOP))
        return json.dumps(obj).encode()
    if kind == "json":
        return json.dumps(draw(_json)).encode()
    if kind == "yaml":
        return draw(st.text(max_size=200)).encode()
    if kind == "protobuf":
        return b"k8s\x00" + draw(st.binary(max_size=200))
    if kind == "patch":
        return json.dumps(draw(_JSON_PATCH)).encode()
    if kind == "empty":
        return b""
    return draw(st.binary(max_size=300))


@st.composite
def paths(draw: st.DrawFn) -> str:
    path = draw(st.sampled_from(ROUTES))
    mutation = draw(st.sampled_from(["none", "none", "append", "encode", "dots", "double", "replace"]))
    if mutation == "append":
        path += "/" + quote(draw(_text), safe="")
    elif mutation == "encode":
        path = path.replace("obj", quote(draw(_text), safe="") or "x")
    elif mutation == "dots":
        path += "/../.."
    elif mutation == "double":
        path = path.replace("/", "//", 1)
    elif mutation == "replace":
        segments = path.split("/")
        segments[draw(st.integers(0, len(segments) - 1))] = quote(draw(_text), safe="")
        path = "/".join(segments) or "/"
    return path


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    method = draw(st.sampled_from(["GET", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]))
    query = draw(st.dictionaries(st.sampled_from(PARAMS), _text, max_size=4))
    headers = {"content-type": draw(st.sampled_from(CONTENT_TYPES)), "accept": draw(st.sampled_from(ACCEPTS))}
    headers.update(draw(st.dictionaries(_HEADER_NAMES, _header_text, max_size=3)))
    return {"method": method, "path": draw(paths()), "query": query, "headers": headers, "body": draw(bodies())}


@pytest.fixture(scope="module")
def fuzz_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = start_cluster(tmp_path_factory.mktemp("fuzz"), "--request-timeout", "5s")
    with cluster.client("admin") as admin:
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fuzz"}}
        assert admin.post("/api/v1/namespaces", json=ns).status_code == 201
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "obj"}, "data": {"k": "v"}}
        assert admin.post("/api/v1/namespaces/fuzz/configmaps", json=cm).status_code == 201
    time.sleep(0.5)  # the default ServiceAccount of "fuzz" is written in the background
    try:
        yield cluster
    finally:
        cluster.server.stop()


def _revision(client: httpx.Client) -> str:
    return str(client.get("/api/v1/namespaces?limit=1").json()["metadata"]["resourceVersion"])


def _send(client: httpx.Client, request: dict[str, Any]) -> tuple[int, str]:
    """Status and body; a successful stream (a watch, also via ``/watch/`` paths) is an
    answer once its headers arrive: it is closed rather than read to its end."""
    with client.stream(request["method"], request["path"], params=request["query"], headers=request["headers"],
                       content=request["body"]) as response:
        if response.status_code < 400 and "content-length" not in response.headers:
            return response.status_code, ""
        return response.status_code, response.read().decode("utf-8", "replace")


def test_hostile_requests(fuzz_cluster: Cluster) -> None:
    """Examples are drawn from the strategies in a loop bounded by time, not by
    ``@given``: a time-boxed run cannot be replayed, so Hypothesis could neither shrink
    nor stop it. The first failure is reported as it was sent."""
    deadline = time.monotonic() + BUDGET_SECONDS
    sent = 0
    failures: list[str] = []
    strategy = st.tuples(requests(), st.booleans())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        with fuzz_cluster.client("admin", timeout=CLIENT_TIMEOUT) as admin, \
                fuzz_cluster.client(None, timeout=CLIENT_TIMEOUT) as anonymous:
            while time.monotonic() < deadline and not failures:
                request, as_admin = strategy.example()
                client = admin if as_admin else anonymous
                before = _revision(admin)
                try:
                    status, text = _send(client, request)
                except httpx.TimeoutException:
                    failures.append(f"no answer within {CLIENT_TIMEOUT}s: {request!r}")
                    break
                sent += 1
                if status >= 500:
                    failures.append(f"{status} for {request!r}: {text[:500]}")
                elif status >= 400 and _revision(admin) != before:
                    failures.append(f"a failed request ({status}) changed storage: {request!r}")
                elif status < 400 and request["method"] not in ("GET", "HEAD", "OPTIONS"):
                    time.sleep(0.2)  # let any background follow-up of a successful write land first
            assert not failures, failures[0]
            assert sent > 50, sent
            print(f"fuzz: {sent} requests")
            assert admin.get("/healthz").status_code == 200
            assert admin.get("/api/v1/namespaces").status_code == 200
    log = fuzz_cluster.server.log()
    assert "Traceback" not in log, log[-3000:]
