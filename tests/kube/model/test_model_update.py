"""Update rules: what may not change once an object exists."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kube.errors import Invalid
from kube.model import FieldValidation, prepare_create, prepare_update
from kube.model.validate_pod_update import UPDATABLE_FIELDS

Obj = dict[str, Any]


def stored(obj: Obj) -> Obj:
    """``obj`` as the server would have stored it: defaulted, with server metadata."""
    obj["metadata"].setdefault("uid", "u-1")
    prepare_create(obj, mode=FieldValidation.STRICT)
    obj["metadata"].update(resourceVersion="5", creationTimestamp="2024-05-01T10:00:00Z")
    return obj


def update_problems(new: Obj, old: Obj) -> list[str]:
    with pytest.raises(Invalid) as caught:
        prepare_update(new, old=old, mode=FieldValidation.STRICT)
    return [str(e) for e in caught.value.errors]


def test_pod_allows_image_deadline_and_toleration_changes(pod: Obj) -> None:
    old = stored(pod)
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "registry.example.com/shop/web:2.5.0"
    new["spec"]["initContainers"][0]["image"] = "registry.example.com/shop/migrate:2.5.0"
    new["spec"]["activeDeadlineSeconds"] = 300
    new["spec"]["tolerations"].append({"key": "extra", "operator": "Exists"})
    new["spec"]["tolerations"][1]["tolerationSeconds"] = 30
    new["metadata"]["labels"]["release"] = "2.5.0"
    assert prepare_update(new, old=old, mode=FieldValidation.STRICT) == []


def test_pod_spec_changes_are_forbidden_with_kubernetes_message(pod: Obj) -> None:
    old = stored(pod)
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["ports"][0]["containerPort"] = 8081
    new["spec"]["nodeName"] = "n2"
    [problem] = update_problems(new, old)
    head, _, diff = problem.partition("\n")
    assert head == (
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
    )
    assert UPDATABLE_FIELDS in head
    assert diff.splitlines() == [
        "- \tspec.containers[0].ports[0].containerPort: 8080",
        "+ \tspec.containers[0].ports[0].containerPort: 8081",
        '+ \tspec.nodeName: "n2"',
    ]


def test_pod_zero_values_equal_absent_fields(pod: Obj) -> None:
    old = stored(pod)
    new = copy.deepcopy(old)
    new["spec"]["hostNetwork"] = False
    new["spec"]["containers"][0]["stdin"] = False
    new["spec"]["nodeSelector"]["kubernetes.io/os"] = "linux"
    assert prepare_update(new, old=old, mode=FieldValidation.STRICT) == []


def test_pod_container_count_deadline_and_toleration_rules(pod: Obj) -> None:
    old = stored(pod)
    removed = copy.deepcopy(old)
    removed["spec"]["initContainers"] = []
    assert update_problems(removed, old) == [
        "spec.initContainers: Forbidden: pod updates may not add or remove containers"
    ]

    old["spec"]["activeDeadlineSeconds"] = 100
    longer = copy.deepcopy(old)
    longer["spec"]["activeDeadlineSeconds"] = 200
    assert update_problems(longer, old) == [
        "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"
    ]
    dropped = copy.deepcopy(old)
    del dropped["spec"]["activeDeadlineSeconds"]
    assert update_problems(dropped, old) == [
        "spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"
    ]

    changed = copy.deepcopy(old)
    changed["spec"]["tolerations"][0]["value"] = "other"
    assert update_problems(changed, old)[0] == (
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"
    )


def test_pod_scheduling_gates_may_only_be_removed(pod: Obj) -> None:
    pod["spec"]["schedulingGates"] = [{"name": "a"}, {"name": "b"}]
    old = stored(pod)
    fewer = copy.deepcopy(old)
    fewer["spec"]["schedulingGates"] = [{"name": "b"}]
    assert prepare_update(fewer, old=old, mode=FieldValidation.STRICT) == []
    more = copy.deepcopy(old)
    more["spec"]["schedulingGates"].append({"name": "c"})
    assert update_problems(more, old) == [
        "spec.schedulingGates[2].name: Forbidden: only deletion is allowed, but found new scheduling gate 'c'"
    ]


def test_metadata_rules_apply_on_update(pod: Obj) -> None:
    old = stored(pod)
    renamed = copy.deepcopy(old)
    renamed["metadata"]["name"] = "other"
    assert update_problems(renamed, old) == ['metadata.name: Invalid value: "other": field is immutable']


def test_workload_selectors_are_immutable(deployment: Obj) -> None:
    old = stored(deployment)
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app.kubernetes.io/name": "web2"}}
    new["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = "web2"
    assert update_problems(new, old) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app.kubernetes.io/name":'
        '"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'
    ]
    for kind in ("ReplicaSet", "DaemonSet"):
        old_workload = copy.deepcopy(old) | {"kind": kind}
        new_workload = copy.deepcopy(new) | {"kind": kind}
        for obj in (old_workload, new_workload):
            obj["spec"] = {k: v for k, v in obj["spec"].items() if k in ("selector", "template", "replicas")}
            if kind == "DaemonSet":
                obj["spec"].pop("replicas")
                obj["spec"]["updateStrategy"] = {"type": "OnDelete"}
        assert update_problems(new_workload, old_workload)[0].endswith(": field is immutable")


def test_stateful_set_spec_is_mostly_immutable() -> None:
    old = stored(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "s", "namespace": "n"},
            "spec": {
                "serviceName": "a",
                "selector": {"matchLabels": {"app": "s"}},
                "template": {
                    "metadata": {"labels": {"app": "s"}},
                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                },
            },
        }
    )
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 4
    assert prepare_update(copy.deepcopy(new), old=old, mode=FieldValidation.STRICT) == []
    new["spec"]["serviceName"] = "b"
    assert update_problems(new, old) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    ]


def _job() -> Obj:
    return stored(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "j", "namespace": "n", "uid": "u-9"},
            "spec": {
                "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}
            },
        }
    )


def test_job_template_selector_and_completions_are_immutable() -> None:
    old = _job()
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "y"
    new["spec"]["completions"] = 3
    new["spec"]["selector"]["matchLabels"]["extra"] = "x"
    assert update_problems(new, old) == [
        # The changed selector also no longer selects the template's pods (a create rule, checked first).
        'spec.template.metadata.labels: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"u-9", '
        '"batch.kubernetes.io/job-name":"j", "controller-uid":"u-9", "job-name":"j"}: `selector` does not match '
        "template `labels`",
        "spec.completions: Invalid value: 3: field is immutable",
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"batch.kubernetes.io/'
        'controller-uid":"u-9", "extra":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
        "spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable",
    ]


def test_job_parallelism_and_suspend_may_change() -> None:
    old = _job()
    new = copy.deepcopy(old)
    new["spec"]["parallelism"] = 4
    new["spec"]["suspend"] = True
    assert prepare_update(new, old=old, mode=FieldValidation.STRICT) == []


def test_suspended_job_that_never_started_may_move_its_pods() -> None:
    job = _job()
    job["spec"]["suspend"] = True
    new = copy.deepcopy(job)
    new["spec"]["template"]["spec"]["nodeSelector"] = {"zone": "b"}
    assert prepare_update(new, old=job, mode=FieldValidation.STRICT) == []


def test_service_cluster_ip_is_immutable_once_set(service: Obj) -> None:
    service["spec"]["clusterIP"] = "10.96.0.10"
    old = stored(service)
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"] = "10.96.0.11"
    new["spec"]["clusterIPs"] = ["10.96.0.11"]
    assert update_problems(new, old) == [
        'spec.clusterIP: Invalid value: "10.96.0.11": field is immutable',
        'spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set',
    ]
    omitted = copy.deepcopy(old)
    del omitted["spec"]["clusterIP"], omitted["spec"]["clusterIPs"]
    assert prepare_update(omitted, old=old, mode=FieldValidation.STRICT) == []
    assert omitted["spec"]["clusterIP"] == "10.96.0.10"


def test_immutable_config_maps_and_secrets(config_map: Obj, secret: Obj) -> None:
    config_map["immutable"] = True
    old = stored(config_map)
    new = copy.deepcopy(old)
    new["data"]["FEATURE_X"] = "off"
    new["immutable"] = False
    assert update_problems(new, old) == [
        "immutable: Forbidden: field is immutable when `immutable` is set",
        "data: Forbidden: field is immutable when `immutable` is set",
    ]
    old_secret = stored(secret)
    retyped = copy.deepcopy(old_secret)
    retyped["type"] = "kubernetes.io/basic-auth"
    assert update_problems(retyped, old_secret) == [
        'type: Invalid value: "kubernetes.io/basic-auth": field is immutable'
    ]


def test_priority_class_value_and_role_binding_ref_are_immutable() -> None:
    old = stored(
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "p"}, "value": 5}
    )
    new = copy.deepcopy(old)
    new["value"] = 6
    assert update_problems(new, old) == ["value: Forbidden: may not be changed in an update."]

    old = stored(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "b", "namespace": "n"},
            "roleRef": {"kind": "Role", "name": "a"},
        }
    )
    new = copy.deepcopy(old)
    new["roleRef"]["name"] = "b"
    assert update_problems(new, old) == [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"b"}: '
        "cannot change roleRef"
    ]


def test_node_pod_cidr_may_only_be_set_once() -> None:
    old = stored(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "n1"},
            "spec": {"podCIDRs": ["10.244.1.0/24"], "providerID": "kind://n1"},
        }
    )
    new = copy.deepcopy(old)
    new["spec"]["podCIDRs"] = ["10.244.2.0/24"]
    assert update_problems(new, old) == [
        'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid'
    ]
