"""Leases, priority classes, pod disruption budgets and (cluster) role bindings."""

from __future__ import annotations

from typing import Any

import pytest

META = {"name": "x", "creationTimestamp": "2025-06-01T11:00:00Z"}


def test_lease(row: Any, columns: Any) -> None:
    assert columns("leases") == [("Name", 0), ("Holder", 0), ("Age", 0)]
    assert list(row("leases", {"metadata": META, "spec": {"holderIdentity": "node-1"}}).values()) == [
        "x",
        "node-1",
        "60m",
    ]
    assert row("leases", {"metadata": META, "spec": {}})["Holder"] == ""


def test_priorityclass(row: Any, columns: Any) -> None:
    assert columns("priorityclasses") == [
        ("Name", 0),
        ("Value", 0),
        ("Global-Default", 0),
        ("Age", 0),
        ("PreemptionPolicy", 0),
    ]
    obj = {"metadata": META, "value": 1000000, "globalDefault": True, "preemptionPolicy": "Never"}
    assert list(row("priorityclasses", obj).values()) == ["x", 1000000, True, "60m", "Never"]
    assert list(row("priorityclasses", {"metadata": META, "value": 0}).values())[2:] == [
        False,
        "60m",
        "PreemptLowerPriority",
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [({"minAvailable": 2}, ("2", "N/A")), ({"maxUnavailable": "25%"}, ("N/A", "25%"))],
)
def test_poddisruptionbudget(row: Any, columns: Any, spec: dict[str, Any], expected: tuple[str, str]) -> None:
    assert [name for name, _ in columns("poddisruptionbudgets")] == [
        "Name",
        "Min Available",
        "Max Unavailable",
        "Allowed Disruptions",
        "Age",
    ]
    cells = row("poddisruptionbudgets", {"metadata": META, "spec": spec, "status": {"disruptionsAllowed": 1}})
    assert (cells["Min Available"], cells["Max Unavailable"], cells["Allowed Disruptions"]) == (*expected, 1)


@pytest.mark.parametrize("resource", ["rolebindings", "clusterrolebindings"])
def test_bindings(row: Any, columns: Any, resource: str) -> None:
    assert columns(resource) == [
        ("Name", 0),
        ("Role", 0),
        ("Age", 0),
        ("Users", 1),
        ("Groups", 1),
        ("ServiceAccounts", 1),
    ]
    binding = {
        "metadata": META,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "devs"},
            {"kind": "User", "name": "bob"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"},
        ],
    }
    assert list(row(resource, binding).values()) == [
        "x",
        "ClusterRole/view",
        "60m",
        "alice, bob",
        "devs",
        "tools/ci",
    ]
