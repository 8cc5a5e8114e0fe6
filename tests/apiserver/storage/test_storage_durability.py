"""Conformance, part 4: data survives a restart; bad stored bytes are reported, not hidden."""

from __future__ import annotations

import orjson
import pytest

from apiserver.storage import EventType, prefix_for
from kube.errors import InternalError

from .conftest import Backend
from .helpers import assert_quiet, check, history, next_event, pod, pod_key, rv, take


async def test_data_revisions_and_history_survive_a_restart(backend: Backend) -> None:
    store = await backend.open()
    try:
        start = await store.current_revision()
        expected = await history(store)
        snapshot = await store.list(prefix_for("pods"))
        revision = await store.current_revision()
    finally:
        await store.close()

    store = await backend.open()
    try:
        assert await store.current_revision() == revision
        assert (await store.list(prefix_for("pods"))).items == snapshot.items
        assert (await store.list(prefix_for("pods"), revision=snapshot.revision)).items == snapshot.items
        watch = store.watch(prefix_for("pods"), revision=start)
        check(await take(watch, len(expected)), expected)
        created = await store.create(pod_key("new"), pod("new"))
        assert rv(created) > revision
        event = await next_event(watch)
        assert (event.type, event.object) == (EventType.ADDED, created)
        await watch.aclose()  # type: ignore[attr-defined]
    finally:
        await store.close()


async def test_values_are_plain_json_without_resource_version(backend: Backend) -> None:
    """What lands on disk / in etcd is the object as JSON, minus resourceVersion (the
    revision is the resourceVersion): readable with sqlite3 or etcdctl."""
    store = await backend.open()
    try:
        obj = pod("web")
        obj["metadata"]["resourceVersion"] = "42"
        created = await store.create(pod_key("web"), obj)

        async def touch(o: dict) -> dict:
            o["spec"]["touched"] = True
            return o

        updated = await store.guaranteed_update(pod_key("web"), touch)
        stored = await backend.get_raw(pod_key("web"))
        assert stored is not None
        expected = {**updated, "metadata": {k: v for k, v in updated["metadata"].items() if k != "resourceVersion"}}
        assert orjson.loads(stored) == expected
        assert b"resourceVersion" not in stored and rv(updated) > rv(created)
        await store.delete(pod_key("web"))
        assert await backend.get_raw(pod_key("web")) is None
    finally:
        await store.close()


async def test_a_stored_value_that_is_not_json_is_an_internal_error_naming_the_key(backend: Backend) -> None:
    store = await backend.open()
    try:
        start = await store.current_revision()
        good = await store.create(pod_key("good"), pod("good"))
        store = await backend.put_raw(store, pod_key("bad"), b'{"metadata": {"name": "bad"')
        key = pod_key("bad")
        message = f"Internal error occurred: the object stored at key '{key}' is not valid JSON"

        with pytest.raises(InternalError) as err:
            await store.get(key)
        assert err.value.message.startswith(message) and err.value.code == 500
        with pytest.raises(InternalError, match="^" + message):
            await store.list(prefix_for("pods"))

        async def unchanged(obj: dict) -> dict:
            return obj

        with pytest.raises(InternalError, match="^" + message):
            await store.guaranteed_update(key, unchanged)

        watch = store.watch(prefix_for("pods"), revision=start)
        assert (await next_event(watch)).object == good
        with pytest.raises(InternalError, match="^" + message):
            await next_event(watch)

        # The rest of the store still works, and the bad value can be replaced.
        assert await store.get(pod_key("good")) == good
        store = await backend.put_raw(store, key, b'["valid JSON, but not an object"]')
        with pytest.raises(InternalError, match="expected a JSON object, found list"):
            await store.get(key)
    finally:
        await store.close()


async def test_watch_after_the_bad_value_is_unaffected(backend: Backend) -> None:
    store = await backend.open()
    try:
        store = await backend.put_raw(store, pod_key("bad"), b"not json")
        after = await store.current_revision()
        watch = store.watch(prefix_for("pods"), revision=after)
        created = await store.create(pod_key("ok"), pod("ok"))
        assert (await next_event(watch)).object == created
        await assert_quiet(watch)
        await watch.aclose()  # type: ignore[attr-defined]
    finally:
        await store.close()
