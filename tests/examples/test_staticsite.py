"""The StaticSite example controller, unit-tested with kube.testing (no server, no sleeps).

This file is the worked example of docs/testing-controllers.md: feed objects, run the
controller until it is idle, assert on the objects and events it produced.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml

from kube.errors import Invalid
from kube.testing import FakeCluster

from .loader import REPO, load_example

example = load_example("examples/controllers/staticsite/controller.py")
SITES, StaticSiteController = example.SITES, example.StaticSiteController
CRD = yaml.safe_load((REPO / "examples/controllers/staticsite/crd.yaml").read_text())


def site(name: str = "blog", *, replicas: int = 2, html: str = "<h1>hi</h1>") -> dict[str, Any]:
    return {"apiVersion": "demo.kubesim.io/v1", "kind": "StaticSite", "metadata": {"name": name},
            "spec": {"html": html, "replicas": replicas}}


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with FakeCluster() as cluster:
        await cluster.apply(CRD)
        controller = StaticSiteController(cluster.client(), clock=cluster.clock)
        cluster.start(controller.run())
        yield cluster


async def test_a_site_gets_an_owned_configmap_and_deployment(cluster: FakeCluster) -> None:
    created = await cluster.apply(site())
    await cluster.settle()

    page = cluster.get("configmaps", "blog-html")
    assert page is not None and page["data"] == {"index.html": "<h1>hi</h1>"}
    deployment = cluster.get("deployments", "blog")
    assert deployment is not None
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"  # the CRD's default
    for owned in (page, deployment):
        assert owned["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]

    status = cluster.get(SITES, "blog")["status"]  # type: ignore[index]
    assert status == {"observedGeneration": 1, "readyReplicas": 0, "phase": "Pending"}
    reasons = sorted(e["message"] for e in cluster.events(involved=created, reason="Created"))
    assert reasons == ["Created ConfigMap blog-html", "Created Deployment blog"]


async def test_status_follows_the_deployment(cluster: FakeCluster) -> None:
    await cluster.apply(site())
    await cluster.settle()
    # What the deployment controller and kubelets would report in a real cluster:
    deployment = cluster.get("deployments", "blog")
    assert deployment is not None
    await cluster.apply({**deployment, "status": {"replicas": 2, "readyReplicas": 2}})
    await cluster.settle()
    assert cluster.get(SITES, "blog")["status"]["phase"] == "Ready"  # type: ignore[index]


async def test_spec_changes_and_drift_are_reconciled(cluster: FakeCluster) -> None:
    await cluster.apply(site())
    await cluster.settle()
    await cluster.apply(site(replicas=5, html="<h1>v2</h1>"))
    await cluster.settle()
    assert cluster.get("deployments", "blog")["spec"]["replicas"] == 5  # type: ignore[index]
    assert cluster.get("configmaps", "blog-html")["data"]["index.html"] == "<h1>v2</h1>"  # type: ignore[index]
    assert cluster.get(SITES, "blog")["status"]["observedGeneration"] == 2  # type: ignore[index]
    # Someone scales the deployment by hand: the controller puts it back.
    client = cluster.client()
    await client.patch(cluster.info("deployments"), name="blog", patch={"spec": {"replicas": 1}})
    await cluster.settle()
    assert cluster.get("deployments", "blog")["spec"]["replicas"] == 5  # type: ignore[index]


async def test_deleting_a_site_deletes_what_it_owns(cluster: FakeCluster) -> None:
    await cluster.apply(site())
    await cluster.settle()
    await cluster.client().delete(SITES, name="blog")
    await cluster.settle()
    assert cluster.get("deployments", "blog") is None
    assert cluster.get("configmaps", "blog-html") is None


async def test_the_crd_schema_guards_the_spec(cluster: FakeCluster) -> None:
    with pytest.raises(Invalid, match=r"spec\.replicas in body should be less than or equal to 10"):
        await cluster.apply(site(replicas=11))


async def test_failures_are_retried_with_backoff(cluster: FakeCluster) -> None:
    taken = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "blog-html"}, "data": {"x": "y"}}
    await cluster.apply(taken)
    await cluster.apply(site())
    await cluster.settle()
    assert len(cluster.events(reason="NotOwned")) == 1
    await cluster.advance(1)  # backoff: 5 ms, 10 ms, 20 ms, ... on the fake clock
    assert len(cluster.events(reason="NotOwned")) > 5
    await cluster.client().delete(cluster.info("configmaps"), name="blog-html")
    await cluster.advance(5)
    page = cluster.get("configmaps", "blog-html")
    assert page is not None and page["data"] == {"index.html": "<h1>hi</h1>"}
