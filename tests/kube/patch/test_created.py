"""The one-walk fieldsV1 of a create equals the general bookkeeping's answer.

``kube.patch.created`` is a fast path for ``update_managed_fields(None, obj, ...)``;
these tests hold it to the definition it replaces — compare against an empty object,
drop what the write cannot own, encode — on realistic and on generated objects.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kube import model
from kube.model.schema import node_for_api_version
from kube.patch import created, managed, typed, update_managed_fields
from kube.patch import fieldpath as fp

NOW = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
SUBRESOURCES = ("", "status", "scale")

MANIFESTS = list(
    yaml.safe_load_all("""
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  generateName: web-
  uid: 6f1c4a52-0000-4000-8000-000000000001
  creationTimestamp: "2024-05-01T10:00:00Z"
  labels: {app: web, tier: front}
  annotations: {note: "<&>"}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: u1, controller: true}]
  finalizers: [a/b]
spec:
  nodeName: node-1
  securityContext: {}
  volumes: [{name: data, emptyDir: {}}, {name: cfg, configMap: {name: cfg, items: [{key: a, path: a}]}}]
  initContainers: [{name: init, image: busybox, command: [sh, -c, "true"]}]
  containers:
  - name: app
    image: registry.local/app:1.0
    ports: [{containerPort: 8080}, {name: metrics, containerPort: 9090, protocol: UDP}]
    env: [{name: A, value: "1"}, {name: B, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 1}}
    livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5}
    volumeMounts: [{name: data, mountPath: /data}]
  - {name: side, image: side:1, args: []}
  tolerations: [{key: k, operator: Exists}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a, b]}]}]
