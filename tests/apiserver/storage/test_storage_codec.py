"""The codec's shortcut for a create's answer, and watch events' lazily decoded ``prev``."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from apiserver.storage import EventType, codec
from apiserver.storage.interface import WatchEvent
from kube.errors import InternalError

KEY = "/registry/pods/default/web"


@pytest.mark.parametrize(
    "obj",
    [
        {"kind": "Pod", "metadata": {"name": "web", "labels": {"a": "b"}}, "spec": {"x": [1, {"y": None}]}},
        {"kind": "Pod", "metadata": {"resourceVersion": "7", "name": "web", "uid": "u"}, "status": {}},
        {"kind": "Pod", "spec": {}},  # no metadata: it comes last, as decode adds it
        {"metadata": {}},
    ],
)
def test_as_stored_is_what_decoding_the_encoded_object_gives(obj: dict[str, Any]) -> None:
    given = copy.deepcopy(obj)
    expected = codec.decode(KEY, codec.encode(KEY, obj), 42)
    got = codec.as_stored(KEY, obj, 42)
    assert got == expected
    assert orjson.dumps(got) == orjson.dumps(expected)  # key order too: it is the response
    assert obj == given  # the input is not touched, nor is its metadata
    assert got["metadata"] is not obj.get("metadata")


def test_as_stored_refuses_metadata_that_is_not_an_object_as_a_read_would() -> None:
    with pytest.raises(InternalError):
        codec.as_stored(KEY, {"metadata": None}, 3)


def test_a_watch_event_decodes_prev_once_and_only_when_read() -> None:
    calls = []

    def load() -> dict[str, Any]:
        calls.append(1)
        return {"metadata": {"name": "web", "resourceVersion": "4"}}

    event = WatchEvent(type=EventType.MODIFIED, key=KEY, object={"metadata": {}}, revision=5, load_prev=load)
    assert calls == []
    assert event.prev == {"metadata": {"name": "web", "resourceVersion": "4"}}
    assert event.prev is event.prev
    assert calls == [1]
    eager = WatchEvent(type=EventType.MODIFIED, key=KEY, object={"metadata": {}}, revision=5, prev=event.prev)
    assert eager == event
    assert WatchEvent(type=EventType.ADDED, key=KEY, object={}, revision=5).prev is None


def test_a_watch_event_is_immutable() -> None:
    event = WatchEvent(type=EventType.ADDED, key=KEY, object={}, revision=1)
    with pytest.raises(AttributeError):
        event.revision = 2
    with pytest.raises(AttributeError):
        del event.key
