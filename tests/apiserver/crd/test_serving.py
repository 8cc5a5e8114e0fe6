"""CRDs in the API server: served within a second, validated, versioned, cleaned up."""

from __future__ import annotations

import asyncio
import copy
import time
from pathlib import Path
from typing import Any

import pytest

from apiserver import crd as crd_package
from apiserver import negotiation, openapi, printers
from apiserver.discovery import aggregated, resource_list
from apiserver.registry import API, Context, DeleteOptions, ListOptions, ResourceStore
from apiserver.storage import open_storage
from kube.errors import AlreadyExists, Invalid, MethodNotAllowed, NotFound, UnsupportedMediaType
from kube.model import FieldValidation
from kube.resources import ResourceInfo, default_registry
from tests.kube.crd.fixtures import version, widget, widget_crd

from .conftest import eventually

GROUP = "example.com"


def crd_store(api: API) -> ResourceStore:
    info = api.resources.get(group="apiextensions.k8s.io", version="v1", resource="customresourcedefinitions")
    assert info is not None
    return api.store_for(info)


def ctx(info: ResourceInfo, *, name: str = "", namespace: str = "default", **kw: Any) -> Context:
    return Context(info=info, name=name, namespace=namespace if info.namespaced else "",
                   field_manager=kw.pop("field_manager", "test"),
                   field_validation=kw.pop("field_validation", FieldValidation.STRICT), **kw)


async def create_crd(api: API, crd: dict[str, Any]) -> dict[str, Any]:
    store = crd_store(api)
    return await store.create(ctx(store.info), crd)


async def served(api: API, version_name: str = "v1", resource: str = "widgets") -> ResourceStore:
    async def found() -> ResourceStore | None:
        # Routed (in the registry) only once its watch cache is filled, as requests see it.
        if api.resources.get(group=GROUP, version=version_name, resource=resource) is None:
            return None
        return api.store(group=GROUP, version=version_name, resource=resource)

    store: ResourceStore = await eventually(found)
    return store


async def get_crd(api: API, name: str = "widgets.example.com") -> dict[str, Any]:
    store = crd_store(api)
    return await store.get(ctx(store.info, name=name))


async def test_created_crd_is_served_within_a_second_with_conditions(api: API) -> None:
    started = time.monotonic()
    await create_crd(api, widget_crd())
    store = await served(api)
    assert time.monotonic() - started < 1.0
    status = (await get_crd(api))["status"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {"NamesAccepted": "True", "Established": "True"}
    assert status["acceptedNames"]["plural"] == "widgets"
    info = store.info
    assert (info.kind, info.short_names, info.categories, info.subresources) == (
        "Widget", ("wd",), ("all",), ("status", "scale"))
    assert any(r["name"] == "widgets/scale" for r in resource_list(api.resources, GROUP, "v1")["resources"])  # type: ignore[index]
    groups = {g["metadata"]["name"] for g in aggregated(api.resources)["items"]}
    assert GROUP in groups
    assert openapi.openapi_v3_document(api.resources, "apis/example.com/v1") is not None
    table = printers.table_for(info=info, objects=[widget()])
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Size", "Replicas", "Phase"]


async def test_invalid_crd_is_refused_and_nothing_is_stored(api: API) -> None:
    bad = widget_crd()
    bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-validations"] = [
        {"rule": "self.replicas >"}]
    with pytest.raises(Invalid) as err:
        await create_crd(api, bad)
    assert any(c.field.endswith("x-kubernetes-validations[0].rule") for c in err.value.details.causes)
    with pytest.raises(NotFound):
        await get_crd(api)
    await asyncio.sleep(0.1)
    assert api.resources.get(group=GROUP, version="v1", resource="widgets") is None


async def test_name_conflicts_keep_the_second_crd_unserved(api: API) -> None:
    await create_crd(api, widget_crd())
    await served(api)
    await create_crd(api, widget_crd(name="gizmos.example.com", plural="gizmos", kind="Widget", short_names=[]))

    async def refused() -> dict[str, Any] | None:
        conditions = {c["type"]: c for c in (await get_crd(api, "gizmos.example.com")).get("status", {}).get(
            "conditions", [])}
        return conditions if conditions.get("NamesAccepted", {}).get("status") == "False" else None

    conditions = await eventually(refused)
    assert conditions["Established"]["status"] == "False"
    assert api.resources.get(group=GROUP, version="v1", resource="gizmos") is None


