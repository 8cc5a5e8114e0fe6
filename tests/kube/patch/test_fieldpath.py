"""Field paths: the fieldsV1 encoding and the printed form conflicts use."""

from __future__ import annotations

import pytest

from kube.patch import fieldpath as fp


def test_fields_v1_marks_members_that_have_children_with_a_dot() -> None:
    paths = {
        ("f:metadata", "f:labels"),
        ("f:metadata", "f:labels", "f:app"),
        ("f:spec", "f:containers", 'k:{"name":"c"}'),
        ("f:spec", "f:containers", 'k:{"name":"c"}', "f:image"),
        ("f:spec", "f:replicas"),
    }
    encoded = fp.to_fields_v1(paths)
    assert encoded == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}}}, "f:replicas": {}},
    }
    assert fp.from_fields_v1(encoded) == paths


def test_elements_sort_fields_then_keys_then_values_then_indexes() -> None:
    elements = ["i:1", 'v:"b"', 'k:{"name":"b"}', "f:z", "v:2", 'k:{"name":"a"}', "f:a", "i:0"]
    assert sorted(elements, key=fp.sort_key) == [
        "f:a", "f:z", 'k:{"name":"a"}', 'k:{"name":"b"}', "v:2", 'v:"b"', "i:0", "i:1"]


def test_keys_are_canonical_json() -> None:
    assert fp.key({"protocol": "TCP", "containerPort": 80}) == 'k:{"containerPort":80,"protocol":"TCP"}'
    assert fp.value("a<b") == 'v:"a\\u003cb"'


@pytest.mark.parametrize(("path", "text"), [
    (("f:spec", "f:replicas"), ".spec.replicas"),
    (("f:spec", "f:containers", 'k:{"name":"c"}', "f:image"), '.spec.containers[name="c"].image'),
    (("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}'), '.spec.ports[port=80,protocol="TCP"]'),
    (("f:metadata", "f:finalizers", 'v:"x"'), '.metadata.finalizers[="x"]'),
    (("f:args", "i:2"), ".args[2]"),
])
def test_describe(path: fp.Path, text: str) -> None:
    assert fp.describe(path) == text


@pytest.mark.parametrize("bad", [{"x:y": {}}, {"f:a": []}, {"k:{oops": {}}, []])
def test_malformed_fields_v1_is_a_value_error(bad: object) -> None:
    with pytest.raises(ValueError):
        fp.from_fields_v1(bad)
