"""Strategic merge patch: every directive, Kubernetes' own cases, and kubectl's real patches.

The table cases reproduce apimachinery's strategicpatch test cases (the *ThreeWay* patch
applied to *Current* must give *Result*) on real kinds instead of the Go tests' fake
``mergeItem`` schema: ``mergingList`` is ``spec.containers`` (merged by ``name``),
``mergingIntList`` is ``metadata.finalizers`` (a merged set), ``retainKeysMap`` is a
Deployment's ``spec.strategy`` and ``retainKeysMergingList`` is ``spec.volumes``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from kube.errors import BadRequest, Invalid, StatusError, UnsupportedMediaType
from kube.patch import strategic_merge_patch

POD = ("", "v1", "Pod")
DEPLOYMENT = ("apps", "v1", "Deployment")
NODE = ("", "v1", "Node")


def smp(doc: dict[str, Any], patch: dict[str, Any], kind: tuple[str, str, str] = POD) -> dict[str, Any]:
    group, version, name = kind
    return strategic_merge_patch(doc, patch, group=group, version=version, kind=name)


def y(text: str) -> Any:
    return yaml.safe_load(text)


CASES = [
    pytest.param(POD, """
spec: {containers: [{name: hello2}]}
""", """
spec:
  $setElementOrder/containers: [{name: hello}, {name: doesntexist}]
  containers: [{name: hello}]
""", """
spec: {containers: [{name: hello}, {name: hello2}]}
""", id="nested patch merge with empty list"),
    pytest.param(POD, """
metadata: {finalizers: [a, b, c, d]}
""", """
metadata:
  $setElementOrder/finalizers: [a, b]
  $deleteFromPrimitiveList/finalizers: [c]
""", """
metadata: {finalizers: [a, b, d]}
""", id="delete items in lists of scalars"),
    pytest.param(POD, """
metadata: {finalizers: [a, b, c, c, d]}
""", """
metadata:
  $setElementOrder/finalizers: [a, b]
  $deleteFromPrimitiveList/finalizers: [c]
""", """
metadata: {finalizers: [a, b, d]}
""", id="delete all duplicate items in lists of scalars"),
    pytest.param(POD, """
metadata: {finalizers: [a, d, b]}
""", """
metadata:
  $setElementOrder/finalizers: [c, a, b]
  finalizers: [c]
""", """
metadata: {finalizers: [c, a, d, b]}
""", id="add an item in a list of primitives and preserve order"),
    pytest.param(POD, """
metadata: {finalizers: [a, b, c]}
""", """
metadata:
  $setElementOrder/finalizers: [b, a]
  $deleteFromPrimitiveList/finalizers: [c]
""", """
metadata: {finalizers: [b, a]}
""", id="delete an item in a list of primitives and preserve order"),
    pytest.param(POD, """
metadata: {finalizers: [a, b]}
""", """
metadata: {$deleteFromPrimitiveList/finalizers: [z]}
""", """
metadata: {finalizers: [a, b]}
""", id="deleteFromPrimitiveList of a missing item adds nothing"),
    pytest.param(POD, """
metadata: {name: x}
""", """
metadata: {$deleteFromPrimitiveList/finalizers: [z]}
""", """
metadata: {name: x}
""", id="deleteFromPrimitiveList never creates the list"),
    pytest.param(POD, """
spec: {containers: [{name: c, args: [a, b, c]}]}
""", """
spec: {containers: [{name: c, $deleteFromPrimitiveList/args: [b]}]}
""", """
spec: {containers: [{name: c, args: [a, c]}]}
""", id="deleteFromPrimitiveList works on a list without merge strategy"),
    pytest.param(POD, """
spec:
  containers: [{name: "1", other: a}, {name: "3", value: 3}, {name: "4", value: 4}, {name: "2", value: 2}]
""", """
spec:
  $setElementOrder/containers: [{name: "4"}, {name: "2"}, {name: "3"}, {name: "1"}]
""", """
spec:
  containers: [{name: "4", value: 4}, {name: "2", value: 2}, {name: "3", value: 3}, {name: "1", other: a}]
""", id="set elements order in a list"),
    pytest.param(POD, """
spec:
  containers: [{name: "1", other: a}, {name: "3", value: 3}, {name: "4", value: 4}, {name: "2", value: 2},
               {name: "9"}]
""", """
spec:
  $setElementOrder/containers: [{name: "4"}, {name: "2"}, {name: "3"}, {name: "1"}]
""", """
spec:
  containers: [{name: "4", value: 4}, {name: "2", value: 2}, {name: "3", value: 3}, {name: "1", other: a},
               {name: "9"}]
""", id="set elements order with server-only items"),
    pytest.param(POD, """