async def test_custom_resource_writes_run_the_schema_pipeline(api: API) -> None:
    await create_crd(api, widget_crd())
    store = await served(api)
    created = await store.create(ctx(store.info), widget(replicas=2))
    assert created["spec"] == {"size": "small", "replicas": 2, "maxReplicas": 5}
    assert created["metadata"]["generation"] == 1
    with pytest.raises(Invalid) as err:
        await store.create(ctx(store.info), widget("w2", size="huge", replicas=11, color="red"))
    message = err.value.message
    assert 'unknown field "spec.color"' in message
    assert 'spec.size: Unsupported value: "huge"' in message
    assert "spec.replicas in body should be less than or equal to 10" in message
    warned = ctx(store.info, field_validation=FieldValidation.WARN)
    await store.create(warned, widget("w3", color="red"))
    assert warned.warnings == ['unknown field "spec.color"']
    with pytest.raises(AlreadyExists):
        await store.create(ctx(store.info), widget())


async def test_status_subresource_and_generation(api: API) -> None:
    await create_crd(api, widget_crd())
    store = await served(api)
    await store.create(ctx(store.info), {**widget(), "status": {"phase": "ignored"}})
    obj = await store.get(ctx(store.info, name="w1"))
    assert "status" not in obj
    status_ctx = ctx(store.info, name="w1", subresource="status")
    updated, _ = await store.patch(status_ctx, patch_type=negotiation.MERGE_PATCH,
                                   patch={"status": {"phase": "Ready"}, "spec": {"replicas": 3}},
                                   strategy=store.strategy.status_strategy())
    assert updated["status"] == {"phase": "Ready"} and updated["spec"]["replicas"] == 1
    assert updated["metadata"]["generation"] == 1
    patched, _ = await store.patch(ctx(store.info, name="w1"), patch_type=negotiation.MERGE_PATCH,
                                   patch={"spec": {"replicas": 2}, "status": {"phase": "x"}})
    assert patched["metadata"]["generation"] == 2 and patched["status"] == {"phase": "Ready"}
    labelled, _ = await store.patch(ctx(store.info, name="w1"), patch_type=negotiation.JSON_PATCH,
                                    patch=[{"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}])
    assert labelled["metadata"]["generation"] == 2


async def test_strategic_merge_patch_is_415_and_apply_works(api: API) -> None:
    await create_crd(api, widget_crd())
    store = await served(api)
    await store.create(ctx(store.info), widget())
    with pytest.raises(UnsupportedMediaType):
        await store.patch(ctx(store.info, name="w1"), patch_type=negotiation.STRATEGIC_MERGE_PATCH,
                          patch={"spec": {"replicas": 2}})
    applied, created = await store.patch(
        ctx(store.info, name="w9", field_manager="ssa"), patch_type=negotiation.APPLY_PATCH,
        patch=widget("w9", replicas=4))
    assert created and applied["spec"]["replicas"] == 4
    assert any(m["operation"] == "Apply" for m in applied["metadata"]["managedFields"])


async def test_list_and_watch_with_selectors(api: API) -> None:
    await create_crd(api, widget_crd())
    store = await served(api)
    watch = await store.watch(ctx(store.info), options=ListOptions(label_selector="tier=web"))
    for name, tier in (("a", "web"), ("b", "db")):
        obj = widget(name)
        obj["metadata"]["labels"] = {"tier": tier}
        await store.create(ctx(store.info), obj)
    page = await store.list(ctx(store.info), options=ListOptions(label_selector="tier=web"))
    assert [i["metadata"]["name"] for i in page.items] == ["a"]
    page = await store.list(ctx(store.info), options=ListOptions(field_selector="metadata.name=b"))
    assert [i["metadata"]["name"] for i in page.items] == ["b"]
    events = aiter(watch)
    event = await asyncio.wait_for(anext(events), 5)
    assert (event.type, event.object["metadata"]["name"]) == ("ADDED", "a")
    watch.close()


async def test_versions_share_one_stored_copy(api: API) -> None:
    loose = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    await create_crd(api, widget_crd(versions=[version("v1"), version("v1beta1", storage=False, schema=loose,
                                                                      scale=False)]))
    v1 = await served(api, "v1")
    beta = await served(api, "v1beta1")
    await beta.create(ctx(beta.info), widget(api_version="example.com/v1beta1", extra="only in v1beta1"))
    stored = await api.storage.get("/registry/example.com/widgets/default/w1")
    assert stored["apiVersion"] == "example.com/v1"
    through_v1 = await v1.get(ctx(v1.info, name="w1"))
    assert through_v1["apiVersion"] == "example.com/v1"
    # v1's schema has no spec.extra: read through v1 it is pruned (and v1's defaults applied).
    assert "extra" not in through_v1["spec"] and through_v1["spec"]["maxReplicas"] == 5
    through_beta = await beta.get(ctx(beta.info, name="w1"))
    assert through_beta["apiVersion"] == "example.com/v1beta1" and through_beta["spec"]["extra"] == "only in v1beta1"
    page = await beta.list(ctx(beta.info), options=ListOptions(resource_version="0"))
    assert [i["apiVersion"] for i in page.items] == ["example.com/v1beta1"]
    discovery = {g["metadata"]["name"]: [v["version"] for v in g["versions"]] for g in aggregated(api.resources)["items"]}
    assert discovery[GROUP] == ["v1", "v1beta1"]


async def test_a_crd_update_takes_effect_defaults_included(api: API) -> None:
    await create_crd(api, widget_crd())
    store = await served(api)
    await store.create(ctx(store.info), widget())
    current = await get_crd(api)
    changed = copy.deepcopy(current)
    schema = changed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    schema["color"] = {"type": "string", "default": "blue"}
    crds = crd_store(api)
    await crds.update(ctx(crds.info, name="widgets.example.com"), changed)

    async def defaulted_on_read() -> bool:
        obj = await store.get(ctx(store.info, name="w1"))
        return obj["spec"].get("color") == "blue"

    await eventually(defaulted_on_read)
    assert (await get_crd(api))["metadata"]["generation"] == 2


async def test_delete_removes_objects_then_the_endpoints(api: API) -> None:
    await create_crd(api, widget_crd())
    store = await served(api)
    await store.create(ctx(store.info), widget("plain"))
    held = widget("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    await store.create(ctx(store.info), held)
    crds = crd_store(api)
    marked, deleted = await crds.delete(ctx(crds.info, name="widgets.example.com"), options=DeleteOptions())
    assert not deleted and marked["metadata"]["deletionTimestamp"]
    assert "customresourcecleanup.apiextensions.k8s.io" in marked["metadata"]["finalizers"]

    async def terminating() -> bool:
        conditions = {c["type"]: c for c in (await get_crd(api))["status"]["conditions"]}
        return conditions.get("Terminating", {}).get("status") == "True"

    await eventually(terminating)

    async def plain_deleted() -> bool:
        try:
            await store.get(ctx(store.info, name="plain"))
        except NotFound:
            return True
        return False

    await eventually(plain_deleted)
    held_now = await store.get(ctx(store.info, name="held"))
    assert held_now["metadata"]["deletionTimestamp"]
    with pytest.raises(MethodNotAllowed, match="terminating"):
        await store.create(ctx(store.info), widget("late"))
    assert api.resources.get(group=GROUP, version="v1", resource="widgets") is not None  # still finalizing
    await store.patch(ctx(store.info, name="held"), patch_type=negotiation.MERGE_PATCH,
                      patch={"metadata": {"finalizers": None}})

    async def gone() -> bool:
        try:
            await get_crd(api)
        except NotFound:
            return api.resources.get(group=GROUP, version="v1", resource="widgets") is None
        return False

    await eventually(gone, within=10)
    assert (await api.storage.list("/registry/example.com/widgets/")).items == []


async def test_crds_are_served_at_start(tmp_path: Path) -> None:
    crd_package.install()
    storage = await open_storage(data_dir=tmp_path)
    first = API(storage=storage, resources=default_registry())
    await first.start()
    controller = await crd_package.start(first)
    await create_crd(first, widget_crd())
    await served(first)
    await controller.stop()
    await first.stop()
    second = API(storage=storage, resources=default_registry())
    await second.start()
    controller = await crd_package.start(second)
    try:
        assert second.resources.get(group=GROUP, version="v1", resource="widgets") is not None
    finally:
        await controller.stop()
        await second.stop()
        await storage.close()


async def test_cluster_scoped_custom_resources(api: API) -> None:
    await create_crd(api, widget_crd(name="clusterwidgets.example.com", plural="clusterwidgets",
                                     kind="ClusterWidget", scope="Cluster", short_names=["cw"]))
    store = await served(api, resource="clusterwidgets")
    assert not store.info.namespaced
    obj = {"apiVersion": "example.com/v1", "kind": "ClusterWidget", "metadata": {"name": "c1"},
           "spec": {"size": "large"}}
    created = await store.create(ctx(store.info), obj)
    assert "namespace" not in created["metadata"]
    stored = await api.storage.get("/registry/example.com/clusterwidgets/c1")
    assert stored["spec"]["replicas"] == 1
