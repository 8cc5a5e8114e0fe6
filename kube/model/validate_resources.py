"""Container ``resources``: names, non-negative values, and requests within limits.

Quantities compare by exact value (``1000m == 1``), and messages print them in
Kubernetes' canonical form, as ``Quantity.String()`` does::

    spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1
"""

from __future__ import annotations

import functools
from typing import Any

from kube.errors import FieldError, invalid, required
from kube.model.checks import Obj, obj, qualified_name
from kube.quantity import Quantity, QuantityError

_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
_STANDARD_RESOURCES = frozenset(
    {
        "cpu", "memory", "ephemeral-storage", "storage", "pods", "services", "replicationcontrollers",
        "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims", "services.nodeports",
        "services.loadbalancers", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
        "requests.storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
    }
)  # fmt: skip


def _hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def _native(name: str) -> bool:
    return "/" not in name or name.startswith("kubernetes.io/")


def overcommit_allowed(name: str) -> bool:
    """Native resources other than huge pages may request less than their limit."""
    return _native(name) and not _hugepages(name)


_PARSED: dict[str, Quantity | None] = {}
"""Quantity text → parsed value; quantities are immutable and the same few recur."""


def _quantity(value: Any) -> Quantity | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if isinstance(value, str) and value in _PARSED:
        return _PARSED[value]
    try:
        parsed: Quantity | None = Quantity(value)
    except QuantityError:
        parsed = None  # already reported by the structure check
    if isinstance(value, str) and len(_PARSED) < 4096:
        _PARSED[value] = parsed
    return parsed


@functools.lru_cache(maxsize=1024)
def _name_problems(name: str) -> tuple[str, ...]:
    problems = qualified_name(name)
    if problems:
        return tuple(problems)
    found = []
    if "/" not in name:
        if name not in _STANDARD_RESOURCES and not _hugepages(name):
            found.append("must be a standard resource type or fully qualified")
        if name not in _CONTAINER_RESOURCES and not _hugepages(name):
            found.append("must be a standard resource for containers")
    elif not _native(name) and name.startswith("requests."):
        found.append("doesn't follow extended resource name standard")
    return tuple(found)


def _name(name: str, path: str) -> list[FieldError]:
    return [invalid(path, name, msg) for msg in _name_problems(name)]


def _value(name: str, quantity: Quantity, path: str) -> list[FieldError]:
    amount = quantity.as_decimal()
    if amount < 0:
        return [invalid(path, str(quantity), "must be greater than or equal to 0")]
    if not _native(name) and amount != amount.to_integral_value():
        return [invalid(path, str(quantity), "must be an integer")]
    return []


def validate_container_resources(resources: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    limits_path, requests_path = f"{path}.limits", f"{path}.requests"
    limits: dict[str, Quantity] = {}
    for name, value in obj(resources.get("limits")).items():
        at = f"{limits_path}[{name}]"
        errors += _name(name, at)
        quantity = _quantity(value)
        if quantity is not None:
            errors += _value(name, quantity, at)
            limits[name] = quantity
    for name, value in obj(resources.get("requests")).items():
        at = f"{requests_path}[{name}]"
        errors += _name(name, at)
        quantity = _quantity(value)
        if quantity is None:
            continue
        errors += _value(name, quantity, at)
        limit = limits.get(name)
        if limit is not None:
            if quantity != limit and not overcommit_allowed(name):
                errors.append(
                    invalid(requests_path, str(quantity), f"must be equal to {name} limit of {limit}")
                )
            elif quantity > limit:
                errors.append(
                    invalid(
                        requests_path, str(quantity), f"must be less than or equal to {name} limit of {limit}"
                    )
                )
        elif not overcommit_allowed(name) and name not in obj(resources.get("limits")):
            errors.append(required(limits_path, "Limit must be set for non overcommitable resources"))
    return errors
