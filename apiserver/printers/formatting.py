"""The small formatting rules every printer shares: ages, selectors, label sets, images.

kubectl prints cell values verbatim, so the only way to look like a real cluster is to
format them the way the Go API server does: ``duration.HumanDuration`` for ages (``5s``,
``2m30s``, ``3d4h``), ``metav1.FormatLabelSelector`` for selectors (``app=web,tier in
(a,b)``), ``labels.FormatLabels`` for plain label maps, and the ``<none>``/``<unknown>``/
``<invalid>`` placeholders where Kubernetes uses them. Objects arrive as plain JSON dicts,
so the helpers also read fields defensively: a missing or ``null`` field counts as the
Go zero value, as it would after decoding into a typed struct.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from kube import labels
from kube.errors import BadRequest

Cell = str | int | float | bool | None
"""One table cell: JSON scalars only, as in ``metav1.TableRow.Cells``."""

Obj = Mapping[str, Any]

NONE = "<none>"
UNKNOWN = "<unknown>"
INVALID = "<invalid>"


def dig(obj: Any, *path: str) -> Any:
    """The value at ``path`` or ``None`` when any step is missing or not an object."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def dig_str(obj: Any, *path: str) -> str:
    value = dig(obj, *path)
    return value if isinstance(value, str) else ""


def dig_int(obj: Any, *path: str) -> int:
    value = dig(obj, *path)
    # bool is an int in Python but never a number in a Kubernetes object.
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def dig_list(obj: Any, *path: str) -> list[Any]:
    value = dig(obj, *path)
    return value if isinstance(value, list) else []


def dig_map(obj: Any, *path: str) -> Mapping[str, Any]:
    value = dig(obj, *path)
    return value if isinstance(value, Mapping) else {}


# --- time ---------------------------------------------------------------------------

_GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (``metav1.Time`` or ``MicroTime``) as an aware datetime.

    ``None`` stands for Go's zero time: absent, empty, unparsable, or the literal
    ``0001-01-01T00:00:00Z`` that Go clients sometimes send for an unset time.
    """
    if isinstance(value, datetime):
        parsed = value
    elif not isinstance(value, str) or not value:
        return None
    else:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed == _GO_ZERO_TIME:
        return None
    return parsed


def human_duration(delta: timedelta) -> str:
    """Kubernetes' ``duration.HumanDuration``: about 2-3 significant figures.

    A clock skew of up to two seconds into the future still reads as ``0s``; more
    than that is ``<invalid>``, exactly as the Go helper decides.
    """
    micros = delta // timedelta(microseconds=1)
    # Go's int(d.Seconds()) truncates toward zero, Python's // floors.
    seconds = abs(micros) // 1_000_000 * (1 if micros >= 0 else -1)
    if seconds < -1:
        return INVALID
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def since(value: Any, *, now: datetime) -> str:
    """``translateTimestampSince``: the age of a timestamp, ``<unknown>`` when unset."""
    when = parse_time(value)
    if when is None:
        return UNKNOWN
    return human_duration(now - when)


def rfc3339(value: Any) -> str:
    """A timestamp as Go's ``Time.UTC().Format(time.RFC3339)`` prints it (whole seconds)."""
    when = parse_time(value)
    if when is None:
        return "0001-01-01T00:00:00Z"
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- labels and selectors ----------------------------------------------------------


def format_labels(label_map: Mapping[str, Any] | None) -> str:
    """``labels.FormatLabels``: ``k1=v1,k2=v2`` sorted by key, ``<none>`` when empty."""
    if not label_map:
        return NONE
    return ",".join(f"{key}={label_map[key]}" for key in sorted(label_map))


class SelectorError(ValueError):
    """A label selector that ``metav1.LabelSelectorAsSelector`` would refuse."""


def label_selector_string(selector: Mapping[str, Any] | None) -> str:
    """``LabelSelectorAsSelector(s).String()``: requirements sorted by key, comma-joined.

    ``None`` selects nothing and an empty selector everything; both print as ``""``.
    Raises ``SelectorError`` for a selector Kubernetes would not accept.
    """
    try:
        return str(labels.from_label_selector(selector))
    except (BadRequest, TypeError, ValueError) as err:
        raise SelectorError(str(err)) from err


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: like the selector string, but ``<none>`` when it
    selects everything or nothing and ``<error>`` when it is invalid."""
    try:
        text = label_selector_string(selector)
    except SelectorError:
        return "<error>"
    return text or NONE


# --- containers --------------------------------------------------------------------


def container_cells(containers: Iterable[Any]) -> tuple[str, str]:
    """``layoutContainerCells``: container names and images, each comma-joined."""
    names: list[str] = []
    images: list[str] = []
    for container in containers:
        names.append(dig_str(container, "name"))
        images.append(dig_str(container, "image"))
    return ",".join(names), ",".join(images)
