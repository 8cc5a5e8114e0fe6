"""Small helpers shared by the storage tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from apiserver.storage import EventType, Storage, WatchEvent, key_for

Obj = dict[str, Any]


def pod(name: str, namespace: str = "default", **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "spec": {"containers": [{"name": "app", "image": "busybox"}], **spec},
    }


def pod_key(name: str, namespace: str = "default") -> str:
    return key_for("pods", namespace, name)


def rv(obj: Obj) -> int:
    return int(obj["metadata"]["resourceVersion"])


WAIT = 10.0  # seconds: a missing event fails the test instead of hanging it


async def next_event(watch: AsyncIterator[WatchEvent]) -> WatchEvent:
    return await asyncio.wait_for(anext(watch), WAIT)


async def take(watch: AsyncIterator[WatchEvent], n: int) -> list[WatchEvent]:
    return [await next_event(watch) for _ in range(n)]


async def assert_quiet(watch: AsyncIterator[WatchEvent], seconds: float = 0.2) -> None:
    """No further event arrives within ``seconds`` (an extra event is a duplicate)."""
    pending = asyncio.ensure_future(anext(watch))
    done, _ = await asyncio.wait({pending}, timeout=seconds)
    if done:
        raise AssertionError(f"unexpected extra event: {pending.result()}")
    pending.cancel()


async def relabel(obj: Obj) -> Obj:
    """Bump label ``n`` (a real change each time); on ``{}`` (absent key), start a pod."""
    if not obj:
        obj = pod("new")
    labels = obj["metadata"].setdefault("labels", {})
    labels["n"] = str(int(labels.get("n", "0")) + 1)
    return obj


async def history(store: Storage) -> list[tuple[EventType, str, Obj]]:
    """A mix of writes; returns what each write returned, as the expected events."""
    out: list[tuple[EventType, str, Obj]] = []
    for name in ["a", "b", "c"]:
        out.append((EventType.ADDED, pod_key(name), await store.create(pod_key(name), pod(name))))
    out.append((EventType.MODIFIED, pod_key("a"), await store.guaranteed_update(pod_key("a"), relabel)))
    out.append((EventType.DELETED, pod_key("b"), await store.delete(pod_key("b"))))
    out.append((EventType.MODIFIED, pod_key("a"), await store.guaranteed_update(pod_key("a"), relabel)))
    out.append((EventType.ADDED, pod_key("b"), await store.create(pod_key("b"), pod("b"))))
    return out


def check(
    events: list[WatchEvent], expected: list[tuple[EventType, str, Obj]], before: dict[str, Obj] | None = None
) -> None:
    """``events`` are ``expected``; ``before`` holds the objects as they were at the
    watch's start revision (what MODIFIED/DELETED events must report as ``prev``)."""
    assert [(e.type, e.key) for e in events] == [(t, k) for t, k, _ in expected]
    assert [e.object for e in events] == [o for _, _, o in expected]
    assert [e.revision for e in events] == [rv(o) for _, _, o in expected]
    last = dict(before or {})
    for e in events:
        if e.type is EventType.ADDED:
            assert e.prev is None
        else:  # prev is the object as it was just before this event
            assert e.prev == last[e.key]
        last[e.key] = e.object
