"""RequestInfo parsing, table-driven against Kubernetes' own requestinfo_test.go cases."""

from __future__ import annotations

import pytest

from apiserver.requestinfo import parse, parse_query

# (method, url) → (verb, api_prefix, group, version, namespace, resource, name, subresource)
CASES = [
    ("GET", "/api/v1/namespaces", ("list", "api", "", "v1", "", "namespaces", "", "")),
    ("GET", "/api/v1/namespaces/other", ("get", "api", "", "v1", "other", "namespaces", "other", "")),
    ("GET", "/api/v1/namespaces/other/pods", ("list", "api", "", "v1", "other", "pods", "", "")),
    ("GET", "/api/v1/namespaces/other/pods/foo", ("get", "api", "", "v1", "other", "pods", "foo", "")),
    ("HEAD", "/api/v1/namespaces/other/pods/foo", ("get", "api", "", "v1", "other", "pods", "foo", "")),
    ("GET", "/api/v1/pods", ("list", "api", "", "v1", "", "pods", "", "")),
    ("GET", "/api/v1/namespaces/other/pods/foo/status", ("get", "api", "", "v1", "other", "pods", "foo", "status")),
    ("PUT", "/api/v1/namespaces/other/pods/foo/status", ("update", "api", "", "v1", "other", "pods", "foo", "status")),
    ("POST", "/api/v1/namespaces/other/pods/foo/binding", ("create", "api", "", "v1", "other", "pods", "foo", "binding")),
    ("GET", "/api/v1/watch/pods", ("watch", "api", "", "v1", "", "pods", "", "")),
    ("GET", "/api/v1/watch/namespaces/other/pods", ("watch", "api", "", "v1", "other", "pods", "", "")),
    ("GET", "/api/v1/watch/namespaces/other/pods/foo", ("watch", "api", "", "v1", "other", "pods", "foo", "")),
    ("POST", "/api/v1/namespaces/other/pods", ("create", "api", "", "v1", "other", "pods", "", "")),
    ("PUT", "/api/v1/namespaces/other/pods/foo", ("update", "api", "", "v1", "other", "pods", "foo", "")),
    ("PATCH", "/api/v1/namespaces/other/pods/foo", ("patch", "api", "", "v1", "other", "pods", "foo", "")),
    ("DELETE", "/api/v1/namespaces/other/pods/foo", ("delete", "api", "", "v1", "other", "pods", "foo", "")),
    ("DELETE", "/api/v1/namespaces/other/pods", ("deletecollection", "api", "", "v1", "other", "pods", "", "")),
    # The namespace object itself and its two subresources.
    ("PUT", "/api/v1/namespaces/other/finalize", ("update", "api", "", "v1", "other", "namespaces", "other", "finalize")),
    ("GET", "/api/v1/namespaces/other/status", ("get", "api", "", "v1", "other", "namespaces", "other", "status")),
    ("DELETE", "/api/v1/namespaces/other", ("delete", "api", "", "v1", "other", "namespaces", "other", "")),
    # Groups.
    ("GET", "/apis/apps/v1/namespaces/x/deployments/d/scale", ("get", "apis", "apps", "v1", "x", "deployments", "d", "scale")),
    ("GET", "/apis/scheduling.k8s.io/v1/priorityclasses", ("list", "apis", "scheduling.k8s.io", "v1", "", "priorityclasses", "", "")),
    ("GET", "/apis/apps/v1/watch/namespaces/x/deployments", ("watch", "apis", "apps", "v1", "x", "deployments", "", "")),
    ("OPTIONS", "/api/v1/pods", ("", "api", "", "v1", "", "pods", "", "")),
]


@pytest.mark.parametrize(("method", "path", "expected"), CASES, ids=[f"{m} {p}" for m, p, _ in CASES])
def test_resource_requests(method: str, path: str, expected: tuple[str, ...]) -> None:
    info = parse(method=method, path=path, query={})
    assert info.is_resource_request
    got = (
        info.verb,
        info.api_prefix,
        info.api_group,
        info.api_version,
        info.namespace,
        info.resource,
        info.name,
        info.subresource,
    )
    assert got == expected


@pytest.mark.parametrize("path", ["/", "/api", "/apis", "/api/v1", "/apis/apps", "/apis/apps/v1", "/healthz", "/version"])
def test_non_resource_requests(path: str) -> None:
    info = parse(method="GET", path=path, query={})
    assert not info.is_resource_request
    assert info.verb == "get"


@pytest.mark.parametrize(("watch", "verb"), [("true", "watch"), ("1", "watch"), ("false", "list"), ("0", "list")])
def test_watch_parameter_turns_list_into_watch(watch: str, verb: str) -> None:
    info = parse(method="GET", path="/api/v1/namespaces/x/pods", query={"watch": watch})
    assert info.verb == verb


def test_selectors_are_recorded_for_collection_verbs_only() -> None:
    query = {"labelSelector": "app=web", "fieldSelector": "spec.nodeName=n1"}
    listed = parse(method="GET", path="/api/v1/pods", query=query)
    assert (listed.label_selector, listed.field_selector) == ("app=web", "spec.nodeName=n1")
    got = parse(method="GET", path="/api/v1/namespaces/x/pods/p", query=query)
    assert (got.label_selector, got.field_selector) == ("", "")
    legacy = parse(method="GET", path="/api/v1/watch/pods", query=query)
    assert legacy.verb_via_path and legacy.label_selector == ""


def test_parse_query_keeps_first_value_and_blanks() -> None:
    assert parse_query(b"a=1&a=2&b=&c=x%3Dy") == {"a": "1", "b": "", "c": "x=y"}


def test_remembered_answers_follow_the_parameters_that_matter() -> None:
    """Answers are remembered per (method, path, watch, selectors): asking again gives
    the same answer, and a different parameter a different one."""
    path = "/api/v1/namespaces/other/pods"
    first = parse(method="GET", path=path, query={"labelSelector": "a=b"})
    assert parse(method="GET", path=path, query={"labelSelector": "a=b", "limit": "5"}) is first
    assert parse(method="GET", path=path, query={"labelSelector": "a=c"}).label_selector == "a=c"
    assert parse(method="GET", path=path, query={"watch": "1"}).verb == "watch"
    assert parse(method="GET", path=path, query={}).verb == "list"
    assert parse(method="POST", path=path, query={}).verb == "create"
