"""Pruning unknown fields (per fieldValidation) and applying defaults."""

from __future__ import annotations

import copy

import pytest

from kube.crd import compile_crd, compile_schema, prepare_create
from kube.crd.prune import apply_defaults, needs_defaults, prune
from kube.errors import Invalid
from kube.model import FieldValidation

from .fixtures import widget, widget_crd

SCHEMA = compile_schema({
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "known": {"type": "string"},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "map": {"type": "object", "additionalProperties": {
                    "type": "object", "properties": {"v": {"type": "string"}}}},
                "items": {"type": "array", "items": {"type": "object", "properties": {"v": {"type": "string"}}}},
                "embedded": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}}}},
            },
        },
    },
})


def test_prune_removes_unknown_fields_everywhere_and_reports_paths() -> None:
    obj = {
        "apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n", "bogus": 1},
        "extra": 1,
        "spec": {
            "known": "k", "unknown": 1,
            "free": {"anything": {"goes": True}},
            "map": {"a": {"v": "1", "w": "2"}},
            "items": [{"v": "1", "w": 2}],
            "embedded": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"a": "1", "b": 2}},
        },
    }
    pruned = prune(obj, SCHEMA)
    assert sorted(pruned) == sorted(["metadata.bogus", "extra", "spec.unknown", "spec.map[a].w", "spec.items[0].w",
                                     "spec.embedded.spec.b"])
    assert obj["spec"]["free"] == {"anything": {"goes": True}}
    assert obj["spec"]["embedded"]["kind"] == "Pod"
    assert obj["metadata"] == {"name": "n"}


def test_defaults_fill_absent_fields_top_down_and_drop_non_nullable_nulls() -> None:
    node = compile_schema({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "default": {}, "properties": {
                "replicas": {"type": "integer", "default": 1},
                "strategy": {"type": "object", "default": {"type": "Rolling"}, "properties": {
                    "type": {"type": "string"}, "maxSurge": {"type": "integer", "default": 25}}},
                "note": {"type": "string", "nullable": True, "default": "x"},
                "items": {"type": "array", "items": {"type": "object", "properties": {
                    "port": {"type": "integer", "default": 80}}}},
            }},
        },
    })
    obj: dict = {"spec": {"replicas": None, "note": None, "items": [{}, {"port": 8080}]}}
    assert needs_defaults(obj, node)
    apply_defaults(obj, node)
    assert obj["spec"] == {"replicas": 1, "note": None, "items": [{"port": 80}, {"port": 8080}],
                           "strategy": {"type": "Rolling", "maxSurge": 25}}
    assert not needs_defaults(obj, node)
    empty: dict = {}
    apply_defaults(empty, node)
    assert empty["spec"]["replicas"] == 1


@pytest.fixture
def version():  # type: ignore[no-untyped-def]
    crd = widget_crd()
    prepare_create(crd)
    return compile_crd(crd).versions["v1"]


def test_field_validation_modes(version) -> None:  # type: ignore[no-untyped-def]
    strict = widget(color="red")
    with pytest.raises(Invalid) as err:
        version.prepare_create(strict, mode=FieldValidation.STRICT)
    assert 'unknown field "spec.color"' in err.value.message
    assert err.value.code == 422
    warn = widget(color="red")
    assert version.prepare_create(warn, mode=FieldValidation.WARN) == ['unknown field "spec.color"']
    assert "color" not in warn["spec"]
    ignore = widget(color="red")
    assert version.prepare_create(ignore, mode=FieldValidation.IGNORE) == []
    assert "color" not in ignore["spec"]


def test_prepare_leaves_a_valid_object_defaulted(version) -> None:  # type: ignore[no-untyped-def]
    obj = widget()
    before = copy.deepcopy(obj)
    version.prepare_create(obj, mode=FieldValidation.STRICT)
    assert obj["spec"] == {**before["spec"], "replicas": 1, "maxReplicas": 5}
