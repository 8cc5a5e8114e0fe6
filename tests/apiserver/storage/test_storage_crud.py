"""Conformance, part 1: create, get, guaranteed_update and delete, on both backends."""

from __future__ import annotations

import asyncio
import copy
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apiserver.storage import Preconditions, Storage, key_for
from kube.errors import AlreadyExists, Conflict, Invalid, NotFound, invalid

from .helpers import Obj, pod, pod_key, rv


async def test_create_then_get_round_trips_with_the_write_revision(store: Storage) -> None:
    before = await store.current_revision()
    original = pod("web", image_pull="x")
    original["metadata"]["resourceVersion"] = "12345"  # ignored: the store assigns it
    given_obj = copy.deepcopy(original)

    created = await store.create(pod_key("web"), given_obj)

    assert given_obj == original, "create must not modify the caller's object"
    assert rv(created) > before
    assert rv(created) == await store.current_revision()
    expected = copy.deepcopy(original)
    expected["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    assert created == expected
    assert await store.get(pod_key("web")) == expected


async def test_each_write_gets_a_higher_revision(store: Storage) -> None:
    a = await store.create(pod_key("a"), pod("a"))
    b = await store.create(pod_key("b"), pod("b"))
    assert rv(b) > rv(a)


async def test_create_of_an_existing_key_is_already_exists(store: Storage) -> None:
    first = await store.create(pod_key("web"), pod("web", first=True))
    with pytest.raises(AlreadyExists) as err:
        await store.create(pod_key("web"), pod("web", first=False))
    assert err.value.message == 'pods "web" already exists'
    assert err.value.code == 409
    assert await store.get(pod_key("web")) == first


async def test_get_of_a_missing_key_is_not_found(store: Storage) -> None:
    with pytest.raises(NotFound) as err:
        await store.get(pod_key("ghost"))
    assert err.value.message == 'pods "ghost" not found'
    assert (err.value.details.kind, err.value.details.name) == ("pods", "ghost")
    with pytest.raises(NotFound, match=r'^namespaces "prod" not found$'):
        await store.get(key_for("namespaces", "", "prod"))


async def test_a_deleted_key_can_be_created_again(store: Storage) -> None:
    await store.create(pod_key("web"), pod("web"))
    await store.delete(pod_key("web"))
    again = await store.create(pod_key("web"), pod("web", second=True))
    assert (await store.get(pod_key("web")))["spec"]["second"] is True
    assert rv(again) == await store.current_revision()


# -- guaranteed_update ------------------------------------------------------------------


async def test_update_writes_the_new_object_at_a_new_revision(store: Storage) -> None:
    created = await store.create(pod_key("web"), pod("web"))

    async def set_node(obj: Obj) -> Obj:
        assert rv(obj) == rv(created)
        obj["spec"]["nodeName"] = "node-1"
        obj["metadata"]["resourceVersion"] = "999999"  # must not be stored
        return obj

    updated = await store.guaranteed_update(pod_key("web"), set_node)
    assert updated["spec"]["nodeName"] == "node-1"
    assert rv(updated) > rv(created)
    assert await store.get(pod_key("web")) == updated


async def test_update_that_changes_nothing_writes_nothing(store: Storage) -> None:
    created = await store.create(pod_key("web"), pod("web"))
    revision = await store.current_revision()

    async def same(obj: Obj) -> Obj:
        obj["metadata"]["resourceVersion"] = "1"  # differs only in resourceVersion
        return obj

    async def nothing(obj: Obj) -> None:
        return None

    assert await store.guaranteed_update(pod_key("web"), same) == created
    assert await store.guaranteed_update(pod_key("web"), nothing) == created
    assert await store.current_revision() == revision


async def test_update_of_a_missing_key(store: Storage) -> None:
    seen: list[Obj] = []

    async def build(obj: Obj) -> Obj:
        seen.append(copy.deepcopy(obj))
        return pod("new")

    with pytest.raises(NotFound, match=r'^pods "new" not found$'):
        await store.guaranteed_update(pod_key("new"), build)
    assert seen == []

    created = await store.guaranteed_update(pod_key("new"), build, ignore_not_found=True)
    assert seen == [{}]
    assert await store.get(pod_key("new")) == created


async def test_an_error_from_the_update_function_propagates_and_writes_nothing(store: Storage) -> None:
    created = await store.create(pod_key("web"), pod("web"))

    async def reject(obj: Obj) -> Obj:
        obj["spec"]["changed"] = True
        raise Invalid.of(kind="Pod", name="web", errors=[invalid("spec", "x", "no")])

    with pytest.raises(Invalid):
        await store.guaranteed_update(pod_key("web"), reject)
    assert await store.get(pod_key("web")) == created


async def test_update_preconditions(store: Storage) -> None:
    created = await store.create(pod_key("web"), pod("web"))

    async def touch(obj: Obj) -> Obj:
        obj["spec"]["touched"] = obj["spec"].get("touched", 0) + 1
        return obj

    with pytest.raises(Conflict) as err:
        await store.guaranteed_update(pod_key("web"), touch, preconditions=Preconditions(uid="other"))
    assert err.value.message == (
        'Operation cannot be fulfilled on pods "web": '
        "Precondition failed: UID in precondition: other, UID in object meta: uid-web"
    )
    with pytest.raises(Conflict) as err:
        await store.guaranteed_update(pod_key("web"), touch, preconditions=Preconditions(resource_version="1"))
    assert err.value.message == (
        'Operation cannot be fulfilled on pods "web": Precondition failed: ResourceVersion in '
        f"precondition: 1, ResourceVersion in object meta: {rv(created)}"
    )
    assert await store.get(pod_key("web")) == created

    matching = Preconditions(uid="uid-web", resource_version=created["metadata"]["resourceVersion"])
    updated = await store.guaranteed_update(pod_key("web"), touch, preconditions=matching)
    assert updated["spec"]["touched"] == 1


async def test_update_retries_on_a_lost_race_against_the_winner(store: Storage) -> None:
    """The update function is called again with the value that won, never blindly
    overwriting it (the compare-and-swap retry path)."""
    await store.create(pod_key("web"), pod("web"))
    calls: list[Obj] = []

    async def racing(obj: Obj) -> Obj:
        calls.append(copy.deepcopy(obj))
        if len(calls) == 1:  # someone else writes between our read and our write

            async def other(o: Obj) -> Obj:
                o["metadata"].setdefault("labels", {})["other"] = "yes"
                return o

            await store.guaranteed_update(pod_key("web"), other)
        obj["spec"]["mine"] = True
        return obj

    final = await store.guaranteed_update(pod_key("web"), racing)
    assert len(calls) == 2
    assert "labels" not in calls[0]["metadata"] and calls[1]["metadata"]["labels"] == {"other": "yes"}
    assert final["metadata"]["labels"] == {"other": "yes"} and final["spec"]["mine"] is True
    assert await store.get(pod_key("web")) == final


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writers=st.integers(min_value=2, max_value=20), increments=st.integers(min_value=1, max_value=4))
@example(writers=20, increments=4)
async def test_concurrent_updates_lose_nothing(store: Storage, writers: int, increments: int) -> None:
    """Many writers incrementing one counter: every increment lands exactly once, and the
    counter's history (seen by watch) is 1, 2, ..., n in revision order."""
    key = key_for("counters", "default", f"c-{uuid.uuid4().hex[:8]}")
    created = await store.create(key, {"metadata": {"name": "c"}, "count": 0})

    async def increment(obj: Obj) -> Obj:
        await asyncio.sleep(0)  # let the other writers read the same value: real races
        obj["count"] += 1
        return obj

    async def writer() -> None:
        for _ in range(increments):
            await store.guaranteed_update(key, increment)

    await asyncio.gather(*(writer() for _ in range(writers)))
    total = writers * increments
    assert (await store.get(key))["count"] == total

    watch = store.watch(key, revision=rv(created))
    try:
        counts = [(await anext(watch)).object["count"] for _ in range(total)]
    finally:
        await watch.aclose()  # type: ignore[attr-defined]
    assert counts == list(range(1, total + 1))


