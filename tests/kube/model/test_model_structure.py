"""The decode step: types, unknown fields under Strict/Warn/Ignore, nulls, formats."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kube.errors import Invalid
from kube.model import FieldValidation, check_structure, node_for, prepare_create
from kube.model.structure import UnknownFieldError

Obj = dict[str, Any]
STRICT, WARN, IGNORE = FieldValidation.STRICT, FieldValidation.WARN, FieldValidation.IGNORE


def _deployment_node() -> Any:
    return node_for(group="apps", version="v1", kind="Deployment")


def messages(obj: Obj, *, mode: FieldValidation = STRICT) -> list[str]:
    with pytest.raises(Invalid) as caught:
        prepare_create(obj, mode=mode)
    return [str(e) for e in caught.value.errors]


def test_strict_reports_every_unknown_field_with_its_path(deployment: Obj) -> None:
    deployment["spec"]["foo"] = 1
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][1]["bogus"] = "x"
    deployment["metadata"]["labelz"] = {}
    with pytest.raises(Invalid) as caught:
        prepare_create(deployment, mode=STRICT)
    err = caught.value
    assert err.code == 422
    causes = [c.to_dict() for c in err.details.causes]
    # In the order the fields appear in the object.
    assert causes == [
        {
            "reason": "FieldValueNotFound",
            "message": 'unknown field "metadata.labelz"',
            "field": "metadata.labelz",
        },
        {
            "reason": "FieldValueNotFound",
            "message": 'unknown field "spec.template.spec.containers[0].ports[1].bogus"',
            "field": "spec.template.spec.containers[0].ports[1].bogus",
        },
        {"reason": "FieldValueNotFound", "message": 'unknown field "spec.foo"', "field": "spec.foo"},
    ]
    assert err.message.startswith('Deployment.apps "web" is invalid: [unknown field "metadata.labelz", ')


def test_warn_returns_kubernetes_warning_text_and_keeps_the_field(deployment: Obj) -> None:
    deployment["spec"]["foo"] = 1
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    warnings = prepare_create(deployment, mode=WARN)
    assert warnings == [
        'unknown field "spec.template.spec.containers[0].imagePullPolicyy"',
        'unknown field "spec.foo"',
    ]
    assert deployment["spec"]["foo"] == 1


def test_ignore_drops_unknown_fields(deployment: Obj) -> None:
    deployment["spec"]["foo"] = {"deep": [1, 2]}
    deployment["metadata"]["extra"] = "x"
    assert prepare_create(deployment, mode=IGNORE) == []
    assert "foo" not in deployment["spec"] and "extra" not in deployment["metadata"]


def test_unknown_fields_do_not_hide_semantic_errors(deployment: Obj) -> None:
    deployment["spec"]["foo"] = 1
    deployment["spec"]["replicas"] = -1
    assert messages(deployment) == [
        'unknown field "spec.foo"',
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ]


def test_type_errors_use_the_api_server_wording(deployment: Obj) -> None:
    deployment["spec"]["replicas"] = "three"
    deployment["spec"]["paused"] = "yes"
    deployment["spec"]["template"]["spec"]["containers"][0]["args"] = "--x"
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 80.5
    deployment["metadata"]["labels"]["app"] = 3
    assert messages(deployment) == [
        'metadata.labels[app]: Invalid value: "integer": metadata.labels[app] in body must be of type string: "integer"',
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        'spec.template.spec.containers[0].args: Invalid value: "string": '
        'spec.template.spec.containers[0].args in body must be of type array: "string"',
        'spec.template.spec.containers[0].ports[0].containerPort: Invalid value: "number": '
        'spec.template.spec.containers[0].ports[0].containerPort in body must be of type integer: "number"',
        'spec.paused: Invalid value: "string": spec.paused in body must be of type boolean: "string"',
    ]


def test_type_errors_stop_before_defaults_and_semantic_rules(pod: Obj) -> None:
    pod["spec"]["containers"][0]["name"] = 5
    pod["spec"]["restartPolicy"] = "Sometimes"  # would be an error, but only types are reported
    assert messages(pod) == [
        'spec.containers[0].name: Invalid value: "integer": spec.containers[0].name in body must be of type string: "integer"',
    ]
    assert "dnsPolicy" not in pod["spec"]


def test_object_where_a_scalar_is_expected_and_the_reverse(pod: Obj) -> None:
    pod["spec"]["nodeName"] = {"a": 1}
    pod["spec"]["securityContext"] = "restricted"
    assert messages(pod) == [
        'spec.securityContext: Invalid value: "string": spec.securityContext in body must be of type object: "string"',
        'spec.nodeName: Invalid value: "object": spec.nodeName in body must be of type string: "object"',
    ]


def test_null_means_unset_for_fields_but_not_inside_lists_and_maps(pod: Obj) -> None:
    pod["spec"]["nodeName"] = None
    pod["spec"]["dnsPolicy"] = None
    pod["metadata"]["annotations"] = None
    assert prepare_create(pod, mode=STRICT) == []
    assert pod["spec"]["nodeName"] is None  # round-trips as sent
    assert pod["spec"]["dnsPolicy"] == "ClusterFirst"  # null is unset, so it is defaulted

    bad: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "d"},
        "data": {"k": None},
        "immutable": None,
    }
    assert messages(bad) == ['data[k]: Invalid value: "null": data[k] in body must be of type string: "null"']


def test_null_for_a_required_field_is_required(pod: Obj) -> None:
    pod["spec"]["containers"][0]["name"] = None
    pod["spec"]["containers"][0]["ports"][0]["containerPort"] = None
    assert messages(pod) == [
        "spec.containers[0].name: Required value",
        "spec.containers[0].ports[0].containerPort: Required value",
    ]


def test_int_or_string_and_quantities(pod: Obj) -> None:
    container = pod["spec"]["containers"][0]
    container["livenessProbe"]["httpGet"]["port"] = True
    container["resources"]["limits"] = {"cpu": "abc", "memory": 1.5, "ephemeral-storage": False}
    assert messages(pod) == [
        'spec.containers[0].resources.limits[cpu]: Invalid value: "abc": quantities must match the regular '
        "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        'spec.containers[0].resources.limits[ephemeral-storage]: Invalid value: "boolean": '
        'spec.containers[0].resources.limits[ephemeral-storage] in body must be of type number,string: "boolean"',
        'spec.containers[0].livenessProbe.httpGet.port: Invalid value: "boolean": '
        'spec.containers[0].livenessProbe.httpGet.port in body must be of type integer,string: "boolean"',
    ]


def test_date_time_and_base64_formats(secret: Obj) -> None:
    secret["metadata"]["creationTimestamp"] = "yesterday"
    secret["data"]["password"] = "not base64!"
    assert messages(secret) == [
        'metadata.creationTimestamp: Invalid value: "yesterday": metadata.creationTimestamp in body must be of '
        'type date-time: "yesterday"',
        'data[password]: Invalid value: "not base64!": data[password] in body must be of type byte: "not base64!"',
    ]


@pytest.mark.parametrize(
    "stamp", ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123456789Z", "2024-05-01t10:00:00+05:30"]
)
def test_rfc3339_times_are_accepted(stamp: str) -> None:
    node = node_for(group="coordination.k8s.io", version="v1", kind="Lease")
    assert node is not None
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "spec": {"renewTime": stamp}}
    assert check_structure(lease, node=node, mode=STRICT).errors == []


def test_integer_formats_are_range_checked(pod: Obj) -> None:
    pod["spec"]["containers"][0]["ports"][0]["containerPort"] = 2**31
    pod["spec"]["activeDeadlineSeconds"] = 2**63
    assert messages(pod) == [
        "spec.containers[0].ports[0].containerPort: Invalid value: 2147483648: "
        'spec.containers[0].ports[0].containerPort in body must be of type int32: "2147483648"',
        "spec.activeDeadlineSeconds: Invalid value: 9223372036854775808: "
        'spec.activeDeadlineSeconds in body must be of type int64: "9223372036854775808"',
    ]


def test_free_form_fields_keep_any_content(pod: Obj) -> None:
    pod["metadata"]["managedFields"] = [
        {
            "manager": "m",
            "operation": "Update",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {"f:anything": {}}}, "x": [1, None]},
        }
    ]
    before = copy.deepcopy(pod["metadata"]["managedFields"])
    assert prepare_create(pod, mode=STRICT) == []
    assert pod["metadata"]["managedFields"] == before


def test_check_structure_alone_reports_missing_required_fields() -> None:
    node = _deployment_node()
    result = check_structure(
        {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}}, node=node, mode=STRICT
    )
    assert [str(e) for e in result.missing] == [
        "spec.selector: Required value",
        "spec.template: Required value",
    ]
    assert result.errors == [] and result.well_typed


def test_unknown_field_error_is_a_field_error() -> None:
    node = _deployment_node()
    result = check_structure({"kind": "Deployment", "x": 1}, node=node, mode=STRICT)
    [err] = result.errors
    assert isinstance(err, UnknownFieldError)
    assert err.cause().to_dict() == {
        "reason": "FieldValueNotFound",
        "message": 'unknown field "x"',
        "field": "x",
    }
    assert result.well_typed  # unknown fields do not make the known ones suspect


def test_remembered_specs_are_still_pruned_and_reported(pod: Obj) -> None:
    pod["spec"]["containers"][0]["bogus"] = 1
    for _ in range(2):
        dropped = copy.deepcopy(pod)
        prepare_create(dropped, mode=IGNORE)
        assert "bogus" not in dropped["spec"]["containers"][0]
    assert messages(copy.deepcopy(pod)) == ['unknown field "spec.containers[0].bogus"']
    assert messages(copy.deepcopy(pod)) == ['unknown field "spec.containers[0].bogus"']
