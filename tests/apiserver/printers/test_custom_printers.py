"""Custom resources printed from CRD additionalPrinterColumns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apiserver.printers import ResourceKey, register_custom, table_for, unregister
from apiserver.printers.custom import go_float_text, go_json, go_text
from apiserver.printers.docs import CREATION_TIMESTAMP
from kube.resources import ResourceInfo

from .conftest import NOW

WIDGETS = ResourceInfo(
    group="example.com", version="v1", kind="Widget", resource="widgets", singular="widget", namespaced=True
)
WIDGET = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w1", "namespace": "default", "creationTimestamp": "2025-06-01T11:58:00Z"},
    "spec": {
        "replicas": 3,
        "ratio": 0.25,
        "paused": False,
        "owner": "team-a",
        "extra": {"b": [1, 2.5], "a": "<x>"},
    },
    "status": {
        "startTime": "2025-06-01T09:00:00Z",
        "conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}],
    },
}


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield
    unregister(ResourceKey(group="example.com", resource="widgets"))
    unregister(ResourceKey(group="example.com", resource="widgets", version="v1"))


def table(obj: dict[str, Any] = WIDGET) -> dict[str, Any]:
    return table_for(info=WIDGETS, objects=[obj], now=NOW, include_object="Object")


def test_without_a_crd_printer_the_default_table_is_used() -> None:
    assert [c["name"] for c in table()["columnDefinitions"]] == ["Name", "Created At"]


def test_a_crd_without_columns_prints_name_and_age() -> None:
    register_custom(group="example.com", resource="widgets", printer_columns=[])
    result = table()
    assert result["columnDefinitions"][1] == {
        "name": "Age",
        "type": "date",
        "format": "",
        "description": CREATION_TIMESTAMP,
        "priority": 0,
    }
    assert result["rows"][0]["cells"] == ["w1", "2m"]
    assert result["rows"][0]["object"] == WIDGET


def test_typed_columns() -> None:
    register_custom(
        group="example.com",
        resource="widgets",
        printer_columns=[
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
            {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
            {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio", "format": "float"},
            {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused"},
            {
                "name": "Started",
                "type": "date",
                "jsonPath": ".status.startTime",
                "description": "When it began",
            },
            {"name": "Owner", "type": "string", "jsonPath": ".spec.owner", "priority": 1},
            {"name": "Extra", "type": "string", "jsonPath": ".spec.extra", "priority": 1},
            {"name": "Missing", "type": "string", "jsonPath": ".spec.nothing"},
        ],
    )
    result = table()
    assert [(c["name"], c["type"], c["format"], c["priority"]) for c in result["columnDefinitions"]] == [
        ("Name", "string", "name", 0),
        ("Replicas", "integer", "", 0),
        ("Ready", "string", "", 0),
        ("Ratio", "number", "float", 0),
        ("Paused", "boolean", "", 0),
        ("Started", "date", "", 0),
        ("Owner", "string", "", 1),
        ("Extra", "string", "", 1),
        ("Missing", "string", "", 0),
    ]
    descriptions = [c["description"] for c in result["columnDefinitions"]]
    assert descriptions[1] == "Custom resource definition column (in JSONPath format): .spec.replicas"
    assert descriptions[5] == "When it began"
    assert result["rows"][0]["cells"] == [
        "w1",
        3,
        "True",
        0.25,
        False,
        "3h",
        "team-a",
        '{"a":"\\u003cx\\u003e","b":[1,2.5]}',
        None,
    ]


@pytest.mark.parametrize(
    ("column_type", "value", "expected"),
    [
        ("integer", 2.9, 2),
        ("integer", "3", None),
        ("integer", True, None),
        ("number", 4, 4.0),
        ("boolean", "true", None),
        ("date", "not a time", "<invalid>"),
        ("date", "", "<unknown>"),
        ("date", 5, None),
        ("string", 5, "5"),
        ("string", 1e6, "1e+06"),
        ("string", True, "true"),
        ("string", None, "<no value>"),
    ],
)
def test_values_of_the_wrong_type(column_type: str, value: Any, expected: Any) -> None:
    register_custom(
        group="example.com",
        resource="widgets",
        printer_columns=[{"name": "V", "type": column_type, "jsonPath": ".spec.v"}],
    )
    cells = table({"metadata": {"name": "w"}, "spec": {"v": value}})["rows"][0]["cells"]
    assert cells == ["w", expected]


def test_an_invalid_path_keeps_the_columns_before_it(caplog: pytest.LogCaptureFixture) -> None:
    register_custom(
        group="example.com",
        resource="widgets",
        printer_columns=[
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
            {"name": "Broken", "type": "string", "jsonPath": ".spec[?(@.x =="},
            {"name": "Owner", "type": "string", "jsonPath": ".spec.owner"},
        ],
    )
    assert [c["name"] for c in table()["columnDefinitions"]] == ["Name", "Replicas"]
    assert "invalid printer column" in caplog.text


def test_columns_per_version() -> None:
    register_custom(
        group="example.com",
        resource="widgets",
        printer_columns=[{"name": "Owner", "type": "string", "jsonPath": ".spec.owner"}],
    )
    register_custom(
        group="example.com",
        resource="widgets",
        version="v1",
        printer_columns=[{"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}],
    )
    assert table()["rows"][0]["cells"] == ["w1", 3]
    unregister(ResourceKey(group="example.com", resource="widgets", version="v1"))
    assert table()["rows"][0]["cells"] == ["w1", "team-a"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0"),
        (1.0, "1"),
        (2.5, "2.5"),
        (123456.0, "123456"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-3.5e21, "-3.5e+21"),
    ],
)
def test_go_float_text(value: float, expected: str) -> None:
    assert go_float_text(value) == expected


def test_go_json() -> None:
    assert (
        go_json({"b": [1.0, 1e21, 1e-7, None], "a": "x&y", "c": True})
        == '{"a":"x\\u0026y","b":[1,1e+21,1e-7,null],"c":true}'
    )
    assert go_text(["é"]) == '["é"]'
