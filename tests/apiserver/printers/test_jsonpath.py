"""The JSONPath subset that printer columns use."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.printers import JSONPathError, parse_jsonpath

DATA: dict[str, Any] = {
    "metadata": {"name": "w", "labels": {"app.kubernetes.io/name": "web", "tier": "front"}},
    "spec": {"replicas": 3, "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]},
    "status": {
        "conditions": [
            {"type": "Ready", "status": "True", "since": 5},
            {"type": "Synced", "status": "False", "since": 9},
        ]
    },
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".spec.replicas", [3]),
        ("{.spec.replicas}", [3]),
        (".spec.missing", []),
        (".spec.replicas.deeper", []),
        (".metadata.labels['app.kubernetes.io/name']", ["web"]),
        ('.metadata.labels["tier"]', ["front"]),
        (".spec.ports[0].port", [80]),
        (".spec.ports[-1].name", ["https"]),
        (".spec.ports[5].name", []),
        (".spec.ports[*].port", [80, 443]),
        (".spec.ports[0:1].name", ["http"]),
        (".spec.ports.*.name", ["http", "https"]),
        (".metadata.labels.*", ["web", "front"]),
        ('.status.conditions[?(@.type=="Ready")].status', ["True"]),
        (".status.conditions[?(@.type == 'Synced')].status", ["False"]),
        ('.status.conditions[?(@.type!="Ready")].type', ["Synced"]),
        (".status.conditions[?(@.since > 6)].type", ["Synced"]),
        (".status.conditions[?(@.since <= 5)].type", ["Ready"]),
        (".status.conditions[?(@.since)].type", ["Ready", "Synced"]),
        (".status.conditions[?(@.nope)].type", []),
        ("..port", [80, 443]),
        (".spec..name", ["http", "https"]),
    ],
)
def test_find(path: str, expected: list[Any]) -> None:
    assert parse_jsonpath(path).find(DATA) == expected


@pytest.mark.parametrize(
    "path", ["spec.replicas", ".spec[", ".spec[?(@.x ==", ".a[?(x)]", ".a['open]", ".a[x]"]
)
def test_invalid_paths(path: str) -> None:
    with pytest.raises(JSONPathError):
        parse_jsonpath(path)


def test_comparing_incomparable_values_is_an_error() -> None:
    with pytest.raises(JSONPathError):
        parse_jsonpath('.status.conditions[?(@.since=="5")].type').find(DATA)
