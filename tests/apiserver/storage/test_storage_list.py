"""Conformance, part 2: list at a revision, paging with continue tokens, compaction."""

from __future__ import annotations

import asyncio
import base64

import orjson
import pytest

from apiserver.storage import ContinueExpired, Storage, key_for, prefix_for
from kube.errors import BadRequest, Expired, Timeout

from .helpers import pod, pod_key, rv


def names(items: list[dict]) -> list[str]:
    return [o["metadata"]["name"] for o in items]


async def test_list_is_sorted_by_key_and_stays_under_the_prefix(store: Storage) -> None:
    for ns, name in [("b", "x"), ("a", "z"), ("a", "y"), ("c", "w")]:
        await store.create(pod_key(name, ns), pod(name, ns))
    await store.create(key_for("podtemplates", "a", "t"), pod("t", "a"))  # "/registry/pod..." sibling
    await store.create(key_for("services", "a", "s"), pod("s", "a"))

    everything = await store.list(prefix_for("pods"))
    assert names(everything.items) == ["y", "z", "x", "w"]
    assert everything.revision == await store.current_revision()
    assert everything.continue_token == "" and everything.remaining is None
    assert names((await store.list(prefix_for("pods", "a"))).items) == ["y", "z"]
    assert (await store.list(prefix_for("pods", "nope"))).items == []
    for item in everything.items:
        assert item == await store.get(pod_key(item["metadata"]["name"], item["metadata"]["namespace"]))


async def test_list_at_a_revision_shows_that_moment(store: Storage) -> None:
    for name in ["a", "b", "c"]:
        await store.create(pod_key(name), pod(name))
    then = await store.list(prefix_for("pods"))

    async def relabel(obj: dict) -> dict:
        obj["metadata"]["labels"] = {"changed": "yes"}
        return obj

    await store.guaranteed_update(pod_key("a"), relabel)
    await store.delete(pod_key("b"))
    await store.create(pod_key("d"), pod("d"))

    again = await store.list(prefix_for("pods"), revision=then.revision)
    assert again.items == then.items
    assert again.revision == then.revision
    now = await store.list(prefix_for("pods"))
    assert names(now.items) == ["a", "c", "d"]
    assert now.items[0]["metadata"]["labels"] == {"changed": "yes"}


async def test_list_at_a_future_revision_asks_to_retry(store: Storage) -> None:
    await store.create(pod_key("a"), pod("a"))
    current = await store.current_revision()
    with pytest.raises(Timeout) as err:
        await store.list(prefix_for("pods"), revision=current + 100)
    assert err.value.message == f"Timeout: Too large resource version: {current + 100}, current: {current}"
    assert err.value.code == 504 and err.value.details.retry_after_seconds == 1


async def test_paging_is_one_snapshot_despite_concurrent_writes(store: Storage) -> None:
    for i in range(7):
        await store.create(pod_key(f"p{i}"), pod(f"p{i}"))
    snapshot = await store.list(prefix_for("pods"))

    first = await store.list(prefix_for("pods"), limit=3)
    assert names(first.items) == ["p0", "p1", "p2"] and first.remaining == 4 and first.continue_token

    async def bump(obj: dict) -> dict:
        obj["spec"]["bumped"] = True
        return obj

    # Writes between pages, racing with the page reads themselves.
    writes = asyncio.gather(
        store.guaranteed_update(pod_key("p5"), bump),
        store.delete(pod_key("p4")),
        store.create(pod_key("p3a"), pod("p3a")),
        store.create(pod_key("p9"), pod("p9")),
    )
    second = await store.list(prefix_for("pods"), limit=3, continue_token=first.continue_token)
    await writes
    third = await store.list(prefix_for("pods"), limit=3, continue_token=second.continue_token)

    assert names(second.items) == ["p3", "p4", "p5"] and second.remaining == 1
    assert names(third.items) == ["p6"] and third.continue_token == "" and third.remaining is None
    assert first.revision == second.revision == third.revision == snapshot.revision
    assert first.items + second.items + third.items == snapshot.items
    assert names((await store.list(prefix_for("pods"))).items) == ["p0", "p1", "p2", "p3", "p3a", "p5", "p6", "p9"]


