"""The Go zero status: required status counters are filled with 0, never missing."""

from __future__ import annotations

from typing import Any

import pytest

from kube.errors import Invalid
from kube.model import FieldValidation, node_for_api_version, prepare_create, prepare_update, zero_status

STRICT = FieldValidation.STRICT
Obj = dict[str, Any]


def replica_set(status: Any = None) -> Obj:
    obj: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "rs", "namespace": "n"},
        "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {
                "metadata": {"labels": {"app": "a"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    if status is not None:
        obj["status"] = status
    return obj


@pytest.mark.parametrize(
    ("api_version", "kind", "zero"),
    [
        ("apps/v1", "ReplicaSet", {"replicas": 0}),
        ("apps/v1", "StatefulSet", {"replicas": 0}),
        ("apps/v1", "DaemonSet", {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                                  "desiredNumberScheduled": 0, "numberReady": 0}),
        ("policy/v1", "PodDisruptionBudget", {"disruptionsAllowed": 0, "currentHealthy": 0,
                                              "desiredHealthy": 0, "expectedPods": 0}),
        ("v1", "ReplicationController", {"replicas": 0}),
        ("autoscaling/v1", "HorizontalPodAutoscaler", {"currentReplicas": 0, "desiredReplicas": 0}),
        ("autoscaling/v2", "HorizontalPodAutoscaler", {"desiredReplicas": 0}),
        ("storage.k8s.io/v1", "VolumeAttachment", {"attached": False}),
        ("apps/v1", "Deployment", {}),
        ("v1", "Pod", {}),
        ("v1", "ConfigMap", {}),
    ],
)  # fmt: skip
def test_zero_status_is_what_go_encodes_for_an_empty_status(api_version: str, kind: str, zero: Obj) -> None:
    node = node_for_api_version(api_version=api_version, kind=kind)
    assert node is not None
    assert zero_status(node) == zero


def test_a_timestamp_is_not_given_a_zero_string() -> None:
    # TokenRequest's status requires expirationTimestamp, whose Go zero encodes as null.
    node = node_for_api_version(api_version="authentication.k8s.io/v1", kind="TokenRequest")
    assert node is not None
    assert zero_status(node) == {"token": ""}


def test_create_with_an_empty_or_absent_status_gets_the_zero_counters() -> None:
    for status in ({}, None):
        obj = replica_set(status)
        assert prepare_create(obj, mode=STRICT) == []
        assert obj["status"] == {"replicas": 0}


def test_counters_the_client_set_are_kept_and_null_means_zero() -> None:
    obj = replica_set({"replicas": 3, "readyReplicas": 2})
    prepare_create(obj, mode=STRICT)
    assert obj["status"] == {"replicas": 3, "readyReplicas": 2}
    obj = replica_set({"replicas": None, "readyReplicas": 2})
    prepare_create(obj, mode=STRICT)
    assert obj["status"] == {"replicas": 0, "readyReplicas": 2}


def test_an_update_whose_status_lacks_the_counters_is_not_refused() -> None:
    old = replica_set({"replicas": 0})
    prepare_create(old, mode=STRICT)
    old["metadata"].update(uid="u", creationTimestamp="2026-01-01T00:00:00Z", resourceVersion="1")
    new = replica_set({"availableReplicas": 1})
    new["metadata"] = dict(old["metadata"])
    assert prepare_update(new, old=old, mode=STRICT) == []
    assert new["status"] == {"availableReplicas": 1, "replicas": 0}


def test_a_status_of_the_wrong_type_is_still_reported() -> None:
    with pytest.raises(Invalid) as caught:
        prepare_create(replica_set({"replicas": "two"}), mode=STRICT)
    assert "status.replicas" in str(caught.value)
    with pytest.raises(Invalid) as caught:
        prepare_create(replica_set("nope"), mode=STRICT)
    assert "status" in str(caught.value)


def test_nested_required_fields_in_a_status_are_still_required() -> None:
    obj = replica_set({"conditions": [{"status": "True"}]})
    with pytest.raises(Invalid) as caught:
        prepare_create(obj, mode=STRICT)
    assert "status.conditions[0].type: Required value" in str(caught.value)
