"""The pieces alone: history window, time budget, store indexes."""

from __future__ import annotations

import pytest

from apiserver.watchcache.dispatch import TimeBudget
from apiserver.watchcache.events import Change, Entry
from apiserver.watchcache.history import History
from apiserver.watchcache.store import Store
from kube.errors import Expired


def entry(name: str, *, ns: str = "default", node: str | None = None) -> Entry:
    return Entry(
        key=f"/registry/pods/{ns}/{name}",
        obj={"metadata": {"name": name, "namespace": ns}},
        revision=1,
        labels={},
        fields={},
        namespace=ns,
        index_value=node,
    )


def change(revision: int, at: float) -> Change:
    return Change(revision=revision, cur=entry(f"p{revision}"), old=None, deleted_obj=None, recorded_at=at)


def test_history_is_bounded_by_age() -> None:
    history = History(max_age=10.0, max_events=100)
    history.reset(revision=1)
    for rev, at in [(2, 0.0), (3, 5.0), (4, 12.0)]:
        history.append(change(rev, at))
    assert len(history) == 2  # revision 2 (t=0) is older than 12 - 10
    assert history.horizon == 2
    assert [c.revision for c in history.since(2)] == [3, 4]
    with pytest.raises(Expired):
        history.since(1)


def test_history_is_bounded_by_count_and_compacts() -> None:
    history = History(max_age=1e9, max_events=10)
    history.reset(revision=0)
    for rev in range(1, 5001):
        history.append(change(rev, float(rev)))
    assert len(history) == 10
    assert history.horizon == 4990
    assert [c.revision for c in history.since(4995)] == [4996, 4997, 4998, 4999, 5000]
    assert history.since(5000) == []
    assert len(history._changes) < 2100  # trimmed prefix is really dropped


def test_time_budget_is_shared_and_refills_slowly() -> None:
    budget = TimeBudget(maximum=0.1)
    assert budget.take(now=0.0) == pytest.approx(0.1)
    assert budget.take(now=0.0) == 0.0
    assert budget.take(now=0.1) == pytest.approx(0.005)  # refills at half the max per second
    budget.give_back(0.03)
    assert budget.take(now=0.1) == pytest.approx(0.03)
    assert budget.take(now=100.0) == pytest.approx(0.1)  # never above the maximum


def test_store_indexes_follow_updates_and_deletes() -> None:
    store = Store(fields_of=lambda obj: {}, index_field="spec.nodeName")
    store.put(entry("a", node="n1"))
    store.put(entry("b", node="n1", ns="other"))
    assert [e.key for e in store.candidates(index_value="n1")] == [
        "/registry/pods/default/a",
        "/registry/pods/other/b",
    ]
    store.put(entry("a", node="n2"))
    assert [e.key for e in store.candidates(index_value="n1")] == ["/registry/pods/other/b"]
    assert [e.key for e in store.candidates(index_value="n2")] == ["/registry/pods/default/a"]
    store.delete("/registry/pods/other/b")
    assert store.candidates(index_value="n1") == []
    assert store.candidates(namespace="other") == []
    assert [e.key for e in store.candidates()] == ["/registry/pods/default/a"]
