"""The event row, readable for both event APIs' writers.

Events reach the core ``v1`` API from two kinds of clients: old-style recorders set
``firstTimestamp``/``lastTimestamp``/``count``/``source``, while ``events.k8s.io``
recorders set ``eventTime``, ``series`` and ``reportingController``/``reportingInstance``
instead. Kubernetes' printer falls back from one to the other field by field, so both
print a LAST SEEN age and a COUNT; this module does the same.
"""

from __future__ import annotations

from datetime import datetime

from . import docs
from .formatting import Cell, Obj, dig, dig_int, dig_map, dig_str, parse_time, since
from .registry import NAME, Column, ResourceKey, register

_F = docs.FIELD_DOCS

COLUMNS = (
    Column(name="Last Seen", type="string", description=_F["core.v1.Event.lastTimestamp"]),
    Column(name="Type", type="string", description=_F["core.v1.Event.type"]),
    Column(name="Reason", type="string", description=_F["core.v1.Event.reason"]),
    Column(name="Object", type="string", description=_F["core.v1.Event.involvedObject"]),
    Column(name="Subobject", type="string", priority=1, description=_F["core.v1.ObjectReference.fieldPath"]),
    Column(name="Source", type="string", priority=1, description=_F["core.v1.Event.source"]),
    Column(name="Message", type="string", description=_F["core.v1.Event.message"]),
    Column(name="First Seen", type="string", priority=1, description=_F["core.v1.Event.firstTimestamp"]),
    Column(name="Count", type="string", priority=1, description=_F["core.v1.Event.count"]),
    Column(name=NAME.name, type=NAME.type, format=NAME.format, priority=1, description=NAME.description),
)


def event_source(event: Obj) -> str:
    """``component, host``, each falling back to the events.k8s.io reporting fields."""
    component = dig_str(event, "source", "component") or dig_str(event, "reportingController")
    host = dig_str(event, "source", "host") or dig_str(event, "reportingInstance")
    return f"{component}, {host}" if host else component


def event_target(event: Obj) -> str:
    """``pod/web-1``: the involved object's kind, lower-cased, and name."""
    kind = dig_str(event, "involvedObject", "kind").lower()
    name = dig_str(event, "involvedObject", "name")
    return f"{kind}/{name}" if name else kind


def event_row(event: Obj, *, now: datetime) -> list[Cell]:
    first_seen = since(dig(event, "firstTimestamp"), now=now)
    if parse_time(dig(event, "firstTimestamp")) is None:
        first_seen = since(dig(event, "eventTime"), now=now)
    last_seen = since(dig(event, "lastTimestamp"), now=now)
    if parse_time(dig(event, "lastTimestamp")) is None:
        last_seen = first_seen
    count = dig_int(event, "count")
    series = dig(event, "series")
    if series is not None:
        last_seen = since(dig(series, "lastObservedTime"), now=now)
        count = dig_int(dig_map(event, "series"), "count")
    elif count == 0:
        count = 1  # events.k8s.io singletons carry no count
    return [
        last_seen,
        dig_str(event, "type"),
        dig_str(event, "reason"),
        event_target(event),
        dig_str(event, "involvedObject", "fieldPath"),
        event_source(event),
        dig_str(event, "message").strip(),
        first_seen,
        count,
        dig_str(event, "metadata", "name"),
    ]


def install() -> None:
    register(ResourceKey(group="", resource="events"), COLUMNS, event_row)
