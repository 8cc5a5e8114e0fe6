"""Shared helpers: a fixed clock and short ways to get one row or the columns of a kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apiserver.printers import columns_for, table_for
from kube.resources import ResourceInfo, default_registry

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)

_GROUPS = {
    "deployments": "apps",
    "replicasets": "apps",
    "daemonsets": "apps",
    "jobs": "batch",
    "leases": "coordination.k8s.io",
    "priorityclasses": "scheduling.k8s.io",
    "poddisruptionbudgets": "policy",
    "roles": "rbac.authorization.k8s.io",
    "rolebindings": "rbac.authorization.k8s.io",
    "clusterroles": "rbac.authorization.k8s.io",
    "clusterrolebindings": "rbac.authorization.k8s.io",
    "customresourcedefinitions": "apiextensions.k8s.io",
}


def info_of(resource: str) -> ResourceInfo:
    found = default_registry().get(group=_GROUPS.get(resource, ""), version="v1", resource=resource)
    assert found is not None, resource
    return found


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def ago() -> Callable[..., str]:
    """``ago(minutes=5)``: an RFC 3339 timestamp that long before the fixed clock."""

    def stamp(**delta: float) -> str:
        return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")

    return stamp


@pytest.fixture
def row() -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """``row("pods", pod)``: the cells of that object keyed by column name."""

    def one(resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        table = table_for(info=info_of(resource), objects=[obj], now=NOW)
        names = [c["name"] for c in table["columnDefinitions"]]
        cells = table["rows"][0]["cells"]
        assert len(cells) == len(names)
        return dict(zip(names, cells, strict=True))

    return one


@pytest.fixture
def columns() -> Callable[[str], list[tuple[str, int]]]:
    """``columns("pods")``: (name, priority) of each column, in order."""

    def of(resource: str) -> list[tuple[str, int]]:
        return [(c["name"], c["priority"]) for c in columns_for(info_of(resource))]

    return of
