"""Shared informers against the real API server: sync, events, many handlers, resync, indexes, relist."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kube.client import Backoff, Client, FakeClock, RetryPolicy
from kube.informers import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    SharedInformer,
    SharedInformerFactory,
    field_index,
)
from kube.kubeconfig import load_kubeconfig
from kube.resources import default_registry
from tests.kube.fakes import BreakableTransport, Recorder, eventually

R = default_registry()
CONFIGMAPS = R.lookup("configmaps")[0]
PODS = R.lookup("pods")[0]
NAMESPACES = R.lookup("namespaces")[0]
FAST = {"backoff": Backoff(initial=0.01, cap=0.05)}


def configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {}},
        "data": data,
    }


def pod(name: str, node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


@pytest.fixture
async def running() -> AsyncIterator[list[SharedInformer]]:
    """Informers a test starts; stopped at the end whatever happens."""
    informers: list[SharedInformer] = []
    yield informers
    for informer in informers:
        await informer.stop()


async def start(informer: SharedInformer, running: list[SharedInformer]) -> SharedInformer:
    running.append(informer)
    informer.start()
    async with asyncio.timeout(15):
        await informer.wait_for_sync()
    return informer


async def test_initial_list_is_paged_then_cached_and_handed_to_handlers(
    client: Client, namespace: str, running: list[SharedInformer]
) -> None:
    for i in range(5):
        await client.create(CONFIGMAPS, configmap(f"c{i}"), namespace=namespace)
    informer = SharedInformer(client, CONFIGMAPS, namespace=namespace, page_size=2, **FAST)
    rec = Recorder()
    reg = informer.add_event_handler(**rec.handlers())
    assert not informer.has_synced()
    await start(informer, running)
    assert sorted(informer.store.list_keys()) == [f"{namespace}/c{i}" for i in range(5)]
    assert informer.last_sync_resource_version()
    await rec.wait_for(reg.has_synced)
    assert sorted(rec.names("add")) == [f"c{i}" for i in range(5)]
    # Items of a List carry no kind; the reflector fills it in for handlers.
    assert all(o["kind"] == "ConfigMap" and o["apiVersion"] == "v1" for o in rec.of("add"))


async def test_changes_arrive_as_add_update_delete_and_the_cache_follows(
    client: Client, namespace: str, running: list[SharedInformer]
) -> None:
    informer = SharedInformer(client, CONFIGMAPS, namespace=namespace, **FAST)
    rec = Recorder()
    informer.add_event_handler(**rec.handlers())
    await start(informer, running)

    await client.create(CONFIGMAPS, configmap("x", v="1"), namespace=namespace)
    await rec.wait_for(lambda: rec.names("add") == ["x"])
    await client.patch(CONFIGMAPS, name="x", namespace=namespace, patch={"data": {"v": "2"}})
    await rec.wait_for(lambda: len(rec.of("update")) == 1)
    ((_, new, old),) = [e for e in rec.events if e[0] == "update"]
    assert old["data"] == {"v": "1"} and new["data"] == {"v": "2"}
    assert informer.store.get_by_key(f"{namespace}/x")["data"] == {"v": "2"}  # type: ignore[index]
    await client.delete(CONFIGMAPS, name="x", namespace=namespace)
    await rec.wait_for(lambda: rec.names("delete") == ["x"])
    assert informer.store.get_by_key(f"{namespace}/x") is None
    assert informer.last_sync_resource_version() == rec.of("delete")[0]["metadata"]["resourceVersion"]


async def test_many_handlers_share_one_watch_and_late_ones_get_the_cache_as_adds(
    client: Client, namespace: str, running: list[SharedInformer], apiserver_kubeconfig: Path
) -> None:
    transport = BreakableTransport(load_kubeconfig(apiserver_kubeconfig))
    async with Client(load_kubeconfig(apiserver_kubeconfig), transport=transport) as counted:
        await client.create(CONFIGMAPS, configmap("before"), namespace=namespace)
        informer = SharedInformer(counted, CONFIGMAPS, namespace=namespace, **FAST)
        early = [Recorder() for _ in range(3)]
        for rec in early:
            informer.add_event_handler(**rec.handlers())
        await start(informer, running)
        late = Recorder()
        reg = informer.add_event_handler(**late.handlers())
        await late.wait_for(reg.has_synced)
        assert late.names("add") == ["before"]

        await client.create(CONFIGMAPS, configmap("after"), namespace=namespace)
        for rec in [*early, late]:
            await rec.wait_for(lambda rec=rec: sorted(rec.names("add")) == ["after", "before"])
        assert transport.watches_opened == 1
        assert informer.reflector.lists == 1


async def test_a_slow_or_failing_handler_holds_up_only_itself(
    client: Client, namespace: str, running: list[SharedInformer]
) -> None:
    informer = SharedInformer(client, CONFIGMAPS, namespace=namespace, **FAST)
    gate = asyncio.Event()
    slow_seen: list[str] = []

    async def slow(obj: dict[str, Any]) -> None:
        await gate.wait()
        slow_seen.append(obj["metadata"]["name"])

    def broken(obj: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    fast = Recorder()
    slow_reg = informer.add_event_handler(on_add=slow)
    informer.add_event_handler(on_add=broken)
    informer.add_event_handler(**fast.handlers())
    await start(informer, running)
    for name in ("a", "b", "c"):
        await client.create(CONFIGMAPS, configmap(name), namespace=namespace)
    await fast.wait_for(lambda: len(fast.of("add")) == 3)
    assert slow_seen == [] and slow_reg.pending() >= 2
    gate.set()
    await eventually(lambda: slow_seen == ["a", "b", "c"])


async def test_resync_redelivers_the_cache_to_handlers_that_asked(
    client: Client, namespace: str, running: list[SharedInformer]
) -> None:
    clock = FakeClock()
    await client.create(CONFIGMAPS, configmap("r"), namespace=namespace)
    informer = SharedInformer(client, CONFIGMAPS, namespace=namespace, clock=clock, **FAST)
    wants = Recorder()
    quiet = Recorder()
    informer.add_event_handler(**wants.handlers(), resync_period=30)
    quiet_reg = informer.add_event_handler(**quiet.handlers())
    await start(informer, running)
    await quiet.wait_for(quiet_reg.has_synced)
    await eventually(lambda: clock.pending() > 0)  # the resync loop is waiting on the clock
    clock.step(29)
    await asyncio.sleep(0.05)
    assert wants.of("update") == []
    clock.step(1)
    await wants.wait_for(lambda: len(wants.of("update")) == 1)
    ((_, new, old),) = [e for e in wants.events if e[0] == "update"]
    assert new is old  # update(obj, obj)
    await eventually(lambda: clock.pending() > 0)
    clock.step(30)
    await wants.wait_for(lambda: len(wants.of("update")) == 2)
    assert quiet.of("update") == []


async def test_custom_and_namespace_indexes(
    client: Client, namespace: str, running: list[SharedInformer]
) -> None:
    informer = SharedInformer(client, PODS, indexers={"node": field_index("spec.nodeName")}, **FAST)
    await start(informer, running)
    await client.create(PODS, pod("p1", node="n1"), namespace=namespace)
    await client.create(PODS, pod("p2", node="n1"), namespace=namespace)
    await client.create(PODS, pod("p3"), namespace=namespace)
    await eventually(lambda: len(informer.store.by_index(NAMESPACE_INDEX, namespace)) == 3)
    on_n1 = sorted(p["metadata"]["name"] for p in informer.store.by_index("node", "n1"))
    assert on_n1 == ["p1", "p2"]


async def test_label_selected_informer_sees_only_matches(
    client: Client, namespace: str, running: list[SharedInformer]
) -> None:
    informer = SharedInformer(client, CONFIGMAPS, namespace=namespace, label_selector="app=web", **FAST)
    rec = Recorder()
    informer.add_event_handler(**rec.handlers())
    await start(informer, running)
    await client.create(CONFIGMAPS, configmap("other", {"app": "db"}), namespace=namespace)
    await client.create(CONFIGMAPS, configmap("web", {"app": "web"}), namespace=namespace)
    await rec.wait_for(lambda: rec.names("add") == ["web"])
    assert informer.store.list_keys() == [f"{namespace}/web"]


async def test_a_broken_watch_relists_and_tombstones_what_vanished_meanwhile(
    client: Client, namespace: str, running: list[SharedInformer], apiserver_kubeconfig: Path
) -> None:
    config = load_kubeconfig(apiserver_kubeconfig)
    transport = BreakableTransport(config)
    async with Client(config, transport=transport, retry=RetryPolicy(max_retries=0)) as breakable:
        await client.create(CONFIGMAPS, configmap("stays"), namespace=namespace)
        await client.create(CONFIGMAPS, configmap("goes"), namespace=namespace)
        informer = SharedInformer(breakable, CONFIGMAPS, namespace=namespace, **FAST)
        rec = Recorder()
        informer.add_event_handler(**rec.handlers())
        await start(informer, running)
        await rec.wait_for(lambda: len(rec.of("add")) == 2)

        transport.block_watches = True
        transport.break_watches()
        await client.delete(CONFIGMAPS, name="goes", namespace=namespace)
        lists = informer.reflector.lists
        # Two lists that began after the delete: the relist has certainly seen it.
        await eventually(lambda: informer.reflector.lists >= lists + 2)
        transport.block_watches = False

        await rec.wait_for(lambda: len(rec.of("delete")) == 1)
        tombstone = rec.of("delete")[0]
        assert isinstance(tombstone, DeletedFinalStateUnknown)
        assert tombstone.key == f"{namespace}/goes"
        assert tombstone.obj["metadata"]["name"] == "goes"
        assert "stays" in rec.names("update")  # a relist re-delivers survivors as updates
        assert informer.store.list_keys() == [f"{namespace}/stays"]

        # And it watches again: new changes flow.
        await client.create(CONFIGMAPS, configmap("new"), namespace=namespace)
        await rec.wait_for(lambda: "new" in rec.names("add"))


async def test_factory_shares_one_informer_per_resource_and_variant(client: Client, namespace: str) -> None:
    factory = SharedInformerFactory(client, namespace=namespace, **FAST)
    try:
        a = factory.informer_for(CONFIGMAPS)
        b = factory.informer_for(CONFIGMAPS, indexers={"node": field_index("spec.nodeName")})
        selected = factory.informer_for(CONFIGMAPS, label_selector="x=y")
        everywhere = factory.informer_for(CONFIGMAPS, namespace="")
        nodes_view = factory.informer_for(NAMESPACES)
        assert a is b and "node" in a.store.indexers()
        assert len({id(a), id(selected), id(everywhere), id(nodes_view)}) == 4
        assert nodes_view.reflector.namespace == ""  # cluster-scoped: no namespace
        await client.create(CONFIGMAPS, configmap("f"), namespace=namespace)
        factory.start()
        async with asyncio.timeout(15):
            await factory.wait_for_cache_sync()
        assert factory.unsynced() == []
        assert a.store.list_keys() == [f"{namespace}/f"]
        assert f"{namespace}/f" in everywhere.store.list_keys()
        assert "default" in nodes_view.store.list_keys()
    finally:
        await factory.shutdown()
