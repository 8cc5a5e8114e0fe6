"""Server-side apply: create, re-apply, ownership, pruning, conflicts and force."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from kube.errors import BadRequest, Conflict
from kube.patch import apply_patch, update_managed_fields

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
STAMP0, STAMP1 = "2024-05-01T10:00:00Z", "2024-05-01T10:05:00Z"


def deployment(**changes: Any) -> dict[str, Any]:
    obj = yaml.safe_load("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        ports: [{containerPort: 80}]
""")
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = obj
        for name in parents:
            target = target[name]
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return obj


def apply(current: dict[str, Any] | None, config: dict[str, Any], *, manager: str = "kubectl",
          force: bool = False, now: datetime = T0, kind: tuple[str, str, str] = ("apps", "v1", "Deployment"),
          subresource: str = "") -> dict[str, Any]:
    group, version, name = kind
    return apply_patch(current, config, manager=manager, force=force, group=group, version=version, kind=name,
                       subresource=subresource, now=now)


def managers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f'{e["manager"]}/{e["operation"]}': e for e in obj["metadata"].get("managedFields", [])}


def fields(obj: dict[str, Any], who: str) -> dict[str, Any]:
    return dict(managers(obj)[who]["fieldsV1"])


def created_by_client_side_apply(config: dict[str, Any], *, last_applied: bool = True) -> dict[str, Any]:
    """What ``kubectl apply`` (client side) leaves: an Update entry and the annotation."""
    obj = copy.deepcopy(config)
    obj["metadata"]["uid"] = "uid-1"
    if last_applied:
        obj["metadata"]["annotations"] = {
            "kubectl.kubernetes.io/last-applied-configuration": json.dumps(config, sort_keys=True)}
    update_managed_fields(None, obj, manager="kubectl-client-side-apply", operation="Update",
                          api_version="apps/v1", now=T0)
    return obj


# --- create, re-apply, change -----------------------------------------------------------

def test_create_records_exactly_the_applied_fields() -> None:
    obj = apply(None, deployment())
    assert {k: v for k, v in obj.items() if k != "metadata"} == {
        k: v for k, v in deployment().items() if k != "metadata"}
    assert obj["metadata"]["managedFields"] == [{
        "manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "time": STAMP0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {'k:{"name":"c"}': {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
                    }}},
                },
            },
        },
    }]


def test_reapplying_the_same_config_is_a_no_op() -> None:
    first = apply(None, deployment())
    again = apply(first, deployment(), now=T1)
    assert again == first  # even the time: nothing changed


def test_changing_a_field_updates_the_object_and_the_time() -> None:
    first = apply(None, deployment())
    second = apply(first, deployment(spec__replicas=3), now=T1)
    assert second["spec"]["replicas"] == 3
    assert managers(second)["kubectl/Apply"]["time"] == STAMP1
    assert fields(second, "kubectl/Apply") == fields(first, "kubectl/Apply")


def test_server_fields_survive_an_apply() -> None:
    first = apply(None, deployment())
    first["metadata"].update(uid="u", resourceVersion="7", generation=1)
    first["status"] = {"replicas": 1}
    first["spec"]["strategy"] = {"type": "RollingUpdate"}  # defaulted, owned by nobody
    second = apply(first, deployment(spec__replicas=2), now=T1)
    assert second["metadata"]["uid"] == "u" and second["metadata"]["resourceVersion"] == "7"
    assert second["status"] == {"replicas": 1}
    assert second["spec"]["strategy"] == {"type": "RollingUpdate"}


def test_inputs_are_not_mutated() -> None:
    current = apply(None, deployment())
    config = deployment(spec__replicas=5)
    current_before, config_before = copy.deepcopy(current), copy.deepcopy(config)
    out = apply(current, config, now=T1)
    assert current == current_before and config == config_before
    out["spec"]["template"]["spec"]["containers"][0]["image"] = "changed"
    out["metadata"]["labels"]["x"] = "y"
    assert current == current_before and config == config_before


# --- removal of fields the applier dropped ------------------------------------------------

def test_fields_dropped_from_the_config_are_removed() -> None:
    first = apply(None, deployment(metadata__labels={"app": "web", "tier": "front"}))
    second = apply(first, deployment(), now=T1)
    assert second["metadata"]["labels"] == {"app": "web"}
    assert "f:tier" not in fields(second, "kubectl/Apply")["f:metadata"]["f:labels"]


