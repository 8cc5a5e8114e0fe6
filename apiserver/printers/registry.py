"""Which columns each resource prints, and the function that fills one row.

This is the Python counterpart of Kubernetes' ``printers.PrintHandler``: every kind
registers its column definitions together with a row function, and the Table builder
only looks them up. Built-in kinds register at import (``builtin.py``); custom
resources register when their CustomResourceDefinition is established and unregister
when it goes away, which is why the registry is mutable and guarded by a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from kube.resources import ResourceInfo

from . import docs
from .formatting import Cell, Obj


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One ``metav1.TableColumnDefinition``. ``priority`` 1 columns show only with ``-o wide``."""

    name: str
    type: str
    description: str
    format: str = ""
    priority: int = 0

    def to_dict(self) -> dict[str, Any]:
        # Every field is serialized, even empty ones: the Go struct has no omitempty.
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


class RowFn(Protocol):
    """Fills the cells of one row, in column order, for one object."""

    def __call__(self, obj: Obj, /, *, now: datetime) -> list[Cell]: ...


class ConditionsFn(Protocol):
    """Optional ``rows[].conditions`` (only pods use them: ``Completed`` for finished pods)."""

    def __call__(self, obj: Obj, /) -> list[dict[str, str]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Printer:
    columns: tuple[Column, ...]
    row: RowFn
    conditions: ConditionsFn | None = None


class ResourceKey(NamedTuple):
    """What a printer is registered for. An empty ``version`` matches every version, as
    built-in printers do; a CRD may give each served version its own columns."""

    group: str
    resource: str
    version: str = ""


def key_of(info: ResourceInfo) -> ResourceKey:
    return ResourceKey(group=info.group, resource=info.resource, version=info.version)


# Columns almost every printer starts or ends with.
NAME = Column(name="Name", type="string", format="name", description=docs.NAME)
AGE = Column(name="Age", type="string", description=docs.CREATION_TIMESTAMP)
CONTAINERS = Column(
    name="Containers", type="string", priority=1, description="Names of each container in the template."
)
IMAGES = Column(
    name="Images",
    type="string",
    priority=1,
    description="Images referenced by each container in the template.",
)

_lock = threading.Lock()
_printers: dict[ResourceKey, Printer] = {}


def register(
    resource_key: ResourceKey,
    columns: Sequence[Column],
    row_fn: RowFn,
    *,
    conditions_fn: ConditionsFn | None = None,
) -> None:
    """Print ``resource_key`` with ``columns``; replaces any earlier registration."""
    printer = Printer(columns=tuple(columns), row=row_fn, conditions=conditions_fn)
    with _lock:
        _printers[resource_key] = printer


def unregister(resource_key: ResourceKey) -> None:
    """Forget a printer (a deleted CRD); the resource falls back to the default table."""
    with _lock:
        _printers.pop(resource_key, None)


def lookup(key: ResourceKey) -> Printer | None:
    """The printer for exactly this version, else the one for every version, else ``None``."""
    with _lock:
        found = _printers.get(key)
        if found is None and key.version:
            found = _printers.get(key._replace(version=""))
        return found
