"""JSON patch (RFC 6902): operations, and the Status codes kube-apiserver answers with."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kube.errors import BadRequest, Invalid, TooLarge
from kube.patch import json_patch

DOC: dict[str, Any] = {
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "cm", "labels": {"a": "1"}},
    "data": {"k": "v"},
    "list": [1, 2, 3],
}

OPERATIONS = [
    pytest.param([{"op": "add", "path": "/data/n", "value": "x"}], {"data": {"k": "v", "n": "x"}}, id="add"),
    pytest.param([{"op": "remove", "path": "/metadata/labels/a"}], {"metadata": {"name": "cm", "labels": {}}},
                 id="remove"),
    pytest.param([{"op": "replace", "path": "/data/k", "value": "w"}], {"data": {"k": "w"}}, id="replace"),
    pytest.param([{"op": "move", "from": "/data/k", "path": "/data/m"}], {"data": {"m": "v"}}, id="move"),
    pytest.param([{"op": "copy", "from": "/data/k", "path": "/data/c"}], {"data": {"k": "v", "c": "v"}}, id="copy"),
    pytest.param([{"op": "test", "path": "/data/k", "value": "v"}, {"op": "add", "path": "/list/-", "value": 4}],
                 {"list": [1, 2, 3, 4]}, id="test then append"),
    pytest.param([{"op": "add", "path": "/list/0", "value": 0}], {"list": [0, 1, 2, 3]}, id="insert"),
    pytest.param([{"op": "add", "path": "/metadata/labels/a~1b", "value": "2"}],
                 {"metadata": {"name": "cm", "labels": {"a": "1", "a/b": "2"}}}, id="escaped slash in a key"),
    pytest.param([], {}, id="no operations"),
]


@pytest.mark.parametrize(("ops", "changes"), OPERATIONS)
def test_operations(ops: list[Any], changes: dict[str, Any]) -> None:
    assert json_patch(DOC, ops) == {**DOC, **changes}


UNAPPLICABLE = [
    pytest.param([{"op": "test", "path": "/data/k", "value": "other"}], id="failed test"),
    pytest.param([{"op": "remove", "path": "/data/missing"}], id="remove a missing key"),
    pytest.param([{"op": "replace", "path": "/data/missing", "value": 1}], id="replace a missing key"),
    pytest.param([{"op": "add", "path": "/nope/deeper", "value": 1}], id="add below a missing parent"),
    pytest.param([{"op": "add", "path": "/list/9", "value": 1}], id="index out of range"),
    pytest.param([{"op": "frobnicate", "path": "/data"}], id="unknown op"),
    pytest.param([{"path": "/data"}], id="no op"),
    pytest.param([{"op": "add", "path": "/data/x"}], id="add without value"),
    pytest.param([{"op": "add", "path": "data/x", "value": 1}], id="path not a pointer"),
    pytest.param([{"op": "move", "from": "/nope", "path": "/data/x"}], id="move from a missing path"),
]


@pytest.mark.parametrize("ops", UNAPPLICABLE)
def test_operations_that_cannot_apply_are_422(ops: list[Any]) -> None:
    with pytest.raises(Invalid) as raised:
        json_patch(DOC, ops)
    status = raised.value.status()
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["message"] == "the server rejected our request due to an error in our request"


@pytest.mark.parametrize(("body", "word"), [({"op": "add"}, "object"), ("x", "string"), (None, "null")])
def test_a_body_that_is_not_a_list_is_400(body: Any, word: str) -> None:
    with pytest.raises(BadRequest) as raised:
        json_patch(DOC, body)
    assert raised.value.message == (
        f"error decoding patch: json: cannot unmarshal {word} into Go value of type []handlers.jsonPatchOp")


def test_an_operation_that_is_not_an_object_is_400() -> None:
    with pytest.raises(BadRequest) as raised:
        json_patch(DOC, ["add"])
    assert "cannot unmarshal string into Go value of type handlers.jsonPatchOp" in raised.value.message


def test_too_many_operations_is_413() -> None:
    ops = [{"op": "test", "path": "/data/k", "value": "v"}] * 10001
    with pytest.raises(TooLarge) as raised:
        json_patch(DOC, ops)
    assert raised.value.code == 413
    assert raised.value.message == "The allowed maximum operations in a JSON patch is 10000, got 10001"


def test_a_result_that_is_not_an_object_is_invalid() -> None:
    with pytest.raises(Invalid) as raised:
        json_patch(DOC, [{"op": "replace", "path": "", "value": [1]}])
    assert raised.value.message.startswith(' "" is invalid: patch: Invalid value: "[1]"')


def test_inputs_are_not_mutated_and_results_share_nothing() -> None:
    doc, value = copy.deepcopy(DOC), {"nested": ["x"]}
    ops = [{"op": "add", "path": "/data/obj", "value": value}, {"op": "remove", "path": "/list/0"}]
    before = copy.deepcopy(ops)
    out = json_patch(doc, ops)
    assert doc == DOC and ops == before
    out["data"]["obj"]["nested"].append("y")
    assert value == {"nested": ["x"]}
