"""managedFields for non-apply writes: what creates, updates and patches record."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from kube.patch import apply_patch, update_managed_fields

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def deployment() -> dict[str, Any]:
    return yaml.safe_load("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx:1.25, ports: [{containerPort: 80}]}]
""")


def write(old: dict[str, Any] | None, new: dict[str, Any], *, manager: str, minutes: int = 0,
          subresource: str = "") -> dict[str, Any]:
    update_managed_fields(old, new, manager=manager, operation="Update", subresource=subresource,
                          api_version="apps/v1", now=at(minutes))
    return new


def entries(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in obj["metadata"].get("managedFields", [])}


def created(manager: str = "kubectl-create") -> dict[str, Any]:
    obj = deployment()
    write(None, obj, manager=manager)
    obj["metadata"]["uid"] = "u"
    return obj


def test_create_owns_everything_it_set_as_kubernetes_records_it() -> None:
    obj = created()
    assert obj["metadata"]["managedFields"] == [{
        "manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1",
        "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {"f:containers": {'k:{"name":"c"}': {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {".": {}, 'k:{"containerPort":80,"protocol":"TCP"}': {
                            ".": {}, "f:containerPort": {}}},
                    }}},
                },
            },
        },
    }]


def test_an_update_takes_the_fields_it_changes() -> None:
    old = created()
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 3
    write(old, new, manager="kubectl-edit", minutes=1)
    by = entries(new)
    assert by["kubectl-edit"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert by["kubectl-edit"]["time"] == "2024-05-01T10:01:00Z"
    assert "f:replicas" not in by["kubectl-create"]["fieldsV1"]["f:spec"]
    assert by["kubectl-create"]["time"] == "2024-05-01T10:00:00Z"


def test_removed_fields_are_owned_by_nobody() -> None:
    old = created()
    new = copy.deepcopy(old)
    del new["metadata"]["labels"]
    write(old, new, manager="kubectl-edit", minutes=1)
    by = entries(new)
    assert "kubectl-edit" not in by  # it removed but set nothing
    assert "f:metadata" not in by["kubectl-create"]["fieldsV1"]


def test_a_manager_that_loses_every_field_disappears() -> None:
    old = created()
    old = write(old, {**copy.deepcopy(old), "spec": {**old["spec"], "replicas": 2}}, manager="scaler", minutes=1)
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 4
    write(old, new, manager="hpa", minutes=2)
    assert set(entries(new)) == {"kubectl-create", "hpa"}


def test_an_identical_write_changes_nothing() -> None:
    old = created()
    new = copy.deepcopy(old)
    new["metadata"]["resourceVersion"] = "9"  # bookkeeping is never owned
    write(old, new, manager="other", minutes=3)
    assert new["metadata"]["managedFields"] == old["metadata"]["managedFields"]


def test_untracked_objects_stay_untracked() -> None:
    old = deployment()
    old["metadata"]["uid"] = "u"
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 3
    write(old, new, manager="kubectl-edit")
    assert "managedFields" not in new["metadata"]


def test_writing_an_empty_entry_resets_tracking() -> None:
    old = created()
    new = copy.deepcopy(old)
    new["metadata"]["managedFields"] = [{}]
    write(old, new, manager="kubectl-patch")
    assert "managedFields" not in new["metadata"]


def test_managed_fields_sent_by_the_client_are_honoured() -> None:
    old = created()
    new = copy.deepcopy(old)
    new["metadata"]["managedFields"] = [{
        "manager": "someone", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
    write(old, new, manager="kubectl-replace")
    assert [e["manager"] for e in new["metadata"]["managedFields"]] == ["someone"]


def test_malformed_managed_fields_from_the_client_fall_back_to_the_stored_ones() -> None:
    old = created()
    new = copy.deepcopy(old)
    new["metadata"]["managedFields"] = [{"manager": "x", "operation": "Delete"}]
    write(old, new, manager="kubectl-replace")
    assert new["metadata"]["managedFields"] == old["metadata"]["managedFields"]


def test_a_status_write_owns_status_under_its_subresource() -> None:
    old = created()
    new = copy.deepcopy(old)
    new["status"] = {"replicas": 1}
    new["spec"]["replicas"] = 9  # the registry would reset this; it is never owned via /status
    write(old, new, manager="kube-controller-manager", subresource="status", minutes=1)
    entry = entries(new)["kube-controller-manager"]
    assert entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {"f:replicas": {}}}  # status is a non-pointer struct


def test_at_most_ten_update_managers_are_kept() -> None:
    obj = created()
    for n in range(12):
        new = copy.deepcopy(obj)
        new["metadata"].setdefault("annotations", {})[f"a{n}"] = "x"
        write(obj, new, manager=f"m{n:02}", minutes=n + 1)
        obj = new
    names = [e["manager"] for e in obj["metadata"]["managedFields"]]
    assert len(names) == 10
    assert "ancient-changes" in names
    ancient = entries(obj)["ancient-changes"]["fieldsV1"]
    # the four oldest (kubectl-create, m00, m01, m02) were folded together
    assert "f:spec" in ancient
    assert set(ancient["f:metadata"]["f:annotations"]) == {".", "f:a0", "f:a1", "f:a2"}


def test_entries_are_sorted_apply_first_then_by_time() -> None:
    obj = created()
    new = copy.deepcopy(obj)
    new["spec"]["replicas"] = 2
    write(obj, new, manager="a-late", minutes=9)
    applied = apply_patch(new, {"apiVersion": "apps/v1", "kind": "Deployment",
                                "metadata": {"name": "web", "annotations": {"x": "y"}}},
                          manager="z-applier", force=False, group="apps", version="v1", kind="Deployment",
                          now=at(10))
    assert [(e["operation"], e["manager"]) for e in applied["metadata"]["managedFields"]] == [
        ("Apply", "z-applier"), ("Update", "kubectl-create"), ("Update", "a-late")]


def test_old_object_is_not_mutated() -> None:
    old = created()
    before = copy.deepcopy(old)
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 3
    write(old, new, manager="x")
    assert old == before
