"""``/scale`` of custom resources, as kubectl scale drives it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from apiserver import negotiation
from apiserver.registry import API, Reply, SubresourceRequest
from kube.errors import Conflict, Invalid
from tests.kube.crd.fixtures import widget, widget_crd

from .test_serving import create_crd, ctx, served


async def scale_request(api: API, verb: str, *, body: Any = None, content_type: str = "application/json") -> Any:
    store = api.store(group="example.com", version="v1", resource="widgets")
    assert store is not None
    handler = api.subresources.get(group="example.com", resource="widgets", subresource="scale")
    assert handler is not None
    request = SubresourceRequest(
        verb=verb, ctx=ctx(store.info, name="w1", subresource="scale"), store=store, api=api, query={},
        body=orjson.dumps(body) if body is not None else b"", content_type=content_type,
    )
    reply = await handler(request)
    assert isinstance(reply, Reply)
    return reply.body


@pytest.fixture
async def widgets(api: API) -> API:
    await create_crd(api, widget_crd())
    store = await served(api)
    await store.create(ctx(store.info), widget(replicas=2))
    await store.patch(ctx(store.info, name="w1", subresource="status"), patch_type=negotiation.MERGE_PATCH,
                      patch={"status": {"replicas": 1, "selector": "app=w1"}}, strategy=store.strategy.status_strategy())
    return api


async def test_get_scale(widgets: API) -> None:
    scale = await scale_request(widgets, "get")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 1, "selector": "app=w1"}
    assert scale["metadata"]["name"] == "w1"


async def test_patch_scale_sets_only_the_spec_path(widgets: API) -> None:
    scale = await scale_request(widgets, "patch", body={"spec": {"replicas": 4}},
                                content_type=negotiation.MERGE_PATCH)
    assert scale["spec"] == {"replicas": 4}
    store = widgets.store(group="example.com", version="v1", resource="widgets")
    assert store is not None
    obj = await store.get(ctx(store.info, name="w1"))
    assert obj["spec"]["replicas"] == 4 and obj["metadata"]["generation"] == 2
    assert obj["status"]["replicas"] == 1


async def test_put_scale_honours_resource_version_and_schema(widgets: API) -> None:
    current = await scale_request(widgets, "get")
    current["spec"]["replicas"] = 3
    done = await scale_request(widgets, "update", body=current)
    assert done["spec"]["replicas"] == 3
    with pytest.raises(Conflict):
        await scale_request(widgets, "update", body=current)  # the old resourceVersion
    with pytest.raises(Invalid, match="less than or equal to 10"):
        await scale_request(widgets, "update", body={"spec": {"replicas": 11}})
    with pytest.raises(Invalid, match="must be greater than or equal to 0"):
        await scale_request(widgets, "update", body={"spec": {"replicas": -1}})
