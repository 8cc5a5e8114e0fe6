"""The indexed cache: keys, indexes kept in step with every write, thread safety."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from kube.informers.store import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    Store,
    field_index,
    namespace_index,
    object_key,
)


def pod(name: str, ns: str = "default", node: str = "", rv: str = "1") -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": name, "namespace": ns, "resourceVersion": rv}, "spec": {}}
    if node:
        obj["spec"]["nodeName"] = node
    return obj


def make_store() -> Store:
    return Store(indexers={NAMESPACE_INDEX: namespace_index, "node": field_index("spec.nodeName")})


def names(objs: list[dict[str, Any]]) -> list[str]:
    return sorted(o["metadata"]["name"] for o in objs)


def test_keys_are_namespace_slash_name_and_tombstones_keep_theirs() -> None:
    assert object_key(pod("a", "ns")) == "ns/a"
    assert object_key({"metadata": {"name": "node-1"}}) == "node-1"
    assert object_key(DeletedFinalStateUnknown("ns/gone", pod("gone", "ns"))) == "ns/gone"


def test_add_get_update_delete() -> None:
    store = make_store()
    store.add(pod("a"))
    assert store.get_by_key("default/a") == pod("a")
    assert store.get(pod("a")) == pod("a")
    store.update(pod("a", rv="2"))
    assert store.get_by_key("default/a")["metadata"]["resourceVersion"] == "2"  # type: ignore[index]
    assert len(store) == 1 and "default/a" in store
    store.delete(pod("a"))
    assert store.get_by_key("default/a") is None
    store.delete(pod("a"))  # deleting the absent is a no-op
    assert store.list() == [] and store.list_keys() == []


def test_delete_accepts_a_tombstone() -> None:
    store = make_store()
    store.add(pod("a"))
    store.delete(DeletedFinalStateUnknown("default/a", pod("a")))
    assert len(store) == 0


def test_namespace_index() -> None:
    store = make_store()
    for name, ns in (("a", "x"), ("b", "x"), ("c", "y")):
        store.add(pod(name, ns))
    assert names(store.by_index(NAMESPACE_INDEX, "x")) == ["a", "b"]
    assert names(store.by_index(NAMESPACE_INDEX, "y")) == ["c"]
    assert store.by_index(NAMESPACE_INDEX, "z") == []
    assert sorted(store.index_values(NAMESPACE_INDEX)) == ["x", "y"]


def test_field_index_follows_updates_and_skips_unset() -> None:
    store = make_store()
    store.add(pod("a"))  # unscheduled: on no node
    store.add(pod("b", node="n1"))
    assert store.index_values("node") == ["n1"]
    store.update(pod("a", node="n1"))
    assert names(store.by_index("node", "n1")) == ["a", "b"]
    store.update(pod("b", node="n2"))  # moved: filed under the new value only
    assert names(store.by_index("node", "n1")) == ["a"]
    assert store.index_keys("node", "n2") == ["default/b"]
    store.delete(pod("a"))
    assert store.by_index("node", "n1") == []
    assert "n1" not in store.index_values("node")  # emptied values are dropped


def test_index_finds_objects_sharing_a_value() -> None:
    store = make_store()
    store.add(pod("a", node="n1"))
    store.add(pod("b", node="n1"))
    store.add(pod("c", node="n2"))
    assert names(store.index("node", pod("probe", node="n1"))) == ["a", "b"]


def test_unknown_index_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        make_store().by_index("nope", "x")
    with pytest.raises(KeyError):
        make_store().index("nope", pod("a"))


def test_replace_rebuilds_items_and_indexes() -> None:
    store = make_store()
    store.add(pod("old", node="n1"))
    store.replace([pod("a", node="n2"), pod("b", "other")])
    assert store.list_keys() == ["default/a", "other/b"]
    assert store.by_index("node", "n1") == []
    assert names(store.by_index("node", "n2")) == ["a"]
    assert names(store.by_index(NAMESPACE_INDEX, "other")) == ["b"]


def test_add_indexers_indexes_existing_objects_and_refuses_clashes() -> None:
    store = Store()
    store.add(pod("a", node="n1"))
    store.add_indexers({"node": field_index("spec.nodeName")})
    assert names(store.by_index("node", "n1")) == ["a"]
    with pytest.raises(ValueError, match="node"):
        store.add_indexers({"node": field_index("spec.nodeName")})


def test_concurrent_writers_and_readers_keep_indexes_consistent() -> None:
    store = make_store()
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for i in range(500):
                name = f"p{offset}-{i % 50}"
                store.update(pod(name, node=f"n{i % 7}"))
                if i % 3 == 0:
                    store.delete(pod(name))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    def reader() -> None:
        try:
            for _ in range(500):
                for value in store.index_values("node"):
                    for obj in store.by_index("node", value):
                        assert obj["spec"]["nodeName"] == value
        except BaseException as err:  # pragma: no cover
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for obj in store.list():
        assert object_key(obj) in store.index_keys("node", obj["spec"]["nodeName"])
    total = sum(len(store.index_keys("node", v)) for v in store.index_values("node"))
    assert total == len(store)
