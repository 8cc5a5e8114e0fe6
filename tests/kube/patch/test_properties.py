"""Properties every patch flavour must keep, checked on generated documents."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kube.patch import apply_patch, json_patch, merge_patch, strategic_merge_patch
from kube.patch import fieldpath as fp

SETTINGS = settings(max_examples=50, deadline=None)

keys = st.text(alphabet="abcxyz", min_size=1, max_size=3)
scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(alphabet="ab", max_size=2)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                           max_leaves=12)
documents = st.dictionaries(keys, json_values, max_size=4)
# Maps without lists: where strategic merge and JSON merge patch must agree.
list_free = st.recursive(scalars, lambda inner: st.dictionaries(keys, inner, max_size=3), max_leaves=10)
list_free_documents = st.dictionaries(keys | st.sampled_from(["spec", "metadata"]), list_free, max_size=4)

containers = st.lists(st.fixed_dictionaries({"name": st.sampled_from("abcd"), "image": st.text("xy", max_size=2)}),
                      max_size=4, unique_by=lambda c: c["name"])
pods = st.builds(lambda extra, cs, labels: {**extra, "apiVersion": "v1", "kind": "Pod",
                                            "metadata": {"name": "p", "labels": labels},
                                            "spec": {"containers": cs}},
                 documents, containers, st.dictionaries(keys, st.text("ab", max_size=2), max_size=3))


def smp(doc: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    return strategic_merge_patch(doc, patch, group="", version="v1", kind="Pod")


@SETTINGS
@given(documents)
def test_an_empty_merge_patch_is_identity(doc: dict[str, Any]) -> None:
    assert merge_patch(doc, {}) == doc


@SETTINGS
@given(pods)
def test_an_empty_strategic_patch_is_identity(doc: dict[str, Any]) -> None:
    assert smp(doc, {}) == doc


@SETTINGS
@given(list_free_documents, list_free_documents)
def test_without_lists_strategic_merge_is_json_merge(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    assert smp(doc, patch) == merge_patch(doc, patch)


@SETTINGS
@given(documents, documents)
def test_merge_patch_never_mutates_its_inputs(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    doc_before, patch_before = copy.deepcopy(doc), copy.deepcopy(patch)
    merge_patch(doc, patch)
    assert doc == doc_before and patch == patch_before


@SETTINGS
@given(pods, pods)
def test_strategic_patch_never_mutates_its_inputs(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    patch = {"metadata": patch["metadata"], "spec": {
        "$setElementOrder/containers": [{"name": c["name"]} for c in patch["spec"]["containers"]],
        "containers": patch["spec"]["containers"]}}
    doc_before, patch_before = copy.deepcopy(doc), copy.deepcopy(patch)
    smp(doc, patch)
    assert doc == doc_before and patch == patch_before


@SETTINGS
@given(documents, keys, json_values)
def test_json_patch_never_mutates_its_inputs(doc: dict[str, Any], key: str, value: Any) -> None:
    ops = [{"op": "add", "path": f"/{key}", "value": value}]
    doc_before, ops_before = copy.deepcopy(doc), copy.deepcopy(ops)
    out = json_patch(doc, ops)
    assert out[key] == value
    assert doc == doc_before and ops == ops_before


configmap_data = st.dictionaries(keys, st.text("ab", max_size=2), max_size=4)


@SETTINGS
@given(configmap_data, configmap_data)
def test_a_sole_applier_ends_with_exactly_what_it_applied(first: dict[str, str], second: dict[str, str]) -> None:
    def cm(data: dict[str, str]) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": data}

    def apply(current: dict[str, Any] | None, config: dict[str, Any]) -> dict[str, Any]:
        return apply_patch(current, config, manager="m", force=False, group="", version="v1", kind="ConfigMap")

    live = apply(None, cm(first))
    live_before = copy.deepcopy(live)
    out = apply(live, cm(second))
    assert live == live_before
    assert out.get("data", {}) == second
    assert apply(out, cm(second)) == out


paths = st.lists(st.one_of(
    keys.map(fp.field),
    st.sampled_from("ab").map(lambda n: fp.key({"name": n})),
    st.integers(0, 3).map(fp.value),
    st.integers(0, 3).map(fp.index),
), min_size=1, max_size=4).map(tuple)


@SETTINGS
@given(st.sets(paths, max_size=8))
def test_fields_v1_round_trips(field_set: set[fp.Path]) -> None:
    assert fp.from_fields_v1(fp.to_fields_v1(field_set)) == field_set
