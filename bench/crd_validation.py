"""Cost of a custom resource write's schema pipeline per object (not a test).

Every create or update of a custom resource runs its CRD version's pipeline
(``kube.crd.Version.prepare``: prune, default, validate, CEL rules), so its cost is a
floor under custom resource writes per second; the target is well under 1 ms. Prints
µs per object for a Widget-like resource with a dozen typed fields, split into the
schema walk (prune + defaults + validation) and the CEL rules, with and without rules,
and the anchor of the same run: ``kube.model.prepare_create`` of a built-in
ConfigMap of similar size (what a built-in write pays).

    .venv/bin/python bench/crd_validation.py [rounds]
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable
from typing import Any

from kube import crd as kcrd
from kube import model
from kube.model import FieldValidation

SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["size"],
    "properties": {
        "size": {"type": "string", "enum": ["small", "medium", "large"]},
        "replicas": {"type": "integer", "minimum": 0, "maximum": 100, "default": 1},
        "maxReplicas": {"type": "integer", "default": 10},
        "image": {"type": "string", "pattern": "^[a-z0-9./:-]+$", "maxLength": 200},
        "port": {"x-kubernetes-int-or-string": True},
        "schedule": {"type": "string", "format": "date-time"},
        "env": {"type": "array", "maxItems": 20, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string"}, "value": {"type": "string"}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "resources": {"type": "object", "properties": {
            "cpu": {"type": "string"}, "memory": {"type": "string"}}},
    },
}
RULES = [
    {"rule": "self.replicas <= self.maxReplicas", "message": "replicas must not exceed maxReplicas"},
    {"rule": "!has(self.port) || type(self.port) == string || self.port > 0"},
]

OBJECT: dict[str, Any] = {
    "apiVersion": "bench.example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w-1", "namespace": "default", "labels": {"app": "w", "tier": "web"}},
    "spec": {
        "size": "medium", "replicas": 3, "image": "registry.example.com/widget:1.2.3", "port": 8080,
        "schedule": "2025-01-01T10:00:00Z",
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}],
        "labels": {"team": "x", "cost": "y"}, "resources": {"cpu": "250m", "memory": "256Mi"},
    },
}
CONFIGMAP: dict[str, Any] = {
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "c-1", "namespace": "default", "labels": {"app": "w", "tier": "web"}},
    "data": {f"key{i}": f"value {i}" for i in range(12)},
}


def _version(*, rules: bool) -> kcrd.Version:
    spec = copy.deepcopy(SPEC_SCHEMA)
    if rules:
        spec["x-kubernetes-validations"] = RULES
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.bench.example.com"},
        "spec": {"group": "bench.example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}}}]},
    }
    kcrd.prepare_create(crd)
    return kcrd.compile_crd(crd).versions["v1"]


def _per_object(fn: Callable[[dict[str, Any]], object], template: dict[str, Any], rounds: int) -> float:
    objs = [copy.deepcopy(template) for _ in range(rounds)]
    started = time.perf_counter()
    for obj in objs:
        fn(obj)
    return (time.perf_counter() - started) / rounds * 1e6


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    plain, with_rules = _version(rules=False), _version(rules=True)
    for version in (plain, with_rules):
        version.prepare_create(copy.deepcopy(OBJECT), mode=FieldValidation.STRICT)  # warm up
    schema_only = _per_object(lambda o: plain.prepare_create(o, mode=FieldValidation.STRICT), OBJECT, rounds)
    full = _per_object(lambda o: with_rules.prepare_create(o, mode=FieldValidation.STRICT), OBJECT, rounds)
    anchor = _per_object(lambda o: model.prepare_create(o, mode=FieldValidation.STRICT), CONFIGMAP, rounds)
    print(f"custom resource prepare: schema only {schema_only:.1f} µs; with {len(RULES)} CEL rules {full:.1f} µs "
          f"(CEL {full - schema_only:.1f} µs)")
    print(f"anchor: kube.model.prepare_create(configmap) {anchor:.1f} µs; custom resource / configmap = "
          f"{full / anchor:.1f}")


if __name__ == "__main__":
    main()
