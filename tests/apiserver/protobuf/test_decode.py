"""What each field becomes in JSON: names, omitempty, pointers, maps, lists, inline
structs and the scalar-like messages (Time, IntOrString, Quantity, FieldsV1)."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.protobuf import PROTOBUF, decode
from tests.apiserver.protobuf.wirebuild import body, data, empty_meta, entry, msg, num, packed, text


def _configmap(*meta: bytes, extra: bytes = b"") -> dict[str, Any]:
    return decode(body("v1", "ConfigMap", msg(1, *meta), extra))


def test_object_meta_carries_every_field_kubectl_can_set() -> None:
    owner = msg(
        13, text(1, "ReplicaSet"), text(3, "rs"), text(4, "u-1"), text(5, "apps/v1"), num(6, True), num(7, False),
    )
    managed = msg(
        17, text(1, "kubectl"), text(2, "Update"), text(3, "v1"), msg(4, num(1, 1700000000)),
        text(6, "FieldsV1"), msg(7, data(1, b'{"f:data":{".":{}}}')), text(8, ""),
    )
    obj = _configmap(
        text(1, "c"), text(2, "c-"), text(3, "ns"), text(4, ""), text(5, "uid-1"), text(6, "42"), num(7, 3),
        msg(8, num(1, 1700000000)), msg(9, num(1, 1700000060), num(2, 5)), num(10, 0),
        entry(11, "app", "web"), entry(11, "tier", ""), entry(12, "note", "a b"), owner,
        text(14, "example.com/x"), text(14, "example.com/y"), managed,
    )
    assert obj == {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {
            "name": "c", "generateName": "c-", "namespace": "ns", "uid": "uid-1", "resourceVersion": "42",
            "generation": 3, "creationTimestamp": "2023-11-14T22:13:20Z",
            "deletionTimestamp": "2023-11-14T22:14:20Z", "deletionGracePeriodSeconds": 0,
            "labels": {"app": "web", "tier": ""}, "annotations": {"note": "a b"},
            "ownerReferences": [{
                "kind": "ReplicaSet", "name": "rs", "uid": "u-1", "apiVersion": "apps/v1",
                "controller": True, "blockOwnerDeletion": False,
            }],
            "finalizers": ["example.com/x", "example.com/y"],
            "managedFields": [{
                "manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                "time": "2023-11-14T22:13:20Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {".": {}}},
            }],
        },
    }


def test_kind_and_api_version_come_first_as_in_kubectls_json() -> None:
    assert list(decode(body("v1", "Namespace", empty_meta())))[:2] == ["kind", "apiVersion"]


def test_configmap_binary_data_is_base64_and_immutable_false_is_kept() -> None:
    obj = _configmap(
        text(1, "c"), extra=entry(2, "k", "v") + entry(3, "bin", b"\xff\x00") + entry(3, "none", b"") + num(4, False),
    )
    assert obj["data"] == {"k": "v"}
    assert obj["binaryData"] == {"bin": "/wA=", "none": ""}
    assert obj["immutable"] is False  # a *bool: false was chosen, so JSON shows it


def test_a_map_entry_without_value_is_the_empty_value_and_the_last_entry_wins() -> None:
    obj = _configmap(text(1, "c"), extra=msg(2, text(1, "k")) + entry(2, "d", "1") + entry(2, "d", "2"))
    assert obj["data"] == {"k": "", "d": "2"}


def test_omitempty_zeros_vanish_pointers_stay_and_plain_fields_always_show() -> None:
    spec = msg(
        2,
        num(1, 0),  # replicas *int32 = 0: kept
        num(5, 0),  # minReadySeconds int32 omitempty = 0: dropped
        num(7, False),  # paused bool omitempty: dropped
        msg(3, empty_meta(1), msg(2, msg(2, text(1, "c"), text(2, "nginx"), msg(6, num(3, 0))))),
    )
    obj = decode(body("apps/v1", "Deployment", empty_meta(), spec, msg(3)))
    assert obj["spec"] == {
        "replicas": 0,
        "selector": None,  # *LabelSelector without omitempty: null when absent
        "template": {
            "metadata": {"creationTimestamp": None},
            "spec": {"containers": [{
                "name": "c", "image": "nginx", "ports": [{"containerPort": 0}], "resources": {},
            }]},
        },
        "strategy": {},  # a struct: Go always writes it
    }
    assert obj["status"] == {}


def test_a_list_without_omitempty_is_null_when_absent() -> None:
    obj = decode(body("authorization.k8s.io/v1", "SelfSubjectRulesReview", empty_meta(), msg(2, text(1, "ns"))))
    assert obj["status"] == {"resourceRules": None, "nonResourceRules": None, "incomplete": False}


def test_rolling_update_holds_int_or_string_values() -> None:
    strategy = msg(4, text(1, "RollingUpdate"), msg(2, msg(1, num(1, 0), num(2, 0)), msg(2, num(1, 1), text(3, "25%"))))
    obj = decode(body("apps/v1", "Deployment", empty_meta(), msg(2, strategy)))
    assert obj["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}


def test_label_selector_expressions() -> None:
    selector = msg(2, entry(1, "app", "d"), msg(2, text(1, "tier"), text(2, "In"), text(3, "a"), text(3, "b")))
    obj = decode(body("apps/v1", "Deployment", empty_meta(), msg(2, selector)))
    assert obj["spec"]["selector"] == {
        "matchLabels": {"app": "d"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}],
    }


def _container(*fields: bytes) -> dict[str, Any]:
    pod_spec = msg(2, msg(2, text(1, "c"), *fields))
    obj = decode(body("apps/v1", "Deployment", empty_meta(), msg(2, msg(3, pod_spec))))
    container: dict[str, Any] = obj["spec"]["template"]["spec"]["containers"][0]
    return container


def test_probe_handlers_are_flattened_into_the_probe_as_json_inlines_them() -> None:
    liveness = msg(10, msg(1, msg(1, text(1, "cat"), text(1, "/ok"))), num(2, 5))
    readiness = msg(11, msg(1, msg(2, text(1, "/healthz"), msg(2, num(1, 1), text(3, "http")))))
    container = _container(liveness, readiness)
    assert container["livenessProbe"] == {"exec": {"command": ["cat", "/ok"]}, "initialDelaySeconds": 5}
    assert container["readinessProbe"] == {"httpGet": {"path": "/healthz", "port": "http"}}


def test_resources_hold_quantities_and_env_refers_to_fields() -> None:
    resources = msg(8, entry(1, "cpu", text(1, "500m")), entry(2, "memory", text(1, "64Mi")))
    env = msg(7, text(1, "NODE"), msg(3, msg(1, text(1, "v1"), text(2, "spec.nodeName"))))
    container = _container(resources, env, text(3, "sh"), text(4, "-c"), text(4, "true"))
    assert container["resources"] == {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}}
    assert container["env"] == [{"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}]
    assert (container["command"], container["args"]) == (["sh"], ["-c", "true"])


def test_negative_numbers_use_twos_complement_as_go_writes_them() -> None:
    container = _container(msg(10, num(2, -1), num(7, -5)))
    assert container["livenessProbe"] == {"initialDelaySeconds": -1, "terminationGracePeriodSeconds": -5}


def test_int32_keeps_only_its_low_32_bits_as_go_does() -> None:
    container = _container(msg(10, num(2, (1 << 32) + 7)))
    assert container["livenessProbe"] == {"initialDelaySeconds": 7}


def test_repeated_numbers_may_be_packed_or_not() -> None:
    pod_spec = msg(2, msg(14, packed(4, [1, 2]), num(4, 3)))
    obj = decode(body("apps/v1", "Deployment", empty_meta(), msg(2, msg(3, pod_spec))))
    assert obj["spec"]["template"]["spec"]["securityContext"] == {"supplementalGroups": [1, 2, 3]}


def test_a_message_sent_twice_merges_and_scalars_keep_the_last_value() -> None:
    obj = decode(body("v1", "Namespace", msg(1, text(1, "a"), text(3, "ns")), msg(1, text(1, "b"), entry(11, "k", "v"))))
    assert obj["metadata"] == {"name": "b", "namespace": "ns", "labels": {"k": "v"}, "creationTimestamp": None}


@pytest.mark.parametrize(
    ("time_fields", "expected"),
    [
        ((), None),  # an empty message is Go's zero time: null
        ((num(1, 0),), "1970-01-01T00:00:00Z"),  # an explicit 0 is the epoch, not zero
        ((num(1, 10), num(2, 1_500_000_000)), "1970-01-01T00:00:11Z"),  # nanos carry into seconds
        ((num(1, 10), num(2, -1)), "1970-01-01T00:00:09Z"),  # and borrow from them
        ((num(1, -62135596800),), None),  # 0001-01-01T00:00:00Z is Go's zero time too
        ((num(1, -62135596799),), "0001-01-01T00:00:01Z"),
        ((num(1, 253402300799),), "9999-12-31T23:59:59Z"),
    ],
)
def test_times_read_as_rfc3339_at_whole_seconds(time_fields: tuple[bytes, ...], expected: str | None) -> None:
    obj = decode(body("v1", "Namespace", msg(1, text(1, "x"), msg(8, *time_fields))))
    assert obj["metadata"]["creationTimestamp"] == expected


def test_delete_options_keep_every_pointer_they_carry() -> None:
    raw = [num(1, 0), msg(2, text(1, "uid-1"), text(2, "")), num(3, False), text(4, "Foreground"), text(5, "All")]
    assert decode(body("v1", "DeleteOptions", *raw)) == {
        "kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
        "preconditions": {"uid": "uid-1", "resourceVersion": ""}, "orphanDependents": False,
        "propagationPolicy": "Foreground", "dryRun": ["All"],
    }


@pytest.mark.parametrize("api_version", ["v1", "meta.k8s.io/v1", "apps/v1", "batch/v1"])
def test_delete_options_are_accepted_under_any_group_version(api_version: str) -> None:
    assert decode(body(api_version, "DeleteOptions", num(1, 30))) == {
        "kind": "DeleteOptions", "apiVersion": api_version, "gracePeriodSeconds": 30,
    }


def test_self_subject_access_review_with_selectors() -> None:
    attributes = msg(
        1, text(1, "default"), text(2, "list"), text(3, ""), text(4, ""), text(5, "pods"), text(6, ""), text(7, ""),
        msg(8, text(1, "spec.nodeName=n1")),
        msg(9, msg(2, text(1, "app"), text(2, "Exists"))),
    )
    obj = decode(body("authorization.k8s.io/v1", "SelfSubjectAccessReview", empty_meta(), msg(2, attributes)))
    assert obj["spec"] == {"resourceAttributes": {
        "namespace": "default", "verb": "list", "resource": "pods",
        "fieldSelector": {"rawSelector": "spec.nodeName=n1"},
        "labelSelector": {"requirements": [{"key": "app", "operator": "Exists"}]},
    }}
    assert obj["status"] == {"allowed": False}


def test_non_resource_access_review() -> None:
    obj = decode(body("authorization.k8s.io/v1", "SelfSubjectAccessReview", msg(2, msg(2, text(1, "/logs"), text(2, "get")))))
    assert obj["spec"] == {"nonResourceAttributes": {"path": "/logs", "verb": "get"}}


def test_extra_values_are_bare_lists() -> None:
    spec = msg(2, data(1, b"csr"), text(7, "kubernetes.io/kube-apiserver-client"), entry(6, "scopes", text(1, "a") + text(1, "b")),
               entry(6, "none", b""))
    obj = decode(body("certificates.k8s.io/v1", "CertificateSigningRequest", empty_meta(), spec))
    assert obj["spec"]["request"] == "Y3Ny"
    assert obj["spec"]["extra"] == {"scopes": ["a", "b"], "none": []}


def test_the_envelope_may_name_protobuf_as_its_content_type() -> None:
    from tests.apiserver.protobuf.wirebuild import envelope

    obj = decode(envelope("v1", "Namespace", msg(1, text(1, "x")), content_type=PROTOBUF))
    assert obj["metadata"]["name"] == "x"


def test_autoscaling_v1_and_v2_are_different_messages() -> None:
    v1 = decode(body("autoscaling/v1", "HorizontalPodAutoscaler", msg(2, num(3, 5), num(4, 80))))
    v2 = decode(body("autoscaling/v2", "HorizontalPodAutoscaler", msg(2, num(3, 5))))
    assert v1["spec"] == {"scaleTargetRef": {"kind": "", "name": ""}, "maxReplicas": 5, "targetCPUUtilizationPercentage": 80}
    assert v2["spec"] == {"scaleTargetRef": {"kind": "", "name": ""}, "maxReplicas": 5}
