"""Accepted names and conditions: who gets a plural when two CRDs want it."""

from __future__ import annotations

from typing import Any

from kube.crd import desired_status, prepare_create, same_status
from kube.crd.status import condition

from .fixtures import widget_crd


def established(crd: dict[str, Any], others: list[dict[str, Any]]) -> dict[str, Any]:
    prepare_create(crd)
    crd["status"] = desired_status(crd, others)
    return crd


def test_first_crd_gets_its_names_and_is_established() -> None:
    crd = established(widget_crd(), [])
    assert crd["status"]["acceptedNames"] == {
        "plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList",
        "shortNames": ["wd"], "categories": ["all"],
    }
    accepted, ready = condition(crd, "NamesAccepted"), condition(crd, "Established")
    assert accepted is not None and ready is not None
    assert (accepted["status"], accepted["reason"], accepted["message"]) == ("True", "NoConflicts", "no conflicts found")
    assert (ready["status"], ready["reason"]) == ("True", "InitialNamesAccepted")
    assert crd["status"]["storedVersions"] == ["v1"]


def test_a_clashing_plural_is_not_accepted() -> None:
    first = established(widget_crd(), [])
    # Another CRD of the same group asking for the same kind under another plural.
    second = widget_crd(name="gizmos.example.com", plural="gizmos", kind="Widget", short_names=[])
    second = established(second, [first])
    accepted = condition(second, "NamesAccepted")
    assert accepted is not None
    # Kind and listKind both clash; as in Kubernetes the last check's reason is reported.
    assert (accepted["status"], accepted["reason"], accepted["message"]) == (
        "False", "ListKindConflict", '"WidgetList" is already in use')
    ready = condition(second, "Established")
    assert ready is not None and (ready["status"], ready["reason"]) == ("False", "NotAccepted")
    assert second["status"]["acceptedNames"]["kind"] == ""  # required in the API: empty until accepted


def test_short_name_conflicts_and_other_groups() -> None:
    first = established(widget_crd(), [])
    clash = established(widget_crd(name="gadgets.example.com", plural="gadgets", kind="Gadget"), [first])
    accepted = condition(clash, "NamesAccepted")
    assert accepted is not None and accepted["reason"] == "ShortNamesConflict"
    assert accepted["message"] == '"wd" is already in use'
    elsewhere = established(widget_crd(name="widgets.other.io", group="other.io"), [first])
    assert condition(elsewhere, "NamesAccepted")["status"] == "True"  # type: ignore[index]


def test_same_status_ignores_transition_times() -> None:
    crd = established(widget_crd(), [])
    again = desired_status(crd, [])
    assert same_status(again, crd["status"])
