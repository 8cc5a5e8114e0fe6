"""LIST sources and consistency (storage, cache, exact revision, paging with
selectors) and WATCH from the cache."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from apiserver.bootstrap import bootstrap
from apiserver.registry import API, ListOptions, ResourceVersionMatch
from apiserver.storage import open_storage
from kube.errors import BadRequest, Expired, Timeout
from kube.resources import default_registry

from .helpers import configmap, ctx_for, pod, store_of


async def _names(page_items: list[dict]) -> list[str]:
    return [i["metadata"]["name"] for i in page_items]


async def test_list_filters_by_label_and_field(api: API) -> None:
    pods = store_of(api, "pods")
    await pods.create(ctx_for(pods), pod("a", nodeName="n1"))
    b = pod("b", nodeName="n2")
    b["metadata"]["labels"] = {"app": "db"}
    await pods.create(ctx_for(pods), b)
    for rv in (None, "0"):
        by_label = await pods.list(ctx_for(pods), options=ListOptions(label_selector="app=db", resource_version=rv))
        assert await _names(by_label.items) == ["b"]
        by_node = await pods.list(
            ctx_for(pods, namespace=""), options=ListOptions(field_selector="spec.nodeName=n1", resource_version=rv)
        )
        assert await _names(by_node.items) == ["a"]


async def test_unsupported_field_selector_is_400(api: API) -> None:
    pods = store_of(api, "pods")
    with pytest.raises(BadRequest, match="field label not supported"):
        await pods.list(ctx_for(pods), options=ListOptions(field_selector="spec.nope=x"))


async def test_bad_label_selector_is_400(api: API) -> None:
    pods = store_of(api, "pods")
    with pytest.raises(BadRequest):
        await pods.list(ctx_for(pods), options=ListOptions(label_selector="a in (b"))


async def test_paging_with_a_selector_fills_each_page(api: API) -> None:
    cms = store_of(api, "configmaps")
    for i in range(12):
        body = configmap(f"c{i:02}")
        body["metadata"]["labels"] = {"even": str(i % 2 == 0).lower()}
        await cms.create(ctx_for(cms), body)
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await cms.list(ctx_for(cms), options=ListOptions(label_selector="even=true", limit=2, continue_token=token))
        pages += 1
        assert len(page.items) <= 2
        seen += await _names(page.items)
        token = page.continue_token
        if not token:
            break
    assert seen == [f"c{i:02}" for i in range(0, 12, 2)]
    assert pages in (3, 4)


async def test_paging_without_selector_reports_remaining(api: API) -> None:
    cms = store_of(api, "configmaps")
    for i in range(5):
        await cms.create(ctx_for(cms), configmap(f"c{i}"))
    page = await cms.list(ctx_for(cms), options=ListOptions(limit=2))
    assert len(page.items) == 2 and page.continue_token
    assert page.list_meta()["remainingItemCount"] == 3


async def test_exact_resource_version_reads_history(api: API) -> None:
    cms = store_of(api, "configmaps")
    first = await cms.create(ctx_for(cms), configmap("a"))
    await cms.create(ctx_for(cms), configmap("b"))
    then = await cms.list(
        ctx_for(cms),
        options=ListOptions(resource_version=first["metadata"]["resourceVersion"], resource_version_match=ResourceVersionMatch.EXACT),
    )
    assert await _names(then.items) == ["a"]
    assert then.resource_version == first["metadata"]["resourceVersion"]


async def test_not_older_than_waits_for_nothing_and_refuses_the_future(api: API) -> None:
    cms = store_of(api, "configmaps")
    created = await cms.create(ctx_for(cms), configmap("a"))
    rv = created["metadata"]["resourceVersion"]
    page = await cms.list(ctx_for(cms), options=ListOptions(resource_version=rv))
    assert int(page.resource_version) >= int(rv)
    with pytest.raises(Timeout, match="Too large resource version"):
        await cms.list(ctx_for(cms), options=ListOptions(resource_version=str(int(rv) + 1000)))


async def test_cache_list_is_served_at_rv_zero(api: API) -> None:
    cms = store_of(api, "configmaps")
    created = await cms.create(ctx_for(cms), configmap("a"))
    assert cms.cacher is not None
    await cms.cacher.wait_until_fresh(int(created["metadata"]["resourceVersion"]))
    page = await cms.list(ctx_for(cms), options=ListOptions(resource_version="0"))
    assert await _names(page.items) == ["a"]


async def test_watch_from_a_revision_and_initial_state(api: API) -> None:
    cms = store_of(api, "configmaps")
    created = await cms.create(ctx_for(cms), configmap("a"))
    rv = created["metadata"]["resourceVersion"]
    initial = await cms.watch(ctx_for(cms), options=ListOptions())
    from_rv = await cms.watch(ctx_for(cms), options=ListOptions(resource_version=rv))
    await cms.create(ctx_for(cms), configmap("b"))
    try:
        first = await asyncio.wait_for(initial.__aiter__().__anext__(), 2)
        assert (first.type, first.object["metadata"]["name"]) == ("ADDED", "a")
        nxt = await asyncio.wait_for(from_rv.__aiter__().__anext__(), 2)
        assert (nxt.type, nxt.object["metadata"]["name"]) == ("ADDED", "b")
    finally:
        initial.close()
        from_rv.close()


async def test_watch_of_one_name(api: API) -> None:
    cms = store_of(api, "configmaps")
    stream = await cms.watch(ctx_for(cms, name="b"), options=ListOptions())
    await cms.create(ctx_for(cms), configmap("a"))
    await cms.create(ctx_for(cms), configmap("b"))
    try:
        event = await asyncio.wait_for(stream.__aiter__().__anext__(), 2)
        assert event.object["metadata"]["name"] == "b"
    finally:
        stream.close()


async def test_send_initial_events_ends_with_a_marked_bookmark(api: API) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap("a"))
    stream = await cms.watch(
        ctx_for(cms),
        options=ListOptions(
            send_initial_events=True,
            allow_bookmarks=True,
            resource_version_match=ResourceVersionMatch.NOT_OLDER_THAN,
        ),
    )
    try:
        it = stream.__aiter__()
        added = await asyncio.wait_for(it.__anext__(), 2)
        bookmark = await asyncio.wait_for(it.__anext__(), 2)
        assert added.type == "ADDED"
        assert bookmark.type == "BOOKMARK"
        assert bookmark.object["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    finally:
        stream.close()


async def test_watch_from_before_the_cache_history_is_expired(tmp_path: Path) -> None:
    storage = await open_storage(data_dir=tmp_path)
    api = API(storage=storage, resources=default_registry(), cacher_options={"history_max_events": 2})
    await api.start()
    try:
        await bootstrap(api)
        cms = store_of(api, "configmaps")
        first = await cms.create(ctx_for(cms), configmap("c0"))
        for i in range(1, 5):
            last = await cms.create(ctx_for(cms), configmap(f"c{i}"))
        assert cms.cacher is not None
        await cms.cacher.wait_until_fresh(int(last["metadata"]["resourceVersion"]))
        with pytest.raises(Expired, match="too old resource version"):
            await cms.watch(ctx_for(cms), options=ListOptions(resource_version=first["metadata"]["resourceVersion"]))
    finally:
        await api.stop()
        await storage.close()
