"""Validation of CustomResourceDefinition objects: everything refused before storing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kube.crd import prepare_create, prepare_update, validate_crd
from kube.crd.definition import set_defaults
from kube.crd.structural import check_schema
from kube.errors import Invalid

from .fixtures import version, widget_crd

ROOT = "spec.versions[0].schema.openAPIV3Schema"


def problems(crd: dict[str, Any], *, old: dict[str, Any] | None = None) -> list[str]:
    set_defaults(crd)
    return [str(e) for e in validate_crd(crd, old=old)]


def test_a_good_crd_has_no_problems() -> None:
    assert problems(widget_crd()) == []


def test_defaults() -> None:
    crd = widget_crd()
    del crd["spec"]["names"]["singular"]
    set_defaults(crd)
    assert crd["spec"]["names"]["singular"] == "widget"
    assert crd["spec"]["names"]["listKind"] == "WidgetList"
    assert crd["spec"]["conversion"] == {"strategy": "None"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c["metadata"].update(name="wrong.example.com"),
         'metadata.name: Invalid value: "wrong.example.com": must be spec.names.plural+"."+spec.group'),
        (lambda c: (c["spec"].update(group="example"), c["metadata"].update(name="widgets.example")),
         'spec.group: Invalid value: "example": should be a domain with at least one dot'),
        (lambda c: c["spec"].update(scope="Global"),
         'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"'),
        (lambda c: c["spec"]["names"].update(listKind="Widget"),
         'spec.names.listKind: Invalid value: "Widget": kind and listKind cannot be the same'),
        (lambda c: c["spec"]["versions"].append(version("v1")), 'spec.versions[1].name: Duplicate value: "v1"'),
        (lambda c: c["spec"]["versions"][0].update(storage=False),
         "must have exactly one version marked as storage version"),
        (lambda c: c["spec"]["versions"][0].pop("schema"),
         f"{ROOT}: Required value: schemas are required"),
        (lambda c: c["spec"].update(conversion={"strategy": "Webhook"}),
         'spec.conversion.strategy: Unsupported value: "Webhook": supported values: "None"'),
        (lambda c: c["spec"]["versions"][0]["subresources"]["scale"].update(specReplicasPath=".replicas"),
         'spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".replicas": '
         "should be a json path under .spec"),
        (lambda c: c["spec"]["versions"][0]["additionalPrinterColumns"][0].update(type="text"),
         'spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "text"'),
        (lambda c: c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
            "replicas"].update(default="one"),
         f'{ROOT}.properties[spec].properties[replicas].default: Invalid value: "string": '
         'spec.replicas in body must be of type integer: "string"'),
        (lambda c: c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
            "x-kubernetes-validations"].append({"rule": "self.replicas >"}),
         f"{ROOT}.properties[spec].x-kubernetes-validations[1].rule: Invalid value: "
         'apiextensions.ValidationRule{Rule:"self.replicas >", Message:"", MessageExpression:"", '
         "Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: "
         "compilation failed: ERROR: <input>:"),
    ],
)
def test_problems_name_their_field(change: Any, expected: str) -> None:
    crd = widget_crd()
    change(crd)
    found = problems(crd)
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "object", "properties": {"spec": {"properties": {}}}},
         "x.properties[spec].type: Required value: must not be empty for specified object fields"),
        ({"type": "string"}, 'x.type: Invalid value: "string": must be object at the root'),
        ({"type": "object", "properties": {"a": {"type": "array"}}}, "x.properties[a].items: Required value"),
        ({"type": "object", "properties": {"a": {"type": "array", "items": {}}}},
         "x.properties[a].items.type: Required value: must not be empty for specified array items"),
        ({"type": "object", "properties": {"a": {"type": "string", "x-kubernetes-int-or-string": True}}},
         'x.properties[a].type: Invalid value: "string": must be empty if x-kubernetes-int-or-string is true'),
        ({"type": "object", "properties": {"a": {"type": "object", "additionalProperties": False}}},
         "x.properties[a].additionalProperties: Forbidden: additionalProperties cannot be set to false"),
        ({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}},
                                                 "additionalProperties": {"type": "string"}}}},
         "x.properties[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"),
        ({"type": "object", "properties": {"a": {"type": "string", "anyOf": [{"type": "string"}]}}},
         "x.properties[a].anyOf[0].type: Forbidden: must be empty to be structural"),
        ({"type": "object", "properties": {"a": {"type": "object", "x-kubernetes-preserve-unknown-fields": False}}},
         "x.properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"),
        ({"type": "object", "properties": {"a": {"type": "string", "pattern": "(a"}}},
         'x.properties[a].pattern: Invalid value: "(a": must be a valid regular expression'),
        ({"type": "object", "properties": {"a": {"type": "string", "pattern": "a(?=b)"}}},
         "invalid or unsupported Perl syntax: `(?=`"),
        ({"type": "object", "properties": {"a": {"type": "array", "uniqueItems": True, "items": {"type": "string"}}}},
         "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"),
        ({"type": "object", "properties": {"a": {"type": "array", "x-kubernetes-list-type": "map",
                                                 "items": {"type": "object"}}}},
         "x.properties[a].x-kubernetes-list-map-keys: Required value"),
        ({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"labels": {
            "type": "object"}}}}},
         "x.properties[metadata]: Forbidden: must not specify anything other than name and generateName"),
        ({"type": "object", "properties": {"a": {"$ref": "#/definitions/b"}}},
         "x.properties[a].$ref: Forbidden: $ref is not supported"),
    ],
)
def test_structural_rules(schema: dict[str, Any], expected: str) -> None:
    found = [str(e) for e in check_schema(schema, "x")]
    assert any(expected in p for p in found), found


def test_prepare_create_sets_status_and_refuses_with_every_cause() -> None:
    crd = widget_crd()
    prepare_create(crd)
    assert crd["status"] == {"storedVersions": ["v1"]}
    bad = widget_crd(scope="Everywhere")
    bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["type"] = "thing"
    with pytest.raises(Invalid) as err:
        prepare_create(bad)
    assert err.value.code == 422
    assert err.value.message.startswith('CustomResourceDefinition.apiextensions.k8s.io "widgets.example.com" is invalid: [')
    fields = {c.field for c in err.value.details.causes}
    assert {"spec.scope", f"{ROOT}.properties[spec].type"} <= fields


def test_update_rules() -> None:
    old = widget_crd()
    prepare_create(old)
    new = copy.deepcopy(old)
    new["spec"]["scope"] = "Cluster"
    with pytest.raises(Invalid, match=r'spec\.scope: Invalid value: "Cluster": field is immutable'):
        prepare_update(new, old=old)
    moved = copy.deepcopy(old)
    moved["spec"]["versions"] = [version("v1", storage=False), version("v2")]
    prepare_update(moved, old=old)
    assert moved["status"]["storedVersions"] == ["v1", "v2"]
    dropped = copy.deepcopy(moved)
    dropped["spec"]["versions"] = [version("v2")]
    with pytest.raises(Invalid, match=r"status.storedVersions\[0\]: Invalid value: \"v1\": must appear in spec.versions"):
        prepare_update(dropped, old=moved)
