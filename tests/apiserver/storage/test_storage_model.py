"""Conformance, part 5: random histories with compactions, checked against a model.

Hypothesis drives creates, updates, deletes and compactions on a few keys; a plain dict
records what the store must show at every revision. Then every revision since the last
compaction must list exactly the model's snapshot, every older one must be Expired, and
a watch from the compaction point must replay exactly the model's events after it.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apiserver.storage import EventType, Storage, key_for, prefix_for
from kube.errors import Expired

from .conftest import Backend
from .helpers import Obj, assert_quiet, relabel, rv, take

NAMES = ["a", "b", "c"]
ops = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["put", "delete"]), st.sampled_from(NAMES)),
        st.tuples(st.just("compact"), st.just("")),
    ),
    max_size=25,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops)
@example(ops=[("put", "a"), ("put", "b"), ("put", "a"), ("delete", "b"), ("compact", ""),
              ("put", "c"), ("delete", "a"), ("put", "b"), ("compact", ""), ("put", "c")])  # fmt: skip
@example(ops=[("put", "a"), ("delete", "a"), ("compact", ""), ("put", "a"), ("compact", "")])
async def test_every_revision_since_compaction_matches_the_model(
    backend: Backend, ops: list[tuple[str, str]]
) -> None:
    # SQLite compacts in chunks of revisions; tiny chunks exercise their boundaries.
    store = await backend.open(**({"compact_chunk": 2} if backend.name == "sqlite" else {}))
    try:
        await check_history(store, ops)
    finally:
        await store.close()


async def check_history(store: Storage, ops: list[tuple[str, str]]) -> None:
    resource = f"things{uuid.uuid4().hex[:8]}"  # a fresh prefix per example, same store
    prefix = prefix_for(resource)
    state: dict[str, Obj] = {}
    floor = await store.current_revision()
    snapshots: dict[int, list[Obj]] = {floor: []}
    events: list[tuple[int, EventType, Obj]] = []

    for op, name in ops:
        key = key_for(resource, "ns", name)
        if op == "compact":
            floor = await store.current_revision()
            await store.compact(floor)
            continue
        if op == "put" and key in state:
            obj, kind = await store.guaranteed_update(key, relabel), EventType.MODIFIED
            state[key] = obj
        elif op == "put":
            obj, kind = await store.create(key, {"metadata": {"name": name}}), EventType.ADDED
            state[key] = obj
        elif key in state:
            obj, kind = await store.delete(key), EventType.DELETED
            del state[key]
        else:
            continue
        events.append((rv(obj), kind, obj))
        snapshots[rv(obj)] = [state[k] for k in sorted(state)]

    for revision, snapshot in sorted(snapshots.items()):
        if revision < floor:
            with pytest.raises(Expired):
                await store.list(prefix, revision=revision)
        else:
            assert (await store.list(prefix, revision=revision)).items == snapshot

    watch = store.watch(prefix, revision=floor)
    expected = [(kind, obj) for revision, kind, obj in events if revision > floor]
    got = await take(watch, len(expected))
    assert [(e.type, e.object) for e in got] == expected
    await assert_quiet(watch, seconds=0.05)
    await watch.aclose()  # type: ignore[attr-defined]
