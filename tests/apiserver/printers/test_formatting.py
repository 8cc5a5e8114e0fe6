"""Ages and selectors, formatted as Kubernetes formats them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apiserver.printers import human_duration
from apiserver.printers.formatting import (
    SelectorError,
    format_label_selector,
    format_labels,
    label_selector_string,
    parse_time,
    rfc3339,
    since,
)

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=-3), "<invalid>"),
        (timedelta(seconds=-2), "<invalid>"),
        (timedelta(seconds=-1.5), "0s"),  # up to 2s of clock skew reads as now
        (timedelta(0), "0s"),
        (timedelta(seconds=5), "5s"),
        (timedelta(seconds=119.9), "119s"),
        (timedelta(minutes=2), "2m"),
        (timedelta(minutes=2, seconds=30), "2m30s"),
        (timedelta(minutes=9, seconds=59), "9m59s"),
        (timedelta(minutes=10, seconds=30), "10m"),
        (timedelta(minutes=179), "179m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=7, minutes=5), "7h5m"),
        (timedelta(hours=8, minutes=30), "8h"),
        (timedelta(hours=47), "47h"),
        (timedelta(days=2), "2d"),
        (timedelta(days=3, hours=4), "3d4h"),
        (timedelta(days=8, hours=4), "8d"),
        (timedelta(days=729), "729d"),
        (timedelta(days=365 * 2), "2y"),
        (timedelta(days=365 * 5 + 10), "5y10d"),
        (timedelta(days=365 * 9), "9y"),
    ],
)
def test_human_duration(delta: timedelta, expected: str) -> None:
    assert human_duration(delta) == expected


def test_since() -> None:
    assert since("2025-06-01T11:55:00Z", now=NOW) == "5m"
    assert since("2025-06-01T13:55:00+02:00", now=NOW) == "5m"
    assert since("2025-06-01T12:00:10Z", now=NOW) == "<invalid>"
    for unset in (None, "", "0001-01-01T00:00:00Z", "yesterday", 17):
        assert since(unset, now=NOW) == "<unknown>"


def test_time_helpers() -> None:
    assert parse_time("2025-06-01T11:55:00.123456Z") == datetime(2025, 6, 1, 11, 55, 0, 123456, tzinfo=UTC)
    assert rfc3339("2025-06-01T13:55:00.9+02:00") == "2025-06-01T11:55:00Z"


def test_format_labels() -> None:
    assert format_labels({}) == "<none>"
    assert format_labels(None) == "<none>"
    assert format_labels({"b": "2", "a": "1"}) == "a=1,b=2"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, "<none>"),
        ({}, "<none>"),
        ({"matchLabels": {"app": "web"}}, "app=web"),
        (
            {
                "matchLabels": {"b": "1"},
                "matchExpressions": [
                    {"key": "c", "operator": "NotIn", "values": ["z", "y"]},
                    {"key": "a", "operator": "DoesNotExist"},
                    {"key": "d", "operator": "In", "values": ["only"]},
                ],
            },
            "!a,b=1,c notin (y,z),d in (only)",
        ),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, "<error>"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "<error>"),
        ({"matchLabels": {"bad key!": "x"}}, "<error>"),
        ({"matchLabels": {"a": "bad value!"}}, "<error>"),
    ],
)
def test_format_label_selector(selector: object, expected: str) -> None:
    assert format_label_selector(selector) == expected  # type: ignore[arg-type]


def test_label_selector_string_raises_for_invalid_selectors() -> None:
    with pytest.raises(SelectorError):
        label_selector_string({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})
