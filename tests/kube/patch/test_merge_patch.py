"""JSON merge patch: the examples of RFC 7386 appendix A, and Kubernetes' refinements."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kube.errors import BadRequest
from kube.patch import merge_patch

# RFC 7386, Appendix A (the cases whose target and patch are objects, as PATCH bodies are).
RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("doc", "patch", "result"), RFC_EXAMPLES)
def test_rfc7386_examples(doc: dict[str, Any], patch: dict[str, Any], result: dict[str, Any]) -> None:
    assert merge_patch(doc, patch) == result


def test_kubectl_scale_body() -> None:
    scale = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "d"},
             "spec": {"replicas": 1}, "status": {"replicas": 1}}
    out = merge_patch(scale, {"spec": {"replicas": 3}})
    assert out == {**scale, "spec": {"replicas": 3}}


def test_lists_are_replaced_whole() -> None:
    doc = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}
    assert merge_patch(doc, {"spec": {"containers": [{"name": "a", "image": "y"}]}}) == {
        "spec": {"containers": [{"name": "a", "image": "y"}]}}


def test_nulls_in_objects_inside_placed_lists_are_dropped() -> None:
    # evanphx/json-patch (kube-apiserver's library) prunes these; the RFC would keep them.
    assert merge_patch({}, {"a": [{"b": None, "c": 1}, None]}) == {"a": [{"c": 1}, None]}


def test_a_patch_that_is_not_an_object_is_400() -> None:
    with pytest.raises(BadRequest) as raised:
        merge_patch({"a": 1}, ["c"])  # type: ignore[arg-type]
    assert raised.value.message == (
        "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}")


def test_inputs_are_not_mutated_and_results_share_nothing() -> None:
    doc = {"a": {"b": [1]}, "c": {"d": 1}}
    patch = {"a": {"e": {"f": [1]}}, "c": None, "g": {"h": None}}
    doc_before, patch_before = copy.deepcopy(doc), copy.deepcopy(patch)
    out = merge_patch(doc, patch)
    assert out == {"a": {"b": [1], "e": {"f": [1]}}, "g": {}}
    assert doc == doc_before and patch == patch_before
    out["a"]["b"].append(2)
    out["a"]["e"]["f"].append(2)
    assert doc == doc_before and patch == patch_before
