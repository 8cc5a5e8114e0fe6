"""Schema validation of custom resources: every keyword, in Kubernetes' words."""

from __future__ import annotations

from typing import Any

import pytest

from kube.crd import compile_schema
from kube.crd.validate import validate_value


def errors(schema: dict[str, Any], value: Any) -> list[str]:
    node = compile_schema({"type": "object", "properties": {"x": schema}})
    return [str(e) for e in validate_value({"x": value}, node).errors]


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [
        ({"type": "integer"}, "3", 'x: Invalid value: "string": x in body must be of type integer: "string"'),
        ({"type": "integer"}, None, 'x: Invalid value: "null": x in body must be of type integer: "null"'),
        ({"type": "string"}, 1, 'x: Invalid value: "integer": x in body must be of type string: "integer"'),
        ({"type": "integer", "maximum": 10}, 11,
         'x: Invalid value: "integer": x in body should be less than or equal to 10'),
        ({"type": "integer", "maximum": 10, "exclusiveMaximum": True}, 10,
         'x: Invalid value: "integer": x in body should be less than 10'),
        ({"type": "integer", "minimum": 1}, 0,
         'x: Invalid value: "integer": x in body should be greater than or equal to 1'),
        ({"type": "number", "minimum": 0.5, "exclusiveMinimum": True}, 0.5,
         'x: Invalid value: "number": x in body should be greater than 0.5'),
        ({"type": "integer", "multipleOf": 3}, 4, 'x: Invalid value: "integer": x in body should be a multiple of 3'),
        ({"type": "string", "enum": ["a", "b"]}, "c", 'x: Unsupported value: "c": supported values: "a", "b"'),
        ({"type": "integer", "enum": [1, 2]}, 3, 'x: Unsupported value: 3: supported values: "1", "2"'),
        ({"type": "string", "pattern": "^[a-z]+$"}, "A",
         "x: Invalid value: \"string\": x in body should match '^[a-z]+$'"),
        ({"type": "string", "minLength": 2}, "a", 'x: Invalid value: "string": x in body should be at least 2 chars long'),
        ({"type": "string", "maxLength": 2}, "abc", "x: Too long: must have at most 2 bytes"),
        ({"type": "array", "items": {"type": "string"}, "minItems": 1}, [],
         'x: Invalid value: "array": x in body should have at least 1 items'),
        ({"type": "array", "items": {"type": "string"}, "maxItems": 1}, ["a", "b"],
         "x: Too many: 2: must have at most 1 items"),
        ({"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}}, {},
         'x: Invalid value: "object": x in body should have at least 1 properties'),
        ({"type": "string", "format": "date-time"}, "yesterday",
         'x: Invalid value: "string": x in body must be of type date-time: "yesterday"'),
        ({"type": "integer", "format": "int32"}, 2**31,
         'x: Invalid value: "integer": x in body must be of type int32: "2147483648"'),
        ({"x-kubernetes-int-or-string": True}, 1.5,
         'x: Invalid value: "number": x in body must be of type integer,string: "number"'),
        ({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}, {}, "x.a: Required value"),
        ({"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}, ["a", "a"],
         'x[1]: Duplicate value: "a"'),
        ({"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
          "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}},
         [{"name": "a"}, {"name": "a"}], 'x[1]: Duplicate value: {"name":"a"}'),
        ({"type": "object", "x-kubernetes-embedded-resource": True, "x-kubernetes-preserve-unknown-fields": True},
         {"metadata": {}}, "x.apiVersion: Required value: must not be empty"),
        ({"type": "string", "anyOf": [{"enum": ["a"]}, {"pattern": "^b"}]}, "c",
         'x: Invalid value: "string": x in body must validate at least one schema (anyOf)'),
        ({"type": "string", "not": {"enum": ["a"]}}, "a",
         'x: Invalid value: "string": x in body must not validate the schema (not)'),
    ],
)
def test_keyword_messages(schema: dict[str, Any], value: Any, expected: str) -> None:
    assert expected in errors(schema, value)


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "integer"}, 3),
        ({"type": "integer"}, 3.0),  # JSON has no integer type; an integral number is one
        ({"type": "number"}, 3),
        ({"type": "string", "nullable": True}, None),
        ({"x-kubernetes-int-or-string": True}, "50%"),
        ({"x-kubernetes-int-or-string": True}, 8080),
        ({"type": "object", "x-kubernetes-preserve-unknown-fields": True}, {"anything": [1, {"b": None}]}),
        ({"type": "string", "format": "date-time"}, "2024-05-01T10:00:00Z"),
        ({"type": "string", "format": "no-such-format"}, "whatever"),
    ],
)
def test_valid_values(schema: dict[str, Any], value: Any) -> None:
    assert errors(schema, value) == []


def test_every_problem_is_reported() -> None:
    node = compile_schema({
        "type": "object",
        "required": ["spec"],
        "properties": {"spec": {"type": "object", "properties": {
            "a": {"type": "integer", "maximum": 1}, "b": {"type": "string", "enum": ["x"]}}}},
    })
    found = [str(e) for e in validate_value({"spec": {"a": 2, "b": "y"}}, node).errors]
    assert len(found) == 2
    assert [str(e) for e in validate_value({}, node).errors] == ["spec: Required value"]


def test_map_values_are_checked_with_bracket_paths() -> None:
    found = errors({"type": "object", "additionalProperties": {"type": "integer"}}, {"k": "v"})
    assert found == ['x[k]: Invalid value: "string": x[k] in body must be of type integer: "string"']