status: {phase: Pending, conditions: [{type: Ready, status: "False"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx:1.25, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443, protocol: TCP}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: default}
data: {a: "1", b: ""}
binaryData: {}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: default}
spec: {size: 3, parts: [{name: a}, {name: a}], nested: {deep: {x: null}}}
""")
)


def reference(obj: dict[str, Any], *, subresource: str) -> dict[str, Any]:
    """The general path: diff against nothing, drop what cannot be owned, encode."""
    node = node_for_api_version(api_version=obj["apiVersion"], kind=obj["kind"])
    added = managed.comparison({}, obj, node, subresource=subresource).added
    return fp.to_fields_v1(added - managed.STRIPPED)


def fast(obj: dict[str, Any], *, subresource: str) -> dict[str, Any]:
    node = node_for_api_version(api_version=obj["apiVersion"], kind=obj["kind"])
    plan = created.drop_plan(exact=managed.STRIPPED, whole=managed._IGNORED_BELOW.get(subresource))
    return created.fields_v1(obj, node, drop=plan)


def outcome(function: Any, obj: dict[str, Any], *, subresource: str) -> Any:
    try:
        return function(obj, subresource=subresource)
    except typed.TypedError:
        return "TypedError"


@pytest.mark.parametrize("subresource", SUBRESOURCES)
@pytest.mark.parametrize("index", range(len(MANIFESTS)))
def test_the_fast_walk_matches_the_general_bookkeeping(index: int, subresource: str) -> None:
    obj = copy.deepcopy(MANIFESTS[index])
    expected = reference(obj, subresource=subresource)
    assert expected or subresource  # the manifests own something
    got = fast(obj, subresource=subresource)
    assert got == expected
    assert list(_walk_order(got)) == list(_walk_order(expected))  # key order too: it is what is stored


@pytest.mark.parametrize("index", range(len(MANIFESTS) - 1))
def test_it_matches_on_objects_with_defaults_applied(index: int) -> None:
    obj = copy.deepcopy(MANIFESTS[index])
    model.prepare_create(obj, mode=model.FieldValidation.STRICT)
    assert fast(obj, subresource="") == reference(obj, subresource="")


def test_update_managed_fields_on_create_gives_the_general_answer() -> None:
    for manifest in MANIFESTS:
        for sent in (None, [], [{}], [{"manager": "x"}]):
            obj = copy.deepcopy(manifest)
            if sent is not None:
                obj["metadata"]["managedFields"] = copy.deepcopy(sent)
            slow = copy.deepcopy(obj)
            update_managed_fields(
                None, obj, manager="m", operation="Update", api_version=obj["apiVersion"], now=NOW
            )
            _general(slow, api_version=obj["apiVersion"])
            assert obj == slow


def _general(obj: dict[str, Any], *, api_version: str) -> None:
    """What ``update_managed_fields`` did for every create before the fast path."""
    node = node_for_api_version(api_version=api_version, kind=obj["kind"])
    ident = managed.ManagerId.of(manager="m", operation="Update", api_version=api_version)
    try:
        owners = managed.record_update(
            live={},
            new=managed.without_managed_fields(obj),
            managers={},
            ident=ident,
            api_version=api_version,
            node=node,
            subresource="",
            now=NOW,
        )
    except typed.TypedError:
        owners = {}
    managed.write(obj, owners)


def test_a_list_item_without_its_key_fails_both_ways() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"image": "x"}]},
    }
    assert outcome(fast, obj, subresource="") == outcome(reference, obj, subresource="") == "TypedError"
    update_managed_fields(None, obj, manager="m", operation="Update", api_version="v1", now=NOW)
    assert "managedFields" not in obj["metadata"]


def _walk_order(body: dict[str, Any], prefix: tuple[str, ...] = ()) -> Any:
    for key, sub in body.items():
        yield (*prefix, key)
        yield from _walk_order(sub, (*prefix, key))


# -- generated objects --------------------------------------------------------------------

names = st.sampled_from(["a", "b", "c"])
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.text(alphabet="ab<", max_size=2)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)
ports = st.lists(
    st.fixed_dictionaries(
        {"containerPort": st.integers(1, 3)},
        optional={"protocol": st.sampled_from(["TCP", "UDP"]), "name": names},
    ),
    max_size=3,
)
containers = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "name": names,
            "image": scalars,
            "ports": ports,
            "env": values,
            "resources": st.dictionaries(
                st.sampled_from(["limits", "requests"]), st.dictionaries(names, scalars)
            ),
        },
    ),
    max_size=3,
)
pods = st.builds(
    lambda meta, spec, status, extra: {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": spec,
        "status": status,
        **extra,
    },
    st.fixed_dictionaries(
        {"name": st.just("p")},
        optional={
            "labels": st.dictionaries(names, scalars),
            "uid": scalars,
            "annotations": values,
            "finalizers": st.lists(names),
            "generation": st.integers(0, 2),
        },
    ),
    st.fixed_dictionaries(
        {"containers": containers},
        optional={
            "nodeName": scalars,
            "securityContext": values,
            "volumes": values,
            "tolerations": values,
            "hostNetwork": st.booleans(),
        },
    ),
    st.dictionaries(st.sampled_from(["phase", "conditions", "podIPs"]), values, max_size=2),
    st.dictionaries(st.sampled_from(["x", "y"]), values, max_size=1),
)


@settings(max_examples=300, deadline=None)
@given(pods, st.sampled_from(SUBRESOURCES))
def test_it_matches_on_generated_pods(pod: dict[str, Any], subresource: str) -> None:
    expected = outcome(reference, pod, subresource=subresource)
    got = outcome(fast, pod, subresource=subresource)
    assert got == expected
    if isinstance(got, dict):
        assert list(_walk_order(got)) == list(_walk_order(expected))


elements = st.sampled_from(["f:a", "f:b", "f:c", 'k:{"name":"x"}'])
paths = st.lists(elements, min_size=1, max_size=3).map(tuple)


@settings(max_examples=300, deadline=None)
@given(st.sets(paths, max_size=8), st.sets(paths, max_size=4), st.none() | paths)
def test_dropping_paths_from_a_fields_v1_is_set_difference(
    owned: set[Any], exact: set[Any], whole: Any
) -> None:
    body = fp.to_fields_v1(owned)
    created._prune(body, created.drop_plan(exact=exact, whole=whole))
    kept = fp.without_prefix(owned, whole) if whole else set(owned)
    assert body == fp.to_fields_v1(kept - exact)


def test_objects_of_one_shape_share_a_remembered_answer_but_never_its_copy() -> None:
    """Answers are remembered by the object's shape (its scalars blanked): objects that
    differ only in scalars, down to label values, get the general path's answer, and
    each gets its own copy of it."""
    plan = created.drop_plan(exact=managed.STRIPPED, whole=managed._IGNORED_BELOW.get(""))
    node = node_for_api_version(api_version="v1", kind="Pod")
    answers = []
    for i in range(3):
        obj = copy.deepcopy(MANIFESTS[0])
        obj["metadata"].update(name=f"web-{i}", uid=f"u-{i}", labels={"app": f"web-{i}", "tier": str(i)})
        obj["spec"]["nodeName"] = f"node-{i}"
        obj["spec"]["securityContext"] = {"runAsUser": i} if i else {}
        got = created.fields_v1(obj, node, drop=plan)
        assert got == reference(obj, subresource="")
        assert list(_walk_order(got)) == list(_walk_order(reference(obj, subresource="")))
        answers.append(got)
    assert answers[1] == answers[2]  # the same shape (1 and 2 differ in scalars only)
    answers[1]["f:spec"].clear()  # the answer is stored in the object: no two may share it
    assert answers[2]["f:spec"]
    other = copy.deepcopy(MANIFESTS[0])
    other["spec"]["containers"][0]["name"] = "renamed"  # list items are told apart by content
    assert created.fields_v1(other, node, drop=plan) == reference(other, subresource="")