def test_a_dropped_list_item_is_removed_whole() -> None:
    two = deployment()
    two["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    first = apply(None, two)
    second = apply(first, deployment(), now=T1)
    assert [c["name"] for c in second["spec"]["template"]["spec"]["containers"]] == ["c"]


def test_dropped_fields_another_manager_owns_are_kept() -> None:
    first = apply(None, deployment(metadata__labels={"app": "web", "team": "a"}))
    # A second applier also sets the label, with the same value: shared ownership.
    shared = apply(first, {"apiVersion": "apps/v1", "kind": "Deployment",
                           "metadata": {"name": "web", "labels": {"team": "a"}}}, manager="labeler")
    assert managers(shared)["labeler/Apply"]["fieldsV1"] == {"f:metadata": {"f:labels": {"f:team": {}}}}
    third = apply(shared, deployment(), now=T1)
    assert third["metadata"]["labels"] == {"app": "web", "team": "a"}


def test_dropping_a_field_never_applied_removes_nothing() -> None:
    first = apply(None, deployment())
    first["metadata"]["annotations"] = {"other": "x"}
    second = apply(first, deployment(spec__replicas=None), now=T1)
    assert "replicas" not in second["spec"]
    assert second["metadata"]["annotations"] == {"other": "x"}


def test_configmap_keys_are_pruned() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "1", "b": "2"}}
    first = apply(None, cm, kind=("", "v1", "ConfigMap"))
    assert fields(first, "kubectl/Apply") == {"f:data": {"f:a": {}, "f:b": {}}}
    second = apply(first, {**cm, "data": {"a": "1"}}, kind=("", "v1", "ConfigMap"), now=T1)
    assert second["data"] == {"a": "1"}


def test_an_applied_null_unsets_the_field_but_keeps_it_owned() -> None:
    first = apply(None, deployment())
    config = deployment()
    config["spec"]["replicas"] = None
    second = apply(first, config, now=T1)
    assert "replicas" not in second["spec"]
    assert "f:replicas" in fields(second, "kubectl/Apply")["f:spec"]


# --- conflicts ----------------------------------------------------------------------------

def test_changing_a_field_owned_by_client_side_apply_conflicts() -> None:
    live = created_by_client_side_apply(deployment(), last_applied=False)
    with pytest.raises(Conflict) as raised:
        apply(live, deployment(spec__replicas=3), manager="ci")
    status = raised.value.status()
    assert status["code"] == 409 and status["reason"] == "Conflict"
    assert status["message"] == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas')
    assert status["details"] == {"causes": [{
        "reason": "FieldManagerConflict",
        "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
        "field": ".spec.replicas",
    }]}


def test_setting_the_same_value_is_no_conflict_and_shares_ownership() -> None:
    live = created_by_client_side_apply(deployment(), last_applied=False)
    out = apply(live, deployment(), manager="ci")
    assert "f:replicas" in fields(out, "ci/Apply")["f:spec"]
    assert "f:replicas" in fields(out, "kubectl-client-side-apply/Update")["f:spec"]


def test_force_takes_the_field_over() -> None:
    live = created_by_client_side_apply(deployment(), last_applied=False)
    out = apply(live, deployment(spec__replicas=3), manager="ci", force=True, now=T1)
    assert out["spec"]["replicas"] == 3
    assert "f:replicas" in fields(out, "ci/Apply")["f:spec"]
    assert "f:replicas" not in fields(out, "kubectl-client-side-apply/Update")["f:spec"]
    assert managers(out)["kubectl-client-side-apply/Update"]["time"] == STAMP0


def test_several_conflicts_are_grouped_by_manager() -> None:
    live = apply(None, deployment())
    live = apply(live, {"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": "web", "labels": {"app": "web"}}}, manager="labeler")
    changed = deployment(spec__replicas=4, metadata__labels={"app": "api"})
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    with pytest.raises(Conflict) as raised:
        apply(live, changed, manager="ci")
    assert raised.value.message == (
        "Apply failed with 4 conflicts: "
        'conflicts with "kubectl":\n'
        "- .metadata.labels.app\n"
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="c"].image\n'
        'conflicts with "labeler":\n'
        "- .metadata.labels.app")
    assert [c.field for c in raised.value.details.causes] == [
        ".metadata.labels.app", ".spec.replicas", '.spec.template.spec.containers[name="c"].image',
        ".metadata.labels.app"]


def test_a_conflicting_apply_changes_nothing() -> None:
    live = created_by_client_side_apply(deployment(), last_applied=False)
    before = copy.deepcopy(live)
    with pytest.raises(Conflict):
        apply(live, deployment(spec__replicas=3), manager="ci")
    assert live == before


