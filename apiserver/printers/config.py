"""Rows for configuration and accounting kinds: config maps, secrets, service
accounts and resource quotas.

These print counts rather than contents (DATA is the number of keys, never a value),
which matters most for secrets: a Table is what ``kubectl get`` shows on a shared
screen, and Kubernetes deliberately keeps secret data out of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kube.quantity import Quantity, QuantityError

from . import docs
from .formatting import Cell, Obj, dig, dig_list, dig_map, dig_str, since
from .registry import AGE, NAME, Column, ResourceKey, register

_F = docs.FIELD_DOCS


def _age(obj: Obj, now: datetime) -> str:
    return since(dig(obj, "metadata", "creationTimestamp"), now=now)


CONFIGMAP_COLUMNS = (
    NAME,
    Column(name="Data", type="string", description=_F["core.v1.ConfigMap.data"]),
    AGE,
)


def configmap_row(obj: Obj, *, now: datetime) -> list[Cell]:
    keys = len(dig_map(obj, "data")) + len(dig_map(obj, "binaryData"))
    return [dig_str(obj, "metadata", "name"), keys, _age(obj, now)]


SECRET_COLUMNS = (
    NAME,
    Column(name="Type", type="string", description=_F["core.v1.Secret.type"]),
    Column(name="Data", type="string", description=_F["core.v1.Secret.data"]),
    AGE,
)


def secret_row(obj: Obj, *, now: datetime) -> list[Cell]:
    # The API server folds write-only stringData into data; count it the same way.
    keys = set(dig_map(obj, "data")) | set(dig_map(obj, "stringData"))
    return [dig_str(obj, "metadata", "name"), dig_str(obj, "type") or "Opaque", len(keys), _age(obj, now)]


SERVICEACCOUNT_COLUMNS = (
    NAME,
    Column(name="Secrets", type="string", description=_F["core.v1.ServiceAccount.secrets"]),
    AGE,
)


def serviceaccount_row(obj: Obj, *, now: datetime) -> list[Cell]:
    return [dig_str(obj, "metadata", "name"), len(dig_list(obj, "secrets")), _age(obj, now)]


RESOURCEQUOTA_COLUMNS = (
    NAME,
    AGE,
    Column(
        name="Request",
        type="string",
        description="Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    Column(
        name="Limit",
        type="string",
        description=(
            "Limits control the maximum amount of cpu/memory that a container may use independent of "
            "contention on the node."
        ),
    ),
)


def _quantity(value: Any) -> str:
    """``Quantity.String()``: the canonical form (``1000m`` prints ``1``); an absent
    amount is Go's zero Quantity, ``0``."""
    if value is None or isinstance(value, bool):
        return "0"
    try:
        return str(Quantity(value))
    except (QuantityError, TypeError):
        return str(value)  # validation keeps these out; show what is stored


def quota_usage(obj: Obj) -> tuple[str, str]:
    """``cpu: 100m/1, pods: 2/10`` for requests and ``limits.cpu: 0/2`` for limits."""
    hard = dig_map(obj, "status", "hard")
    used = dig_map(obj, "status", "used")
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        target = limits if resource.split(".")[0] == "limits" and "." in resource else requests
        target.append(f"{resource}: {_quantity(used.get(resource))}/{_quantity(hard[resource])}")
    return ", ".join(requests), ", ".join(limits)


def resourcequota_row(obj: Obj, *, now: datetime) -> list[Cell]:
    requests, limits = quota_usage(obj)
    return [dig_str(obj, "metadata", "name"), _age(obj, now), requests, limits]


def install() -> None:
    register(ResourceKey(group="", resource="configmaps"), CONFIGMAP_COLUMNS, configmap_row)
    register(ResourceKey(group="", resource="secrets"), SECRET_COLUMNS, secret_row)
    register(ResourceKey(group="", resource="serviceaccounts"), SERVICEACCOUNT_COLUMNS, serviceaccount_row)
    register(ResourceKey(group="", resource="resourcequotas"), RESOURCEQUOTA_COLUMNS, resourcequota_row)
