"""Server-side apply on custom resources follows the CRD's list types."""

from __future__ import annotations

from typing import Any

import pytest

from kube import patch as kpatch
from kube.crd import compile_schema, nodes

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                          "items": {"type": "object", "required": ["name"], "properties": {
                              "name": {"type": "string"}, "port": {"type": "integer"}}}},
                "args": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}


@pytest.fixture(autouse=True)
def registered() -> Any:
    nodes.register(group="ssa.example.com", version="v1", kind="Thing", schema=compile_schema(SCHEMA))
    yield
    nodes.unregister(group="ssa.example.com", version="v1", kind="Thing")


def thing(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "ssa.example.com/v1", "kind": "Thing", "metadata": {"name": "t", "namespace": "default"},
            "spec": spec}


def apply(current: dict[str, Any] | None, config: dict[str, Any], manager: str) -> dict[str, Any]:
    return kpatch.apply_patch(current, config, manager=manager, force=False, group="ssa.example.com",
                              version="v1", kind="Thing")


def test_map_lists_merge_by_key_between_managers() -> None:
    one = apply(None, thing(ports=[{"name": "http", "port": 80}]), "a")
    two = apply(one, thing(ports=[{"name": "https", "port": 443}]), "b")
    assert two["spec"]["ports"] == [{"name": "http", "port": 80}, {"name": "https", "port": 443}]
    owners = {m["manager"]: m["fieldsV1"] for m in two["metadata"]["managedFields"]}
    assert 'k:{"name":"https"}' in owners["b"]["f:spec"]["f:ports"]


def test_atomic_lists_are_replaced_and_conflict() -> None:
    one = apply(None, thing(args=["a"]), "a")
    with pytest.raises(Exception, match="conflict"):
        apply(one, thing(args=["b"]), "b")


def test_finalizers_are_a_set() -> None:
    config = thing()
    config["metadata"]["finalizers"] = ["x/one"]
    one = apply(None, config, "a")
    other = thing()
    other["metadata"]["finalizers"] = ["x/two"]
    two = apply(one, other, "b")
    assert two["metadata"]["finalizers"] == ["x/one", "x/two"]