spec:
  containers: [{name: "1", other: a}, {name: "2", value: 2}, {name: "9"}, {name: "3", value: 3},
               {name: "4", value: 4}]
""", """
spec:
  $setElementOrder/containers: [{name: "2"}, {name: "1"}, {name: "4"}, {name: "3"}]
""", """
spec:
  containers: [{name: "2", value: 2}, {name: "1", other: a}, {name: "9"}, {name: "4", value: 4},
               {name: "3", value: 3}]
""", id="set elements order with server-only items 2"),
    pytest.param(POD, """
spec:
  containers: [{name: "1", other: a}, {name: "2", value: 2}, {name: "7"}, {name: "9"}, {name: "8"},
               {name: "3", value: 3}, {name: "4", value: 4}]
""", """
spec:
  $setElementOrder/containers: [{name: "2"}, {name: "1"}, {name: "4"}, {name: "3"}]
""", """
spec:
  containers: [{name: "2", value: 2}, {name: "1", other: a}, {name: "7"}, {name: "9"}, {name: "8"},
               {name: "4", value: 4}, {name: "3", value: 3}]
""", id="set elements order with server-only items 3"),
    pytest.param(POD, """
spec: {containers: [{name: "1"}, {name: "3"}]}
""", """
spec:
  $setElementOrder/containers: [{name: "3"}, {name: "2"}, {name: "1"}]
  containers: [{name: "3", value: 3}, {name: "1", value: 1}]
""", """
spec: {containers: [{name: "3", value: 3}, {name: "1", value: 1}]}
""", id="setElementOrder naming an item the list lacks"),
    pytest.param(POD, """
spec:
  containers: [{name: a, value: a}, {name: b, value: b}]
  initContainers: [{name: c, value: c}, {name: d, value: d}]
""", """
spec:
  $setElementOrder/containers: [{name: b}]
  $setElementOrder/initContainers: [{name: d}, {name: c}]
  containers: [{$patch: delete, name: a}]
""", """
spec:
  containers: [{name: b, value: b}]
  initContainers: [{name: d, value: d}, {name: c, value: c}]
""", id="delete and reorder in one list, reorder in another"),
    pytest.param(DEPLOYMENT, """
spec: {strategy: {rollingUpdate: {maxSurge: 1}}}
""", """
spec: {strategy: {$retainKeys: [type], type: Recreate}}
""", """
spec: {strategy: {type: Recreate}}
""", id="retainKeys map clears a defaulted field"),
    pytest.param(DEPLOYMENT, """
spec: {strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}}
""", """
spec: {strategy: {$retainKeys: [type], type: Recreate}}
""", """
spec: {strategy: {type: Recreate}}
""", id="retainKeys switches a discriminated union"),
    pytest.param(DEPLOYMENT, """
spec: {strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}}
""", """
spec: {strategy: {$retainKeys: [type, rollingUpdate], rollingUpdate: {maxUnavailable: 2}}}
""", """
spec: {strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 2}}}
""", id="retainKeys keeps and merges listed keys"),
    pytest.param(POD, """
spec:
  volumes: [{name: bar, emptyDir: {}}, {name: foo, configMap: {name: a}, secret: {secretName: x}}]
""", """
spec:
  $setElementOrder/volumes: [{name: bar}, {name: foo}]
  volumes: [{$retainKeys: [name, configMap], name: foo}]
""", """
spec:
  volumes: [{name: bar, emptyDir: {}}, {name: foo, configMap: {name: a}}]
""", id="retainKeys list of maps clears a field"),
    pytest.param(POD, """
spec: {containers: [{name: a}, {name: b}]}
""", """
spec: {containers: [{name: c, image: x}, {$patch: replace}]}
""", """
spec: {containers: [{name: c, image: x}]}
""", id="$patch replace in a list replaces the list"),
    pytest.param(POD, """
spec: {containers: [{name: a, env: [{name: X, value: "1"}, {name: Y, value: "2"}]}]}
""", """
spec: {containers: [{name: a, env: [{$patch: delete, name: X}]}]}
""", """
spec: {containers: [{name: a, env: [{name: Y, value: "2"}]}]}
""", id="$patch delete removes a list item by merge key"),
    pytest.param(POD, """
metadata: {labels: {a: "1", b: "2"}}
""", """
metadata: {labels: {$patch: replace, c: "3"}}
""", """
metadata: {labels: {c: "3"}}
""", id="$patch replace on a map"),
    pytest.param(POD, """
spec: {securityContext: {runAsUser: 1}, hostname: h}
""", """
spec: {securityContext: {$patch: delete}}
""", """
spec: {securityContext: {}, hostname: h}
""", id="$patch delete on a map empties it"),
    pytest.param(POD, """
