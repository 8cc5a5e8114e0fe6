"""Messages that are scalars in JSON: Time, IntOrString, Quantity, FieldsV1, ExtraValue.

On the wire each is a small message; in JSON Kubernetes writes them through custom
marshallers as a string, a number or raw JSON. Each converter below produces exactly
what that marshaller would, from the fields that were on the wire (all PTR, so an
explicit zero is distinguishable from an absent field).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from apiserver.protobuf.wire import Malformed
from kube.quantity import Quantity, QuantityError

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Go's zero time.Time (year 1, which JSON shows as null) in Unix seconds.
_ZERO_TIME_SECONDS: Final = -62135596800
_NANOS: Final = 1_000_000_000


def time(fields: Mapping[str, Any], *, path: str) -> str | None:
    """RFC 3339 in UTC at whole seconds, as metav1.Time's MarshalJSON writes it.

    An empty message is Go's zero time and reads back as ``null``: that is the
    ``creationTimestamp: null`` kubectl sends for every object it builds.
    """
    if not fields:
        return None
    seconds, nanos = fields.get("seconds", 0), fields.get("nanos", 0)
    seconds += nanos // _NANOS  # time.Unix normalizes nanos outside [0, 1e9) into seconds
    if seconds == _ZERO_TIME_SECONDS and nanos % _NANOS == 0:
        return None
    try:
        moment = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        raise Malformed(f"time {seconds}s since 1970 lies outside years 1-9999", path=path) from None
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def int_or_string(fields: Mapping[str, Any], *, path: str) -> int | str:
    """``type`` 0 means the int, 1 the string (intstr.Type)."""
    kind = fields.get("type", 0)
    if kind == 0:
        value: int = fields.get("intVal", 0)
        return value
    if kind == 1:
        text: str = fields.get("strVal", "")
        return text
    raise Malformed(f"IntOrString type is {kind}; it must be 0 (int) or 1 (string)", path=path)


def quantity(fields: Mapping[str, Any], *, path: str) -> str:
    """The quantity's text, checked as Go's Unmarshal checks it with ParseQuantity.

    The text is kept as sent rather than canonicalized, as this server stores what
    clients send (kubectl sends the canonical form anyway).
    """
    if "string" not in fields:
        return "0"  # an empty message is the zero Quantity
    text: str = fields["string"]
    try:
        Quantity.parse(text)
    except QuantityError as err:
        raise Malformed(f"quantity {text!r}: {err}", path=path) from None
    return text


def fields_v1(fields: Mapping[str, Any], *, path: str) -> Any:
    """managedFields' field set: JSON bytes carried verbatim."""
    raw: bytes | None = fields.get("raw")
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise Malformed(f"fieldsV1 does not hold JSON: {err}", path=path) from None


def extra_value(fields: Mapping[str, Any], *, path: str) -> list[str]:
    """A user's extra attribute values: the wrapper's list itself (never null: Go builds
    each map value from a non-nil empty ExtraValue before filling it)."""
    items: list[str] = fields.get("items", [])
    return items


CONVERTERS: Final[Mapping[str, Callable[..., Any]]] = {
    "Time": time,
    "IntOrString": int_or_string,
    "Quantity": quantity,
    "FieldsV1": fields_v1,
    "ExtraValue": extra_value,
}