def test_a_field_set_by_kubectl_scale_conflicts_with_the_next_apply() -> None:
    live = apply(None, deployment())
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    update_managed_fields(live, scaled, manager="kubectl", operation="Update", api_version="apps/v1",
                          subresource="scale", now=T1)
    with pytest.raises(Conflict) as raised:
        apply(scaled, deployment(spec__replicas=2), now=T1)
    assert raised.value.message == ('Apply failed with 1 conflict: conflict with "kubectl" with subresource '
                                    '"scale" using apps/v1: .spec.replicas')


# --- moving from client-side to server-side apply --------------------------------------------

def test_kubectl_may_take_fields_unchanged_since_its_last_client_side_apply() -> None:
    live = created_by_client_side_apply(deployment())
    out = apply(live, deployment(spec__replicas=3), manager="kubectl", now=T1)
    assert out["spec"]["replicas"] == 3
    assert "f:replicas" in fields(out, "kubectl/Apply")["f:spec"]
    annotation = out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert json.loads(annotation)["spec"]["replicas"] == 3 and annotation.endswith("\n")


def test_kubectl_still_conflicts_on_fields_changed_since() -> None:
    live = created_by_client_side_apply(deployment())
    live["spec"]["replicas"] = 7  # changed by someone, not in the last-applied configuration
    with pytest.raises(Conflict):
        apply(live, deployment(spec__replicas=3), manager="kubectl", now=T1)


def test_other_managers_get_no_such_allowance() -> None:
    live = created_by_client_side_apply(deployment())
    with pytest.raises(Conflict):
        apply(live, deployment(spec__replicas=3), manager="argocd", now=T1)


# --- untracked objects, subresources, other kinds ----------------------------------------------

def test_an_untracked_object_is_owned_by_before_first_apply() -> None:
    live = deployment()
    live["metadata"]["uid"] = "u"
    with pytest.raises(Conflict) as raised:
        apply(live, deployment(spec__replicas=3), manager="ci")
    assert '"before-first-apply" using apps/v1' in raised.value.message
    out = apply(live, deployment(), manager="ci")
    assert set(managers(out)) == {"ci/Apply", "before-first-apply/Update"}


def test_the_status_subresource_owns_only_status() -> None:
    live = apply(None, deployment())
    status = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "status": {"replicas": 1, "readyReplicas": 1}}
    out = apply(live, status, manager="controller", subresource="status", now=T1)
    entry = managers(out)["controller/Apply"]
    assert entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {"f:readyReplicas": {}, "f:replicas": {}}}
    assert out["status"] == {"replicas": 1, "readyReplicas": 1}


def test_service_ports_are_keyed_by_port_and_defaulted_protocol() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    out = apply(None, svc, kind=("", "v1", "Service"))
    assert fields(out, "kubectl/Apply")["f:spec"]["f:ports"] == {
        'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}, "f:targetPort": {}}}


def test_custom_resources_are_applied_as_deduced_objects() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
              "spec": {"size": 1, "tags": ["a"]}}
    out = apply(None, widget, kind=("example.com", "v1", "Widget"))
    # With no schema every object key is a field of its own, as for Kubernetes' deduced types.
    assert fields(out, "kubectl/Apply") == {"f:spec": {".": {}, "f:size": {}, "f:tags": {}}}
    second = apply(out, {**widget, "spec": {"tags": ["b"]}}, kind=("example.com", "v1", "Widget"), now=T1)
    assert second["spec"] == {"tags": ["b"]}


# --- bad configurations ------------------------------------------------------------------------

def test_a_config_of_another_kind_is_rejected() -> None:
    with pytest.raises(BadRequest) as raised:
        apply(None, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})
    assert raised.value.message == "invalid object type: /v1, Kind=Pod"


def test_a_config_with_managed_fields_is_rejected() -> None:
    config = deployment()
    config["metadata"]["managedFields"] = []
    with pytest.raises(BadRequest) as raised:
        apply(None, config)
    assert raised.value.message == "metadata.managedFields must be nil"


def test_a_list_item_without_its_key_is_rejected() -> None:
    config = deployment()
    del config["spec"]["template"]["spec"]["containers"][0]["name"]
    with pytest.raises(BadRequest) as raised:
        apply(None, config)
    assert raised.value.message == (
        "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): "
        '.spec.template.spec.containers: associative list with keys has an element that omits key field "name" '
        "(and doesn't have default value)")


def test_duplicate_list_items_in_a_config_are_rejected() -> None:
    config = deployment()
    config["spec"]["template"]["spec"]["containers"].append({"name": "c", "image": "x"})
    with pytest.raises(BadRequest) as raised:
        apply(None, config)
    assert 'duplicate entries for key [name="c"]' in raised.value.message