spec: {tolerations: [{key: a, operator: Exists}, {key: b, operator: Exists}]}
""", """
spec: {tolerations: [{key: c, operator: Exists}]}
""", """
spec: {tolerations: [{key: c, operator: Exists}]}
""", id="a list without merge strategy is replaced"),
    pytest.param(POD, """
spec: {containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 443}]}]}
""", """
spec: {containers: [{name: c, ports: [{containerPort: 8080}, {containerPort: 443, name: https}]}]}
""", """
spec: {containers: [{name: c, ports: [{containerPort: 8080}, {containerPort: 80}, {containerPort: 443, name: https}]}]}
""", id="ports merge by containerPort, new items first"),
    pytest.param(POD, """
spec: {containers: [{name: patch-demo-ctr, image: nginx}]}
""", """
spec: {containers: [{name: patch-demo-ctr-2, image: redis}]}
""", """
spec: {containers: [{name: patch-demo-ctr-2, image: redis}, {name: patch-demo-ctr, image: nginx}]}
""", id="adding a container without setElementOrder puts it first (kubernetes docs)"),
    pytest.param(POD, """
spec: {containers: [{name: a, image: x}]}
""", """
spec: {containers: []}
""", """
spec: {containers: [{name: a, image: x}]}
""", id="an empty merge list changes nothing"),
    pytest.param(POD, """
metadata: {finalizers: [a, b]}
""", """
metadata: {finalizers: [b, c]}
""", """
metadata: {finalizers: [a, b, c]}
""", id="primitive merge lists are unions"),
    pytest.param(POD, """
metadata: {annotations: {a: x}}
""", """
metadata: {annotations: {a: {nested: 1}}}
""", """
metadata: {annotations: {a: {nested: 1}}}
""", id="a value of another type replaces"),
    pytest.param(POD, """
metadata: {name: x}
""", """
metadata: {labels: {a: "1", b: null}}
""", """
metadata: {name: x, labels: {a: "1"}}
""", id="nulls inside a new value are dropped"),
    pytest.param(POD, """
spec: {containers: [{name: a}]}
""", """
spec: {containers: [{name: b, image: null, args: [x]}]}
""", """
spec: {containers: [{name: b, args: [x]}, {name: a}]}
""", id="nulls inside a new list item are dropped"),
]


@pytest.mark.parametrize(("kind", "current", "patch", "result"), CASES)
def test_kubernetes_cases(kind: tuple[str, str, str], current: str, patch: str, result: str) -> None:
    assert smp(y(current), y(patch), kind) == y(result)


ERRORS = [
    pytest.param("""
spec: {containers: [{name: "1"}, {name: "3"}, {name: "2"}]}
""", """
spec:
  $setElementOrder/containers: [{name: "1"}, {name: "2"}, {name: "3"}]
  containers: [{name: "3", value: 3}, {name: "1", value: 1}]
""", BadRequest, "doesn't match $setElementOrder list", id="patch order contradicts setElementOrder"),
    pytest.param("""
metadata: {finalizers: [a, c, b]}
""", """
metadata:
  $setElementOrder/finalizers: [a, b, c]
  finalizers: [c, a]
""", BadRequest, "doesn't match", id="primitive order contradicts setElementOrder"),
    pytest.param("""
spec: {containers: [{name: a, image: x}]}
""", """
spec: {containers: [{image: y}]}
""", BadRequest, "map: map[image:y] does not contain declared merge key: name", id="missing merge key"),
    pytest.param("""
spec: {hostname: h}
""", """
spec: {$patch: merge}
""", BadRequest, "unknown patch type: merge in map: map[$patch:merge]", id="$patch merge on a map"),
    pytest.param("""
spec: {containers: [{name: a}]}
""", """
spec: {containers: [{$patch: merge}]}
""", BadRequest, "merging lists cannot yet be specified in the patch", id="$patch merge in a list"),
    pytest.param("""
spec: {containers: [{name: a}]}
""", """
spec: {containers: [{$patch: delete}]}
""", BadRequest, "does not contain declared merge key: name", id="$patch delete without merge key"),
    pytest.param("""
metadata: {finalizers: [a]}
""", """
metadata: {finalizers: [[b]]}
""", Invalid, "the server rejected our request due to an error in our request", id="lists of lists"),
    pytest.param("""
metadata: {finalizers: [a]}
""", """
metadata: {finalizers: [1]}
""", BadRequest, "list element types are not identical: [[a] [1]]", id="mixed element types"),
    pytest.param("""
