"""kube.informers and kube.workqueue run unchanged on top of the fake API."""

from __future__ import annotations

from typing import Any

from kube.informers import DeletedFinalStateUnknown, SharedInformerFactory
from kube.testing import FakeCluster
from kube.workqueue import RateLimitingQueue


def name_of(obj: Any) -> str:
    # A deletion seen only through a relist arrives as a tombstone holding the last state.
    if isinstance(obj, DeletedFinalStateUnknown):
        obj = obj.obj
    return str(obj["metadata"]["name"])


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": dict(data)}


async def test_informer_syncs_follows_and_survives_watch_ends_and_compaction() -> None:
    async with FakeCluster() as cluster:
        client = cluster.client()
        configmaps = cluster.info("configmaps")
        await client.create(configmaps, configmap("before"))
        factory = SharedInformerFactory(client, clock=cluster.clock)
        informer = factory.informer_for(configmaps)
        seen: list[tuple[str, str]] = []
        informer.add_event_handler(
            on_add=lambda o: seen.append(("add", o["metadata"]["name"])),
            on_update=lambda _old, new: seen.append(("update", new["metadata"]["name"])),
            on_delete=lambda o: seen.append(("delete", name_of(o))),
        )
        factory.start()
        await factory.wait_for_cache_sync()
        await client.create(configmaps, configmap("after"))
        await client.patch(configmaps, name="before", patch={"data": {"a": "1"}})
        await client.delete(configmaps, name="after")
        await cluster.settle()
        assert seen == [("add", "before"), ("add", "after"), ("update", "before"), ("delete", "after")]

        cluster.end_watches()  # the server ends the watch: the reflector resumes from its revision
        await cluster.settle()
        await client.create(configmaps, configmap("resumed"))
        await cluster.settle()
        assert ("add", "resumed") in seen
        lists = informer.reflector.lists

        # The watch ends, changes happen, and the history is compacted before the informer
        # resumes: its revision is gone (410), so it backs off on the fake clock and relists.
        cluster.end_watches()
        await client.delete(configmaps, name="resumed")
        cluster.compact()
        await cluster.advance(60)
        assert informer.reflector.lists > lists
        assert ("delete", "resumed") in seen
        assert sorted(o["metadata"]["name"] for o in informer.store.list()) == ["before"]
        await factory.shutdown()


async def test_delayed_requeues_fire_when_time_advances() -> None:
    async with FakeCluster() as cluster:
        queue: RateLimitingQueue[str] = RateLimitingQueue(clock=cluster.clock)
        queue.add_after("later", 30)
        await cluster.settle(queues=[queue])
        assert len(queue) == 0
        await cluster.advance(29)
        assert len(queue) == 0
        await cluster.advance(1)
        assert len(queue) == 1