async def test_a_page_that_holds_the_rest_has_no_token(store: Storage) -> None:
    for i in range(3):
        await store.create(pod_key(f"p{i}"), pod(f"p{i}"))
    exact = await store.list(prefix_for("pods"), limit=3)
    assert len(exact.items) == 3 and exact.continue_token == "" and exact.remaining is None


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("%%%not-base64%%%", "continue key is not valid"),
        (_token(["a list"]), "server does not recognize this encoded version"),
        (_token({"v": "meta.k8s.io/v2", "rv": 5, "start": "a"}), "server does not recognize"),
        (_token({"v": "meta.k8s.io/v1", "rv": 0, "start": "a"}), "incorrect encoded start resourceVersion"),
        (_token({"v": "meta.k8s.io/v1", "rv": 5, "start": ""}), "encoded start key empty"),
        (_token({"v": "meta.k8s.io/v1", "rv": 5, "start": "../secrets/x"}), "continue key is not valid: ../secrets/x"),
    ],
)
async def test_a_malformed_continue_token_is_a_bad_request(store: Storage, token: str, why: str) -> None:
    await store.create(pod_key("a"), pod("a"))
    with pytest.raises(BadRequest) as err:
        await store.list(prefix_for("pods"), limit=1, continue_token=token)
    assert err.value.message.startswith("invalid continue token: ")
    assert why in err.value.message


async def test_continue_with_an_explicit_revision_is_a_bad_request(store: Storage) -> None:
    for i in range(2):
        await store.create(pod_key(f"p{i}"), pod(f"p{i}"))
    first = await store.list(prefix_for("pods"), limit=1)
    with pytest.raises(BadRequest, match="specifying resource version is not allowed when using continue"):
        await store.list(prefix_for("pods"), revision=first.revision, continue_token=first.continue_token)


async def test_compaction_expires_old_revisions_and_tokens(store: Storage) -> None:
    for i in range(4):
        await store.create(pod_key(f"p{i}"), pod(f"p{i}"))
    old = await store.list(prefix_for("pods"), limit=2)
    await store.delete(pod_key("p3"))
    await store.create(pod_key("p4"), pod("p4"))
    compact_at = await store.current_revision()
    await store.compact(compact_at)

    with pytest.raises(Expired) as err:
        await store.list(prefix_for("pods"), revision=old.revision)
    assert err.value.message == f"too old resource version: {old.revision} ({compact_at})"
    assert err.value.code == 410

    with pytest.raises(ContinueExpired) as cont:
        await store.list(prefix_for("pods"), limit=2, continue_token=old.continue_token)
    assert cont.value.message.startswith("The provided continue parameter is too old to display a consistent list")
    assert cont.value.status()["metadata"] == {"continue": cont.value.continue_token}
    # The fresh token resumes after the same key, at the latest revision (inconsistent).
    rest = await store.list(prefix_for("pods"), limit=10, continue_token=cont.value.continue_token)
    assert names(rest.items) == ["p2", "p4"]

    # The compaction point itself, and everything after it, stay readable.
    at_compaction = await store.list(prefix_for("pods"), revision=compact_at)
    assert names(at_compaction.items) == ["p0", "p1", "p2", "p4"]
    assert at_compaction.items == (await store.list(prefix_for("pods"))).items
    assert rv(at_compaction.items[-1]) == compact_at


async def test_compaction_is_idempotent_and_refuses_the_future(store: Storage) -> None:
    for i in range(3):
        await store.create(pod_key(f"p{i}"), pod(f"p{i}"))
    current = await store.current_revision()
    await store.compact(current - 1)
    await store.compact(current - 2)  # older than the compaction point: nothing to do
    await store.compact(current - 1)
    assert len((await store.list(prefix_for("pods"), revision=current - 1)).items) == 2
    with pytest.raises(BadRequest, match=f"cannot compact to revision {current + 10}: the current revision is {current}"):
        await store.compact(current + 10)
    assert len((await store.list(prefix_for("pods"))).items) == 3
