"""The Table envelope, the includeObject modes, the default table, and coverage of
every served kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apiserver.printers import DEFAULT_COLUMNS, columns_for, table_for
from apiserver.printers.docs import FIELD_DOCS
from kube.errors import BadRequest
from kube.resources import default_registry

from .conftest import NOW, info_of

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-1",
        "namespace": "prod",
        "uid": "u-1",
        "resourceVersion": "42",
        "labels": {"app": "web"},
        "creationTimestamp": "2025-06-01T11:59:55Z",
    },
    "spec": {"containers": [{"name": "app", "image": "nginx"}]},
    "status": {"phase": "Pending"},
}


def test_envelope_for_a_list() -> None:
    table = table_for(
        info=info_of("pods"),
        objects=[POD],
        now=NOW,
        list_meta={"resourceVersion": "100", "continue": "abc", "remainingItemCount": 0},
    )
    assert list(table) == ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert table["metadata"] == {"resourceVersion": "100", "continue": "abc", "remainingItemCount": 0}
    assert table["columnDefinitions"][0] == {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": FIELD_DOCS["meta.v1.ObjectMeta.name"],
        "priority": 0,
    }
    assert table["rows"] == [
        {
            "cells": ["web-1", "0/1", "Pending", "0", "5s", "<none>", "<none>", "<none>", "<none>"],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": POD["metadata"],
            },
        }
    ]
    json.dumps(table)  # plain JSON all the way down


def test_list_meta_without_extras_and_single_object_reads() -> None:
    assert table_for(info=info_of("pods"), objects=[], list_meta={"resourceVersion": "7"})["metadata"] == {
        "resourceVersion": "7"
    }
    assert table_for(info=info_of("pods"), objects=[], list_meta={})["metadata"] == {}
    # A GET of one object (or a watch event) carries that object's resourceVersion.
    assert table_for(info=info_of("pods"), objects=[POD], now=NOW)["metadata"] == {"resourceVersion": "42"}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("Object", POD),
        ("None", None),
        (None, None),
        ("", {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": POD["metadata"]}),
    ],
)
def test_include_object(mode: str | None, expected: Any) -> None:
    table = table_for(info=info_of("pods"), objects=[POD], include_object=mode, now=NOW)
    assert table["rows"][0]["object"] == expected


def test_unknown_include_object_is_a_bad_request() -> None:
    with pytest.raises(BadRequest) as caught:
        table_for(info=info_of("pods"), objects=[], include_object="Everything")
    assert caught.value.status()["message"] == 'unrecognized includeObject value: "Everything"'
    assert caught.value.status()["code"] == 400


@pytest.mark.parametrize("resource", ["roles", "clusterroles", "limitranges", "customresourcedefinitions"])
def test_kinds_without_a_printer_get_name_and_created_at(resource: str, columns: Any, row: Any) -> None:
    assert columns(resource) == [("Name", 0), ("Created At", 0)]
    assert columns_for(info_of(resource))[1]["type"] == "date"
    obj = {"metadata": {"name": "r", "creationTimestamp": "2024-05-01T10:00:00.5+02:00"}}
    assert list(row(resource, obj).values()) == ["r", "2024-05-01T08:00:00Z"]
    assert list(row(resource, {"metadata": {"name": "r"}}).values()) == ["r", "0001-01-01T00:00:00Z"]


def test_every_served_kind_prints_a_row_of_the_right_width() -> None:
    """Even a nearly empty object must not break a printer: kubectl lists everything."""
    for info in default_registry():
        table = table_for(info=info, objects=[{"metadata": {"name": "n"}}, {}], now=NOW)
        width = len(table["columnDefinitions"])
        assert width >= 2, info.resource
        assert all(len(r["cells"]) == width for r in table["rows"]), info.resource
        assert table["columnDefinitions"][0]["name"] in ("Name", "Last Seen"), info.resource


def _schema_definitions() -> dict[str, Any] | None:
    try:
        import kubernetes_validate
    except ImportError:
        return None
    path = (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema"
        / "v1.33.0-local"
        / "_definitions.json"
    )
    if not path.exists():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded.get("$defs") or loaded.get("definitions")


def test_descriptions_match_the_kubernetes_schema() -> None:
    definitions = _schema_definitions()
    if definitions is None:
        pytest.skip("kubernetes-validate's 1.33 schema is not installed")
    for key, text in FIELD_DOCS.items():
        type_name, field = key.rsplit(".", 1)
        prefix = "io.k8s.apimachinery.pkg.apis." if type_name.startswith("meta.") else "io.k8s.api."
        assert definitions[prefix + type_name]["properties"][field]["description"] == text, key


def test_watch_events_after_the_first_carry_no_headers() -> None:
    table = table_for(info=info_of("pods"), objects=[POD], now=NOW, no_headers=True)
    assert table["columnDefinitions"] is None
    assert len(table["rows"][0]["cells"]) == 9


def test_default_columns_are_exported() -> None:
    assert [c.name for c in DEFAULT_COLUMNS] == ["Name", "Created At"]
