"""kube.fields against apimachinery's fields.ParseSelector and the API server's field tables."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube.errors import BadRequest
from kube.fields import (
    FieldRequirement,
    FieldSelector,
    check_supported,
    convert,
    escape_value,
    object_fields,
    parse,
    unescape_value,
)
from kube.labels import Operator


@pytest.mark.parametrize(
    ("text", "canonical", "requirements"),
    [
        ("", "", ()),
        (",", "", ()),
        ("a=b", "a=b", (("a", Operator.EQUALS, "b"),)),
        ("a==b", "a=b", (("a", Operator.EQUALS, "b"),)),
        ("a!=b", "a!=b", (("a", Operator.NOT_EQUALS, "b"),)),
        ("a=", "a=", (("a", Operator.EQUALS, ""),)),
        ("b=1,a=2", "a=2,b=1", (("a", Operator.EQUALS, "2"), ("b", Operator.EQUALS, "1"))),
        (
            "spec.nodeName=n1,,status.phase!=Running",
            "spec.nodeName=n1,status.phase!=Running",
            (("spec.nodeName", Operator.EQUALS, "n1"), ("status.phase", Operator.NOT_EQUALS, "Running")),
        ),
        (r"a=b\,c", r"a=b\,c", (("a", Operator.EQUALS, "b,c"),)),
        (r"a=b\=c", r"a=b\=c", (("a", Operator.EQUALS, "b=c"),)),
        (r"a=b\\c", r"a=b\\c", (("a", Operator.EQUALS, "b\\c"),)),
        (r"a=\\", r"a=\\", (("a", Operator.EQUALS, "\\"),)),
        # whitespace is data in field selectors
        ("a = b", "a = b", (("a ", Operator.EQUALS, " b"),)),
    ],
)
def test_parse(text: str, canonical: str, requirements: tuple[tuple[str, Operator, str], ...]) -> None:
    selector = parse(text)
    assert str(selector) == canonical
    assert selector.requirements == tuple(FieldRequirement(*r) for r in requirements)
    assert parse(str(selector)) == selector


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo", "invalid selector: 'foo'; can't understand 'foo'"),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        # the first operator splits the term, leaving a bare "=" in the value
        ("a!==b", "invalid field selector: unescaped character in value: 61"),
        (r"a=b\c", "invalid field selector: invalid escape sequence: \\c"),
        ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_parse_errors_use_kubernetes_wording(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse(text)
    assert caught.value.message == message
    assert caught.value.code == 400


def test_escaping() -> None:
    assert escape_value("a,b=c\\d") == "a\\,b\\=c\\\\d"
    assert unescape_value("a\\,b\\=c\\\\d") == "a,b=c\\d"
    assert unescape_value("plain") == "plain"


def test_matching_treats_missing_fields_as_empty() -> None:
    selector = parse("spec.nodeName=n1,status.phase!=Succeeded")
    assert selector.matches({"spec.nodeName": "n1", "status.phase": "Running"})
    assert selector.matches({"spec.nodeName": "n1"})
    assert not selector.matches({"spec.nodeName": "n2"})
    assert not selector.matches({"spec.nodeName": "n1", "status.phase": "Succeeded"})
    assert parse("spec.nodeName=").matches({})
    assert not parse("spec.nodeName!=").matches({})
    assert parse("").matches({}) and parse("").empty and FieldSelector.everything().empty
    assert not parse("a=b").empty


def test_exact() -> None:
    selector = parse("spec.nodeName=n1,status.phase!=Running")
    assert selector.exact("spec.nodeName") == "n1"
    assert selector.exact("status.phase") is None
    assert selector.exact("metadata.name") is None
    assert parse("spec.nodeName==").exact("spec.nodeName") == ""


def test_from_set() -> None:
    selector = FieldSelector.from_set({"metadata.name": "x", "metadata.namespace": "d"})
    assert str(selector) == "metadata.name=x,metadata.namespace=d"
    assert selector.matches({"metadata.name": "x", "metadata.namespace": "d"})


def _pod(**status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "prod"},
        "spec": {
            "nodeName": "node-1",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "serviceAccountName": "default",
            "hostNetwork": True,
        },
        "status": {"phase": "Running", "nominatedNodeName": "node-2", **status},
    }


def test_pod_fields() -> None:
    assert object_fields("pods", _pod(podIP="10.0.0.9", podIPs=[{"ip": "10.0.0.1"}, {"ip": "fd00::1"}])) == {
        "metadata.name": "web-1",
        "metadata.namespace": "prod",
        "spec.nodeName": "node-1",
        "spec.restartPolicy": "Always",
        "spec.schedulerName": "default-scheduler",
        "spec.serviceAccountName": "default",
        "spec.hostNetwork": "true",
        "status.phase": "Running",
        "status.podIP": "10.0.0.1",  # the first of podIPs, as Kubernetes reads it
        "status.nominatedNodeName": "node-2",
    }
    assert object_fields("pods", _pod(podIP="10.0.0.9"))["status.podIP"] == "10.0.0.9"
    bare = object_fields("pods", {"metadata": {"name": "p", "namespace": "d"}})
    assert bare["spec.hostNetwork"] == "false"
    assert bare["spec.nodeName"] == bare["status.phase"] == bare["status.podIP"] == ""


def test_event_fields() -> None:
    event = {
        "metadata": {"name": "web-1.17", "namespace": "prod"},
        "involvedObject": {
            "kind": "Pod",
            "namespace": "prod",
            "name": "web-1",
            "uid": "u-1",
            "apiVersion": "v1",
            "resourceVersion": "42",
            "fieldPath": "spec.containers{web}",
        },
        "reason": "Scheduled",
        "reportingComponent": "default-scheduler",
        "type": "Normal",
    }
    assert object_fields("events", event) == {
        "metadata.name": "web-1.17",
        "metadata.namespace": "prod",
        "involvedObject.kind": "Pod",
        "involvedObject.namespace": "prod",
        "involvedObject.name": "web-1",
        "involvedObject.uid": "u-1",
        "involvedObject.apiVersion": "v1",
        "involvedObject.resourceVersion": "42",
        "involvedObject.fieldPath": "spec.containers{web}",
        "reason": "Scheduled",
        "reportingComponent": "default-scheduler",
        "source": "default-scheduler",  # falls back to reportingComponent
        "type": "Normal",
    }
    event["source"] = {"component": "kubelet"}
    assert object_fields("events", event)["source"] == "kubelet"


@pytest.mark.parametrize(
    ("resource", "obj", "expected"),
    [
        (
            "nodes",
            {"metadata": {"name": "n1"}, "spec": {"unschedulable": True}},
            {"metadata.name": "n1", "spec.unschedulable": "true"},
        ),
        ("nodes", {"metadata": {"name": "n1"}}, {"metadata.name": "n1", "spec.unschedulable": "false"}),
        (
            "secrets",
            {"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque"},
            {"metadata.name": "s", "metadata.namespace": "d", "type": "Opaque"},
        ),
        (
            "namespaces",
            {"metadata": {"name": "d"}, "status": {"phase": "Active"}},
            {"metadata.name": "d", "status.phase": "Active"},
        ),
        (
            "services",
            {
                "metadata": {"name": "s", "namespace": "d"},
                "spec": {"clusterIP": "10.96.0.1", "type": "ClusterIP"},
            },
            {
                "metadata.name": "s",
                "metadata.namespace": "d",
                "spec.clusterIP": "10.96.0.1",
                "spec.type": "ClusterIP",
            },
        ),
        (
            "replicasets",
            {"metadata": {"name": "r", "namespace": "d"}, "status": {"replicas": 3}},
            {"metadata.name": "r", "metadata.namespace": "d", "status.replicas": "3"},
        ),
        (
            "replicasets",
            {"metadata": {"name": "r", "namespace": "d"}},
            {"metadata.name": "r", "metadata.namespace": "d", "status.replicas": "0"},
        ),
        (
            "jobs",
            {"metadata": {"name": "j", "namespace": "d"}, "status": {"succeeded": 2}},
            {"metadata.name": "j", "metadata.namespace": "d", "status.successful": "2"},
        ),
        (
            "configmaps",
            {"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "b"}},
            {"metadata.name": "c", "metadata.namespace": "d"},
        ),
        ("priorityclasses", {"metadata": {"name": "high"}, "value": 1000}, {"metadata.name": "high"}),
    ],
)
def test_object_fields_per_resource(resource: str, obj: dict[str, Any], expected: dict[str, str]) -> None:
    assert object_fields(resource, obj) == expected


@pytest.mark.parametrize(
    ("resource", "text", "message"),
    [
        ("pods", "foo=1", "field label not supported: foo"),
        ("pods", "spec.containers=x", "field label not supported: spec.containers"),
        ("nodes", "metadata.namespace=x", "field label not supported: metadata.namespace"),
        ("namespaces", "metadata.namespace=x", "field label not supported: metadata.namespace"),
        ("secrets", "data=x", "field label not supported: data"),
        ("events", "message=x", "field label not supported: message"),
        ("jobs", "status.active=1", 'field label "status.active" not supported for Job'),
        (
            "configmaps",
            "data=x",
            '"data" is not a known field selector: only "metadata.name", "metadata.namespace"',
        ),
        # apps/v1 registers no conversion, so even the offered status.replicas is refused
        (
            "replicasets",
            "status.replicas=1",
            '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
        ),
        (
            "deployments",
            "spec.replicas=1",
            '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
        ),
    ],
)
def test_unsupported_fields_are_refused_with_kubernetes_wording(
    resource: str, text: str, message: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        check_supported(resource, parse(text))
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("resource", "text"),
    [
        ("pods", "spec.nodeName=n,status.phase!=Failed,spec.hostNetwork=true,metadata.namespace=d"),
        ("pods", "spec.restartPolicy=Always,spec.schedulerName=s,spec.serviceAccountName=sa"),
        ("pods", "status.podIP=1.2.3.4,status.podIPs=1.2.3.4,status.nominatedNodeName=n"),
        ("events", "involvedObject.kind=Pod,involvedObject.name=x,reason=r,source=s,type=Normal"),
        ("events", "involvedObject.uid=u,involvedObject.apiVersion=v1,involvedObject.resourceVersion=1"),
        ("events", "involvedObject.namespace=d,involvedObject.fieldPath=f,reportingComponent=c"),
        ("nodes", "metadata.name=n,spec.unschedulable=false"),
        ("namespaces", "metadata.name=d,status.phase=Active"),
        ("secrets", "type=Opaque,metadata.name=s"),
        ("services", "spec.clusterIP=None,spec.type=ClusterIP"),
        ("jobs", "status.successful=1,metadata.namespace=d"),
        ("replicasets", "metadata.name=r,metadata.namespace=d"),
        ("leases", "metadata.name=l,metadata.namespace=kube-node-lease"),
        ("priorityclasses", "metadata.namespace="),
    ],
)
def test_supported_fields_pass(resource: str, text: str) -> None:
    check_supported(resource, parse(text))


def test_convert_rewrites_the_legacy_pod_host_field() -> None:
    converted = convert("pods", parse("spec.host=node-1,status.phase=Running"))
    assert str(converted) == "spec.nodeName=node-1,status.phase=Running"
    assert converted.exact("spec.nodeName") == "node-1"


def test_kubelet_style_selection_end_to_end() -> None:
    selector = convert("pods", parse("spec.nodeName=node-1"))
    pods = [_pod(), {**_pod(), "spec": {"nodeName": "node-2"}}]
    assert [selector.matches(object_fields("pods", p)) for p in pods] == [True, False]


_TEXT = st.text(alphabet=st.sampled_from(list("ab,=\\!. ")), max_size=8)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b.c", "d"]), st.sampled_from(["=", "!="]), _TEXT), max_size=3)
)
def test_escaped_values_round_trip(terms: list[tuple[str, str, str]]) -> None:
    text = ",".join(f"{f}{op}{escape_value(v)}" for f, op, v in terms)
    selector = parse(text)
    assert sorted((r.field, r.value) for r in selector.requirements) == sorted((f, v) for f, _, v in terms)
    assert parse(str(selector)) == selector
