"""LIST and GET from the cache: filters, key order, the revision they are consistent with."""

from __future__ import annotations

import pytest

from apiserver.storage.interface import Storage
from apiserver.watchcache import Cacher
from kube.errors import Timeout, TooManyRequests


def names(objs: list[dict]) -> list[str]:
    return [f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in objs]


@pytest.fixture
async def populated(storage: Storage, cacher: Cacher, kit) -> Cacher:
    specs = [
        ("a", "ns1", "node-1", {"app": "web"}),
        ("b", "ns1", "node-2", {"app": "db"}),
        ("c", "ns2", "node-1", {"app": "web"}),
        ("d", "ns2", "", {"app": "web", "tier": "front"}),
        ("e", "ns1", "node-1", {}),
    ]
    last = {}
    for name, ns, node, labels in specs:
        last = await storage.create(kit.key(name, ns), kit.pod(name, namespace=ns, node=node, labels=labels))
    await storage.delete(kit.key("e", "ns1"))
    await kit.relabel(storage, kit.key("b", "ns1"), labels={"app": "web"})
    await cacher.wait_until_fresh(await storage.current_revision())
    assert last
    return cacher


async def test_list_all_sorted_by_key_at_the_cache_revision(populated: Cacher, storage: Storage) -> None:
    objs, revision = populated.list()
    assert names(objs) == ["ns1/a", "ns1/b", "ns2/c", "ns2/d"]
    assert revision == populated.revision == await storage.current_revision()
    expected = await storage.list("/registry/pods/")
    assert objs == expected.items


async def test_list_filters(populated: Cacher, kit) -> None:
    assert names(populated.list(namespace="ns2")[0]) == ["ns2/c", "ns2/d"]
    assert names(populated.list(label_selector=kit.labels("app=web"))[0]) == ["ns1/a", "ns1/b", "ns2/c", "ns2/d"]
    assert names(populated.list(label_selector=kit.labels("tier=front"))[0]) == ["ns2/d"]
    assert names(populated.list(field_selector=kit.fields("spec.nodeName=node-1"))[0]) == ["ns1/a", "ns2/c"]
    assert names(
        populated.list(namespace="ns1", field_selector=kit.fields("spec.nodeName=node-1"))[0]
    ) == ["ns1/a"]
    assert names(populated.list(field_selector=kit.fields("spec.nodeName!=node-1"))[0]) == ["ns1/b", "ns2/d"]
    assert populated.list(namespace="nope")[0] == []
    assert populated.list(field_selector=kit.fields("spec.nodeName=nowhere"))[0] == []


async def test_get(populated: Cacher, kit) -> None:
    obj = populated.get(kit.key("b", "ns1"))
    assert obj is not None and obj["metadata"]["labels"] == {"app": "web"}
    assert populated.get(kit.key("e", "ns1")) is None


async def test_wait_until_fresh_times_out_with_too_large_resource_version(cacher: Cacher) -> None:
    with pytest.raises(Timeout) as caught:
        await cacher.wait_until_fresh(cacher.revision + 1000, timeout=0.01)
    assert caught.value.code == 504
    assert caught.value.message.startswith("Timeout: Too large resource version")
    await cacher.wait_until_fresh(cacher.revision)  # already there: returns at once


async def test_reads_before_start_are_refused(storage: Storage, kit) -> None:
    cacher = kit.cacher(storage)
    with pytest.raises(TooManyRequests):
        cacher.list()
    with pytest.raises(TooManyRequests):
        cacher.watch(revision=0)
