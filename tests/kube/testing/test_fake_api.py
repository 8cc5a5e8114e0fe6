"""The fake API behaves as the API server does where a controller can tell."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kube.client import Client
from kube.errors import AlreadyExists, Conflict, Expired, Invalid, NotFound, UnsupportedMediaType
from kube.model import FieldValidation
from kube.testing import FakeCluster
from tests.kube.crd.fixtures import widget, widget_crd


def deployment(name: str = "web", replicas: int = 1) -> dict[str, Any]:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


async def test_client_is_a_client_with_real_write_semantics() -> None:
    cluster = FakeCluster()
    client = cluster.client()
    assert isinstance(client, Client)
    deployments = cluster.info("deploy")
    created = await client.create(deployments, deployment())
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    assert created["spec"]["strategy"]["type"] == "RollingUpdate"  # kube.model defaults
    assert created["metadata"]["managedFields"][0]["operation"] == "Update"
    with pytest.raises(AlreadyExists):
        await client.create(deployments, deployment())
    stale = dict(created)
    updated = await client.update(deployments, {**created, "spec": {**created["spec"], "replicas": 3}})
    assert updated["metadata"]["generation"] == 2
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    with pytest.raises(Conflict):
        await client.update(deployments, stale)
    same = await client.update(deployments, updated)
    assert same["metadata"]["resourceVersion"] == updated["metadata"]["resourceVersion"]
    status = await client.patch(deployments, name="web", patch={"status": {"replicas": 3}, "spec": {"replicas": 9}},
                                subresource="status")
    assert status["status"]["replicas"] == 3 and status["spec"]["replicas"] == 3
    assert status["metadata"]["generation"] == 2


async def test_validation_errors_are_the_servers() -> None:
    cluster = FakeCluster()
    client = cluster.client(field_validation=FieldValidation.STRICT)
    bad = deployment()
    bad["spec"]["template"]["spec"]["containers"] = []
    bad["spec"]["bogus"] = 1
    with pytest.raises(Invalid) as err:
        await client.create(cluster.info("deployments"), bad)
    assert 'unknown field "spec.bogus"' in err.value.message
    assert "spec.template.spec.containers: Required value" in err.value.message
    with pytest.raises(NotFound):
        await client.create(cluster.info("configmaps"), {"apiVersion": "v1", "kind": "ConfigMap",
                                                         "metadata": {"name": "x", "namespace": "nowhere"}})


async def test_list_selectors_and_watch_replay() -> None:
    cluster = FakeCluster()
    client = cluster.client()
    pods = cluster.info("pods")
    for name, tier in (("a", "web"), ("b", "db")):
        await client.create(pods, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"tier": tier}},
                                   "spec": {"containers": [{"name": "c", "image": "x"}], "nodeName": f"n-{name}"}})
    listed = await client.list(pods, namespace="default", label_selector="tier=web")
    assert [p["metadata"]["name"] for p in listed["items"]] == ["a"]
    listed = await client.list(pods, field_selector="spec.nodeName=n-b")
    assert [p["metadata"]["name"] for p in listed["items"]] == ["b"]
    rv = listed["metadata"]["resourceVersion"]
    await client.delete(pods, name="a")
    async with client.watch(pods, resource_version=rv) as events:
        event = await asyncio.wait_for(anext(events), 1)
    assert (event.type, event.object["metadata"]["name"]) == ("DELETED", "a")
    cluster.compact()
    with pytest.raises(Expired):
        async with client.watch(pods, resource_version=rv):
            pass


async def test_custom_resources_follow_their_crd() -> None:
    cluster = FakeCluster()
    await cluster.apply(widget_crd())
    crd = cluster.get("customresourcedefinitions", "widgets.example.com")
    assert crd is not None
    assert {c["type"]: c["status"] for c in crd["status"]["conditions"]} == {"NamesAccepted": "True",
                                                                             "Established": "True"}
    client = cluster.client(field_validation=FieldValidation.STRICT)
    widgets = cluster.info("wd")
    created = await client.create(widgets, widget(replicas=2))
    assert created["spec"]["maxReplicas"] == 5
    with pytest.raises(Invalid, match="replicas must not exceed maxReplicas"):
        await client.create(widgets, widget("w2", replicas=8))
    with pytest.raises(UnsupportedMediaType):
        await client.patch(widgets, name="w1", patch={"spec": {"replicas": 3}}, patch_type="strategic")
    scale = await client.patch(widgets, name="w1", patch={"spec": {"replicas": 4}}, subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4
    applied = await client.patch(widgets, name="w3", patch=widget("w3"), patch_type="apply", field_manager="me")
    assert applied["metadata"]["name"] == "w3"
    await client.delete(cluster.info("crd"), name="widgets.example.com")
    assert cluster.get("customresourcedefinitions", "widgets.example.com") is None
    with pytest.raises(KeyError):
        cluster.info("wd")


async def test_garbage_collection_and_finalizers() -> None:
    cluster = FakeCluster()
    client = cluster.client()
    owner = await client.create(cluster.info("configmaps"), {"apiVersion": "v1", "kind": "ConfigMap",
                                                             "metadata": {"name": "owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    for name in ("dep1", "dep2"):
        await client.create(cluster.info("secrets"), {"apiVersion": "v1", "kind": "Secret",
                                                      "metadata": {"name": name, "ownerReferences": [ref]}})
    held = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "finalizers": ["x.io/hold"]}}
    await client.create(cluster.info("configmaps"), held)
    await client.delete(cluster.info("configmaps"), name="owner")
    assert cluster.objects("secrets", "default") == []
    marked = await client.delete(cluster.info("configmaps"), name="held")
    assert marked["metadata"]["deletionTimestamp"]
    await client.patch(cluster.info("configmaps"), name="held", patch={"metadata": {"finalizers": None}})
    assert cluster.get("configmaps", "held") is None


async def test_orphan_propagation_keeps_dependents() -> None:
    cluster = FakeCluster()
    client = cluster.client()
    owner = await client.create(cluster.info("configmaps"), {"apiVersion": "v1", "kind": "ConfigMap",
                                                             "metadata": {"name": "owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    await client.create(cluster.info("secrets"), {"apiVersion": "v1", "kind": "Secret",
                                                  "metadata": {"name": "dep", "ownerReferences": [ref]}})
    await client.delete(cluster.info("configmaps"), name="owner", propagation_policy="Orphan")
    dependent = cluster.get("secrets", "dep")
    assert dependent is not None and "ownerReferences" not in dependent["metadata"]
    assert cluster.get("configmaps", "owner") is None


async def test_namespace_deletion_takes_its_content() -> None:
    cluster = FakeCluster(namespaces=("default", "team"))
    client = cluster.client()
    await client.create(cluster.info("configmaps"), {"apiVersion": "v1", "kind": "ConfigMap",
                                                     "metadata": {"name": "c", "namespace": "team"}})
    await client.delete(cluster.info("namespaces"), name="team")
    assert cluster.get("namespaces", "team", "") is None
    assert cluster.objects("configmaps", "team") == []


async def test_settle_surfaces_failures_and_hot_loops() -> None:
    async with FakeCluster() as cluster:
        async def broken() -> None:
            raise RuntimeError("controller crashed")

        cluster.start(broken())
        with pytest.raises(RuntimeError, match="controller crashed"):
            await cluster.settle()
