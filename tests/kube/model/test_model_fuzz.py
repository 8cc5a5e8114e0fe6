"""Bad input never escapes as anything but a Kubernetes Status error.

Random JSON-like junk, and valid manifests with random parts replaced by junk, go
through ``prepare_create``/``prepare_update``: the only exceptions allowed out are
``Invalid`` (422) and ``BadRequest`` (400) — never TypeError, KeyError, ....
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kube.errors import BadRequest, Invalid
from kube.model import FieldValidation, prepare_create, prepare_update

_KINDS = [
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "Secret"),
    ("batch/v1", "Job"),
    ("apps/v1", "DaemonSet"),
    ("v1", "Namespace"),
    ("policy/v1", "PodDisruptionBudget"),
    ("coordination.k8s.io/v1", "Lease"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
]
_EXTRA: list[dict[str, Any]] = [
    {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": "n", "uid": "u"},
     "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}},
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d", "namespace": "n"},
     "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                                                                   "spec": {"containers": [{"name": "c", "image": "x"}]}}}},
    {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p", "namespace": "n"},
     "spec": {"maxUnavailable": "10%", "selector": {"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"]}]}}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"},
     "roleRef": {"kind": "ClusterRole", "name": "r"}, "subjects": [{"kind": "User", "name": "u"}]},
]  # fmt: skip

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        ["", "0", "1Gi", "-1", "100%", "None", "Always", "TCP", "In", "a b", "..", "latest", "x" * 70]
    )
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# The manifests fixture is only read (each example deep-copies it), so sharing it
# between examples is safe.
_FAST = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
_MODES = st.sampled_from(list(FieldValidation))


def _survives(obj: Any, mode: FieldValidation, old: dict[str, Any] | None = None) -> None:
    try:
        if old is None:
            warnings = prepare_create(obj, mode=mode)
        else:
            warnings = prepare_update(obj, old=old, mode=mode)
    except (Invalid, BadRequest) as err:
        err.to_json()  # the Status must serialize, too
        return
    assert isinstance(warnings, list) and all(isinstance(w, str) for w in warnings)


@_FAST
@given(body=_json, kind=st.sampled_from(_KINDS), mode=_MODES)
def test_random_json_yields_only_status_errors(
    body: Any, kind: tuple[str, str], mode: FieldValidation
) -> None:
    if isinstance(body, dict):
        body = {**body, "apiVersion": kind[0], "kind": kind[1]}
    _survives(body, mode)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _same_type(value: Any) -> st.SearchStrategy[Any]:
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.sampled_from(
            [0, -1, 1, 65536, 2**31 - 1]
        )
    if isinstance(value, str):
        return st.text(max_size=12) | st.sampled_from(
            ["", "-1", "0", "1e3", "10%", "None", "a/b/c", "A", ".."]
        )
    if isinstance(value, list):
        return st.just([]) | st.just(value + value[:1]) | st.just(value[:1])
    if isinstance(value, dict):
        return st.just({})
    return st.none()


def _mutate(data: st.DataObject, original: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        paths = [p for p in _paths(obj) if p and p[0] not in ("apiVersion", "kind")]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent: Any = obj
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["replace", "delete", "add", "same-type", "same-type"]))
        if action == "same-type":
            # Keep the JSON type so that the change reaches defaulting and the semantic rules.
            parent[path[-1]] = data.draw(_same_type(parent[path[-1]]))
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][data.draw(st.text(max_size=8))] = data.draw(_json)
        else:
            parent[path[-1]] = data.draw(_json)
    return obj


@_FAST
@given(data=st.data(), mode=_MODES)
def test_mutated_manifests_yield_only_status_errors(
    manifests: list[dict[str, Any]], data: st.DataObject, mode: FieldValidation
) -> None:
    original = data.draw(st.sampled_from([*manifests, *_EXTRA]))
    mutated = _mutate(data, original)
    _survives(copy.deepcopy(mutated), mode)
    # The same change as an update of the stored original.
    old = copy.deepcopy(original)
    old["metadata"]["uid"] = "u"
    prepare_create(old, mode=FieldValidation.STRICT)
    old["metadata"]["resourceVersion"] = "3"
    _survives(mutated, mode, old=old)


def test_non_objects_are_bad_requests() -> None:
    bodies: list[Any] = [[], "pod", 3, None]
    for body in bodies:
        try:
            prepare_create(body, mode=FieldValidation.STRICT)
        except BadRequest as err:
            assert err.code == 400
        else:
            raise AssertionError("expected BadRequest")
