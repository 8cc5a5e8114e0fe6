"""PATCH in every flavour, through the store's compare-and-swap update."""

from __future__ import annotations

import pytest

from apiserver import negotiation
from apiserver.registry import API
from kube.errors import BadRequest, Conflict, NotFound, UnsupportedMediaType
from kube.resources import ResourceInfo

from .helpers import configmap, ctx_for, pod, store_of


async def test_merge_json_and_strategic_patches(api: API) -> None:
    pods = store_of(api, "pods")
    await pods.create(ctx_for(pods), pod("p"))
    ctx = ctx_for(pods, name="p")
    merged, _ = await pods.patch(ctx, patch_type=negotiation.MERGE_PATCH, patch={"metadata": {"labels": {"x": "1"}}})
    assert merged["metadata"]["labels"] == {"app": "web", "x": "1"}
    jp, _ = await pods.patch(
        ctx, patch_type=negotiation.JSON_PATCH, patch=[{"op": "remove", "path": "/metadata/labels/x"}]
    )
    assert jp["metadata"]["labels"] == {"app": "web"}
    smp, _ = await pods.patch(
        ctx,
        patch_type=negotiation.STRATEGIC_MERGE_PATCH,
        patch={"spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}},
    )
    assert smp["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert len(smp["spec"]["containers"]) == 1
    assert smp["metadata"]["generation"] == 2


async def test_patch_of_missing_object_is_404(api: API) -> None:
    cms = store_of(api, "configmaps")
    with pytest.raises(NotFound, match='configmaps "nope" not found'):
        await cms.patch(ctx_for(cms, name="nope"), patch_type=negotiation.MERGE_PATCH, patch={"data": {}})


async def test_patch_changing_the_name_is_400(api: API) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap())
    with pytest.raises(BadRequest, match="does not match the name on the URL"):
        await cms.patch(ctx_for(cms, name="cm"), patch_type=negotiation.MERGE_PATCH, patch={"metadata": {"name": "x"}})


async def test_resource_version_in_a_patch_is_a_precondition(api: API) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap())
    with pytest.raises(Conflict):
        await cms.patch(
            ctx_for(cms, name="cm"), patch_type=negotiation.MERGE_PATCH, patch={"metadata": {"resourceVersion": "1"}}
        )


async def test_json_patch_must_be_a_list(api: API) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap())
    with pytest.raises(BadRequest, match="JSON array"):
        await cms.patch(ctx_for(cms, name="cm"), patch_type=negotiation.JSON_PATCH, patch={"op": "add"})


async def test_apply_creates_then_updates_and_detects_conflicts(api: API) -> None:
    cms = store_of(api, "configmaps")
    applied = configmap(a="1")
    created, was_created = await cms.patch(
        ctx_for(cms, name="cm", field_manager="alice"), patch_type=negotiation.APPLY_PATCH, patch=applied
    )
    assert was_created and created["data"] == {"a": "1"} and created["metadata"]["uid"]
    assert created["metadata"]["managedFields"][0]["operation"] == "Apply"
    with pytest.raises(Conflict, match='Apply failed with 1 conflict: conflict with "alice"') as err:
        await cms.patch(
            ctx_for(cms, name="cm", field_manager="bob"), patch_type=negotiation.APPLY_PATCH, patch=configmap(a="2")
        )
    assert err.value.details.causes[0].reason == "FieldManagerConflict"
    forced, was_created = await cms.patch(
        ctx_for(cms, name="cm", field_manager="bob"),
        patch_type=negotiation.APPLY_PATCH,
        patch=configmap(a="2"),
        force=True,
    )
    assert not was_created and forced["data"] == {"a": "2"}


async def test_status_patch_changes_only_status(api: API) -> None:
    pods = store_of(api, "pods")
    await pods.create(ctx_for(pods), pod("p"))
    out, _ = await pods.patch(
        ctx_for(pods, name="p", subresource="status"),
        patch_type=negotiation.MERGE_PATCH,
        patch={"status": {"phase": "Running"}, "metadata": {"labels": {"sneaky": "1"}}},
        strategy=pods.strategy.status_strategy(),
    )
    assert out["status"]["phase"] == "Running"
    assert out["metadata"]["labels"] == {"app": "web"}


async def test_custom_resources_refuse_strategic_merge_and_track_generation(api: API) -> None:
    info = ResourceInfo(
        group="example.com",
        version="v1",
        kind="Widget",
        resource="widgets",
        singular="widget",
        namespaced=True,
        subresources=("status",),
    )
    widgets = await api.add_resource(info)
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "size": 1, "status": {"x": 1}}
    created = await widgets.create(ctx_for(widgets), body)
    assert created["metadata"]["generation"] == 1 and "status" not in created
    assert widgets.key(namespace="default", name="w") == "/registry/example.com/widgets/default/w"
    with pytest.raises(UnsupportedMediaType):
        await widgets.patch(ctx_for(widgets, name="w"), patch_type=negotiation.STRATEGIC_MERGE_PATCH, patch={"size": 2})
    patched, _ = await widgets.patch(ctx_for(widgets, name="w"), patch_type=negotiation.MERGE_PATCH, patch={"size": 2})
    assert patched["metadata"]["generation"] == 2
    relabelled, _ = await widgets.patch(
        ctx_for(widgets, name="w"), patch_type=negotiation.MERGE_PATCH, patch={"metadata": {"labels": {"a": "b"}}}
    )
    assert relabelled["metadata"]["generation"] == 2