spec: {volumes: [{name: v, emptyDir: {}}]}
""", """
spec: {volumes: [{name: v, $retainKeys: name}]}
""", BadRequest, "invalid patch format of retainKeys", id="retainKeys not a list"),
    pytest.param("""
spec: {volumes: [{name: v, emptyDir: {}}]}
""", """
spec: {volumes: [{name: v, $retainKeys: [name], hostPath: {path: /x}}]}
""", BadRequest, "invalid patch format of retainKeys", id="retainKeys missing a patched key"),
    pytest.param("""
metadata: {finalizers: [a]}
""", """
metadata: {$deleteFromPrimitiveList: [a]}
""", BadRequest, "invalid patch format of primitive list", id="deleteFromPrimitiveList without a field"),
    pytest.param("""
spec: {containers: [{name: a}]}
""", """
spec: {$setElementOrder/containers: {name: a}}
""", BadRequest, "expected a []interface {}, but received a map[string]interface {}",
        id="setElementOrder not a list"),
]


@pytest.mark.parametrize(("current", "patch", "error", "message"), ERRORS)
def test_errors(current: str, patch: str, error: type[StatusError], message: str) -> None:
    with pytest.raises(error) as raised:
        smp(y(current), y(patch))
    assert message in raised.value.message


def test_error_codes_are_the_status_codes_kube_apiserver_sends() -> None:
    with pytest.raises(BadRequest) as bad:
        smp({"metadata": {"name": "x"}}, {"metadata": {"$retainKeys": "x"}})
    assert bad.value.status()["code"] == 400
    with pytest.raises(Invalid) as invalid:
        smp({"metadata": {"finalizers": ["a"]}}, {"metadata": {"finalizers": [["b"]]}})
    assert invalid.value.status()["code"] == 422


def test_custom_resources_are_refused_with_415() -> None:
    with pytest.raises(UnsupportedMediaType) as raised:
        strategic_merge_patch({}, {}, group="example.com", version="v1", kind="Widget")
    assert raised.value.code == 415
    assert "application/merge-patch+json" in raised.value.message


def test_a_patch_that_is_not_an_object_is_a_bad_request() -> None:
    with pytest.raises(BadRequest):
        smp({}, ["x"])  # type: ignore[arg-type]


# --- what kubectl really sends --------------------------------------------------------

DEPLOYMENT_OBJECT = y("""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
        ports: [{containerPort: 80}]
      - name: sidecar
        image: busybox
""")


def test_kubectl_apply_changes_an_image() -> None:
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "sidecar"}],
                                            "containers": [{"image": "nginx:1.26", "name": "c"}]}}}}
    out = smp(DEPLOYMENT_OBJECT, patch, DEPLOYMENT)
    containers = out["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["c", "sidecar"]
    assert containers[0] == {**DEPLOYMENT_OBJECT["spec"]["template"]["spec"]["containers"][0], "image": "nginx:1.26"}
    assert out["spec"]["replicas"] == 2


def test_kubectl_apply_reorders_containers() -> None:
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "c"}]}}}}
    out = smp(DEPLOYMENT_OBJECT, patch, DEPLOYMENT)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["sidecar", "c"]


def test_env_var_deletion_and_label_removal() -> None:
    patch = {
        "metadata": {"labels": {"tier": None}},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "env": [{"$patch": "delete", "name": "A"}]}]}}},
    }
    out = smp(DEPLOYMENT_OBJECT, patch, DEPLOYMENT)
    assert out["metadata"]["labels"] == {"app": "web"}
    assert out["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "B", "value": "2"}]


def test_cordon_and_uncordon() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": {"podCIDR": "10.0.0.0/24"}}
    cordoned = smp(node, {"spec": {"unschedulable": True}}, NODE)
    assert cordoned["spec"] == {"podCIDR": "10.0.0.0/24", "unschedulable": True}
    assert smp(cordoned, {"spec": {"unschedulable": None}}, NODE) == node


def test_rollout_restart_annotation() -> None:
    patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}}
    out = smp(DEPLOYMENT_OBJECT, patch, DEPLOYMENT)
    assert out["spec"]["template"]["metadata"] == {
        "labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}


def test_inputs_are_not_mutated() -> None:
    doc = copy.deepcopy(DEPLOYMENT_OBJECT)
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "new"}],
                                            "containers": [{"name": "new", "image": "x", "args": None}]}}},
             "metadata": {"labels": {"$patch": "replace", "z": "1"}}}
    before = copy.deepcopy(patch)
    out = smp(doc, patch, DEPLOYMENT)
    assert doc == DEPLOYMENT_OBJECT
    assert patch == before
    out["spec"]["template"]["spec"]["containers"][1]["image"] = "changed"
    assert patch == before and doc == DEPLOYMENT_OBJECT