# -- delete -----------------------------------------------------------------------------


async def test_delete_returns_the_last_value_at_the_delete_revision(store: Storage) -> None:
    created = await store.create(pod_key("web"), pod("web"))
    deleted = await store.delete(pod_key("web"))
    assert rv(deleted) > rv(created)
    assert rv(deleted) == await store.current_revision()
    assert {**deleted, "metadata": {**deleted["metadata"], "resourceVersion": "x"}} == {
        **created,
        "metadata": {**created["metadata"], "resourceVersion": "x"},
    }
    with pytest.raises(NotFound):
        await store.get(pod_key("web"))
    with pytest.raises(NotFound, match=r'^pods "web" not found$'):
        await store.delete(pod_key("web"))


async def test_delete_preconditions_and_validation(store: Storage) -> None:
    created = await store.create(pod_key("web"), pod("web"))
    with pytest.raises(Conflict, match="Precondition failed: UID in precondition: nope, UID in object meta: uid-web"):
        await store.delete(pod_key("web"), preconditions=Preconditions(uid="nope"))
    with pytest.raises(Conflict, match="Precondition failed: ResourceVersion in precondition: 1,"):
        await store.delete(pod_key("web"), preconditions=Preconditions(resource_version="1"))

    seen: list[Obj] = []

    async def refuse(obj: Obj) -> None:
        seen.append(obj)
        raise Conflict.of(resource="pods", name="web", err="has finalizers")

    with pytest.raises(Conflict, match="has finalizers"):
        await store.delete(pod_key("web"), validate=refuse)
    assert seen == [created]
    assert await store.get(pod_key("web")) == created

    ok = Preconditions(uid="uid-web", resource_version=created["metadata"]["resourceVersion"])
    await store.delete(pod_key("web"), preconditions=ok)
    with pytest.raises(NotFound):
        await store.get(pod_key("web"))


async def test_delete_retries_against_a_concurrent_update(store: Storage) -> None:
    await store.create(pod_key("web"), pod("web"))
    seen: list[Obj] = []

    async def check(obj: Obj) -> None:
        seen.append(obj)
        if len(seen) == 1:

            async def relabel(o: Obj) -> Obj:
                o["metadata"]["labels"] = {"late": "write"}
                return o

            await store.guaranteed_update(pod_key("web"), relabel)

    deleted = await store.delete(pod_key("web"), validate=check)
    assert len(seen) == 2 and seen[1]["metadata"]["labels"] == {"late": "write"}
    assert deleted["metadata"]["labels"] == {"late": "write"}
