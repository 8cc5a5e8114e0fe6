"""x-kubernetes-validations: compiling, evaluating and reporting CEL rules."""

from __future__ import annotations

from typing import Any

import pytest

from kube.crd import compile_schema
from kube.crd.cel import CELCompileError, RuleRunner, compile_rule, compile_rules

SPEC = {
    "type": "object",
    "properties": {
        "replicas": {"type": "integer"},
        "maxReplicas": {"type": "integer"},
        "name": {"type": "string"},
        "mode": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "required": ["name"], "properties": {
                      "name": {"type": "string"}, "port": {"type": "integer"}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "when": {"type": "string", "format": "date-time"},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def run(rules: list[dict[str, Any]], spec: dict[str, Any], old: dict[str, Any] | None = None,
        schema: dict[str, Any] | None = None) -> list[str]:
    node = compile_schema({"type": "object", "properties": {
        "spec": {**(schema or SPEC), "x-kubernetes-validations": rules}}}, rules=compile_rules)
    runner = RuleRunner()
    runner.walk({"spec": spec}, {"spec": old} if old is not None else None, node, "", has_old=old is not None)
    return [str(e) for e in runner.errors]


def test_message_and_default_message() -> None:
    rule = {"rule": "self.replicas <= self.maxReplicas", "message": "too many"}
    assert run([rule], {"replicas": 3, "maxReplicas": 5}) == []
    assert run([rule], {"replicas": 6, "maxReplicas": 5}) == ['spec: Invalid value: "object": too many']
    bare = {"rule": "self.replicas <= self.maxReplicas"}
    assert run([bare], {"replicas": 6, "maxReplicas": 5}) == [
        'spec: Invalid value: "object": failed rule: self.replicas <= self.maxReplicas']


def test_message_expression_reason_and_field_path() -> None:
    rule = {"rule": "self.replicas <= 5", "messageExpression": "'replicas is ' + string(self.replicas)",
            "reason": "FieldValueForbidden", "fieldPath": ".replicas"}
    assert run([rule], {"replicas": 6}) == ["spec.replicas: Forbidden: replicas is 6"]
    required = {"rule": "has(self.name)", "reason": "FieldValueRequired", "message": "name is needed",
                "fieldPath": ".name"}
    assert run([required], {}) == ["spec.name: Required value: name is needed"]


@pytest.mark.parametrize(
    ("rule", "spec", "ok"),
    [
        ("has(self.name) ? self.name.startsWith('a') : true", {}, True),
        ("has(self.name) ? self.name.startsWith('a') : true", {"name": "bob"}, False),
        ("!has(self.mode) || self.mode in ['fast', 'slow']", {"mode": "fast"}, True),
        ("self.tags.all(t, t.size() <= 3)", {"tags": ["ab", "abcd"]}, False),
        ("self.tags.exists(t, t == 'x')", {"tags": ["x"]}, True),
        ("self.ports.map(p, p.port).isSorted()", {"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]}, True),
        ("self.labels.all(k, k.lowerAscii() == k)", {"labels": {"Ab": "x"}}, False),
        ("'env' in self.labels", {"labels": {"env": "prod"}}, True),
        ("self.name.matches('^[a-z]+$')", {"name": "ok"}, True),
        ("self.when < timestamp('2030-01-01T00:00:00Z')", {"when": "2024-01-01T00:00:00Z"}, True),
        ("self.tags.size() == 0 || self.tags.join(',') != ''", {"tags": ["a"]}, True),
        ("self.free.anything == 1", {"free": {"anything": 1}}, True),
    ],
)
def test_rules_evaluate(rule: str, spec: dict[str, Any], ok: bool) -> None:
    assert (run([{"rule": rule}], spec) == []) is ok


def test_transition_rules_run_only_on_update() -> None:
    rule = {"rule": "self.mode == oldSelf.mode", "message": "mode is immutable"}
    assert run([rule], {"mode": "a"}) == []
    assert run([rule], {"mode": "a"}, old={"mode": "a"}) == []
    assert run([rule], {"mode": "b"}, old={"mode": "a"}) == ['spec: Invalid value: "object": mode is immutable']


def test_rules_on_map_list_items_correlate_by_key() -> None:
    schema = {**SPEC, "properties": {**SPEC["properties"], "ports": {
        **SPEC["properties"]["ports"],
        "items": {**SPEC["properties"]["ports"]["items"],
                  "x-kubernetes-validations": [{"rule": "self.port >= oldSelf.port", "message": "no shrinking"}]},
    }}}
    old = {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 90}]}
    new = {"ports": [{"name": "b", "port": 10}, {"name": "a", "port": 80}, {"name": "c", "port": 1}]}
    assert run([], new, old=old, schema=schema) == ['spec.ports[0]: Invalid value: "object": no shrinking']


def test_evaluation_errors_are_reported_against_the_rule() -> None:
    found = run([{"rule": "self.name == 'x'"}], {})
    assert len(found) == 1 and found[0].startswith('spec: Invalid value: "object": ')
    assert found[0].endswith("evaluating rule: self.name == 'x'")


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("self.replicas <=", "Syntax error"),
        ("self.replcas > 1", "undefined field 'replcas'"),
        ("nosuch > 1", "undeclared reference to 'nosuch'"),
        ("self.name.frobnicate()", "undeclared reference to 'frobnicate'"),
        ("self.ports.all(p, p.nope > 1)", "undefined field 'nope'"),
    ],
)
def test_compile_errors(rule: str, problem: str) -> None:
    node = compile_schema(SPEC)
    with pytest.raises(CELCompileError) as err:
        compile_rule({"rule": rule}, node)
    assert str(err.value).startswith("compilation failed: ")
    assert problem in str(err.value)


def test_preserve_unknown_fields_allow_any_field() -> None:
    compile_rule({"rule": "self.free.whatever.deep == 1"}, compile_schema(SPEC))
