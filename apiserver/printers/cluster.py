"""Rows for scheduling and availability kinds: leases, priority classes and pod
disruption budgets.

Small printers, kept together because each is a name, one or two fields and an age;
the one subtlety is that ``minAvailable``/``maxUnavailable`` are int-or-string
(``2`` or ``"50%"``) and print as given, ``N/A`` when unset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import docs
from .formatting import Cell, Obj, dig, dig_int, dig_str, since
from .registry import AGE, NAME, Column, ResourceKey, register

_F = docs.FIELD_DOCS


def _age(obj: Obj, now: datetime) -> str:
    return since(dig(obj, "metadata", "creationTimestamp"), now=now)


LEASE_COLUMNS = (
    NAME,
    Column(name="Holder", type="string", description=_F["coordination.v1.LeaseSpec.holderIdentity"]),
    AGE,
)


def lease_row(obj: Obj, *, now: datetime) -> list[Cell]:
    return [dig_str(obj, "metadata", "name"), dig_str(obj, "spec", "holderIdentity"), _age(obj, now)]


PRIORITYCLASS_COLUMNS = (
    NAME,
    Column(name="Value", type="integer", description=_F["scheduling.v1.PriorityClass.value"]),
    Column(
        name="Global-Default", type="boolean", description=_F["scheduling.v1.PriorityClass.globalDefault"]
    ),
    AGE,
    Column(
        name="PreemptionPolicy",
        type="string",
        description=_F["scheduling.v1.PriorityClass.preemptionPolicy"],
    ),
)


def priorityclass_row(obj: Obj, *, now: datetime) -> list[Cell]:
    return [
        dig_str(obj, "metadata", "name"),
        dig_int(obj, "value"),
        dig(obj, "globalDefault") is True,
        _age(obj, now),
        # The API default, so objects stored without defaulting print the same.
        dig_str(obj, "preemptionPolicy") or "PreemptLowerPriority",
    ]


PDB_COLUMNS = (
    NAME,
    Column(
        name="Min Available", type="string", description="The minimum number of pods that must be available."
    ),
    Column(
        name="Max Unavailable",
        type="string",
        description="The maximum number of pods that may be unavailable.",
    ),
    Column(
        name="Allowed Disruptions",
        type="integer",
        description="Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
)


def int_or_string(value: Any) -> str:
    """``intstr.IntOrString.String()``, ``N/A`` for an unset field."""
    if isinstance(value, bool) or value is None:
        return "N/A"
    return str(value)


def pdb_row(obj: Obj, *, now: datetime) -> list[Cell]:
    return [
        dig_str(obj, "metadata", "name"),
        int_or_string(dig(obj, "spec", "minAvailable")),
        int_or_string(dig(obj, "spec", "maxUnavailable")),
        dig_int(obj, "status", "disruptionsAllowed"),
        _age(obj, now),
    ]


def install() -> None:
    register(ResourceKey(group="coordination.k8s.io", resource="leases"), LEASE_COLUMNS, lease_row)
    register(
        ResourceKey(group="scheduling.k8s.io", resource="priorityclasses"),
        PRIORITYCLASS_COLUMNS,
        priorityclass_row,
    )
    register(ResourceKey(group="policy", resource="poddisruptionbudgets"), PDB_COLUMNS, pdb_row)
