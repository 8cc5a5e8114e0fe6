"""The garbage collector, run against kube.testing with the fake's own collection off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from controller.garbagecollector import GarbageCollector
from kube.testing import FakeCluster
from tests.kube.crd.fixtures import widget, widget_crd


def configmap(name: str, *owners: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if owners:
        meta["ownerReferences"] = [
            {"apiVersion": o["apiVersion"], "kind": o["kind"], "name": o["metadata"]["name"],
             "uid": o["metadata"]["uid"], "blockOwnerDeletion": True} for o in owners]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with FakeCluster(garbage_collection=False) as cluster:
        await cluster.apply(widget_crd())
        cluster.start(GarbageCollector(cluster.client(), clock=cluster.clock).run())
        await cluster.settle()
        yield cluster


async def test_dependents_of_a_deleted_owner_are_deleted(cluster: FakeCluster) -> None:
    owner = await cluster.apply(configmap("owner"))
    await cluster.apply(configmap("child", owner))
    grandchild_owner = cluster.get("configmaps", "child")
    assert grandchild_owner is not None
    await cluster.apply(configmap("grandchild", grandchild_owner))
    await cluster.settle()
    await cluster.client().delete(cluster.info("configmaps"), name="owner")
    await cluster.settle()
    assert [c["metadata"]["name"] for c in cluster.objects("configmaps", "default")] == []


async def test_a_custom_resource_owner(cluster: FakeCluster) -> None:
    owner = await cluster.apply(widget())
    await cluster.apply(configmap("made-for-w1", owner))
    await cluster.settle()
    await cluster.client().delete(cluster.info("widgets"), name="w1")
    await cluster.settle()
    assert cluster.get("configmaps", "made-for-w1") is None


async def test_only_dangling_references_are_dropped_while_an_owner_remains(cluster: FakeCluster) -> None:
    first = await cluster.apply(configmap("first"))
    second = await cluster.apply(configmap("second"))
    await cluster.apply(configmap("shared", first, second))
    await cluster.settle()
    await cluster.client().delete(cluster.info("configmaps"), name="first")
    await cluster.settle()
    shared = cluster.get("configmaps", "shared")
    assert shared is not None
    assert [r["name"] for r in shared["metadata"]["ownerReferences"]] == ["second"]


async def test_orphan_and_foreground_propagation(cluster: FakeCluster) -> None:
    owner = await cluster.apply(configmap("orphaner"))
    await cluster.apply(configmap("kept", owner))
    await cluster.settle()
    await cluster.client().delete(cluster.info("configmaps"), name="orphaner", propagation_policy="Orphan")
    await cluster.settle()
    kept = cluster.get("configmaps", "kept")
    assert kept is not None and "ownerReferences" not in kept["metadata"]
    assert cluster.get("configmaps", "orphaner") is None

    parent = await cluster.apply(configmap("parent"))
    await cluster.apply(configmap("first-to-go", parent))
    await cluster.settle()
    marked = await cluster.client().delete(cluster.info("configmaps"), name="parent", propagation_policy="Foreground")
    assert "foregroundDeletion" in marked["metadata"]["finalizers"]
    await cluster.settle()
    assert cluster.get("configmaps", "first-to-go") is None
    assert cluster.get("configmaps", "parent") is None


async def test_an_owner_the_graph_has_not_seen_is_looked_up_before_deleting(cluster: FakeCluster) -> None:
    owner = await cluster.apply(configmap("real-owner"))
    # A dependent whose owner reference names a live object the collector's cache lacks
    # (here: one it does not watch, so only the live GET can tell).
    await cluster.apply(configmap("safe", owner))
    await cluster.settle()
    assert cluster.get("configmaps", "safe") is not None
