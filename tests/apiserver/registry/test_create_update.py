"""Create and update through the generic store: metadata, generation, status split,
optimistic concurrency, generateName, namespaces, dry-run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apiserver.registry import API, DeleteOptions, ListOptions, objectmeta
from kube.errors import AlreadyExists, BadRequest, Conflict, Forbidden, Invalid, NotFound

from .helpers import configmap, ctx_for, pod, store_of


async def test_create_fills_server_owned_metadata(api: API) -> None:
    pods = store_of(api, "pods")
    body = pod("web")
    body["metadata"].update(uid="mine", creationTimestamp="2000-01-01T00:00:00Z", deletionTimestamp="x")
    created = await pods.create(ctx_for(pods), body)
    meta = created["metadata"]
    assert meta["uid"] != "mine" and len(meta["uid"]) == 36
    assert meta["creationTimestamp"] != "2000-01-01T00:00:00Z"
    assert "deletionTimestamp" not in meta
    assert int(meta["resourceVersion"]) > 0
    assert meta["namespace"] == "default"
    assert meta["generation"] == 1
    assert meta["managedFields"][0]["manager"] == "test"
    assert created["status"] == {"phase": "Pending"}
    assert await pods.get(ctx_for(pods, name="web")) == created


async def test_kinds_without_generation_tracking_have_none(api: API) -> None:
    cms = store_of(api, "configmaps")
    body = configmap("c", a="1")
    body["metadata"]["generation"] = 7
    created = await cms.create(ctx_for(cms), body)
    assert "generation" not in created["metadata"]


async def test_create_with_resource_version_is_refused(api: API) -> None:
    cms = store_of(api, "configmaps")
    body = configmap()
    body["metadata"]["resourceVersion"] = "5"
    with pytest.raises(BadRequest, match="resourceVersion should not be set"):
        await cms.create(ctx_for(cms), body)


async def test_create_existing_is_409(api: API) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap())
    with pytest.raises(AlreadyExists, match='configmaps "cm" already exists'):
        await cms.create(ctx_for(cms), configmap())


async def test_missing_namespace_is_404_and_terminating_is_403(api: API) -> None:
    cms = store_of(api, "configmaps")
    with pytest.raises(NotFound, match='namespaces "nope" not found'):
        await cms.create(ctx_for(cms, namespace="nope"), configmap())
    namespaces = store_of(api, "namespaces")
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed", "finalizers": ["hold"]}}
    await namespaces.create(ctx_for(namespaces), ns)
    await namespaces.delete(ctx_for(namespaces, name="doomed"), options=DeleteOptions())
    with pytest.raises(Forbidden, match="unable to create new content in namespace doomed because it is being terminated"):
        await cms.create(ctx_for(cms, namespace="doomed"), configmap())


async def test_namespace_in_body_must_match_the_url(api: API) -> None:
    cms = store_of(api, "configmaps")
    body = configmap()
    body["metadata"]["namespace"] = "kube-system"
    with pytest.raises(BadRequest, match="does not match the namespace sent on the request"):
        await cms.create(ctx_for(cms), body)


async def test_kind_in_body_must_match_the_resource(api: API) -> None:
    cms = store_of(api, "configmaps")
    with pytest.raises(BadRequest, match="cannot be handled as a ConfigMap"):
        await cms.create(ctx_for(cms), pod())
    # Leaving kind and apiVersion out is fine: the URL says what it is.
    created = await cms.create(ctx_for(cms), {"metadata": {"name": "bare"}})
    assert (created["kind"], created["apiVersion"]) == ("ConfigMap", "v1")


async def test_invalid_object_lists_every_cause(api: API) -> None:
    pods = store_of(api, "pods")
    body: dict[str, Any] = {"metadata": {"name": "Bad_Name"}, "spec": {"containers": [{"name": "c"}]}}
    with pytest.raises(Invalid) as err:
        await pods.create(ctx_for(pods), body)
    fields = {cause.field for cause in err.value.details.causes}
    assert {"metadata.name", "spec.containers[0].image"} <= fields
    assert not (await pods.list(ctx_for(pods), options=ListOptions())).items


async def test_names_that_are_not_path_segments_are_refused(api: API) -> None:
    cms = store_of(api, "configmaps")
    with pytest.raises(Invalid, match="may not contain '/'"):
        await cms.create(ctx_for(cms), configmap("a/b"))


async def test_generate_name_retries_collisions(api: API, monkeypatch: pytest.MonkeyPatch) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap("gen-aaaaa"))
    names = iter(["gen-aaaaa", "gen-aaaaa", "gen-bbbbb"])
    monkeypatch.setattr(objectmeta.kmeta, "generate_name", lambda prefix: next(names))
    created = await cms.create(ctx_for(cms), {"metadata": {"generateName": "gen-"}})
    assert created["metadata"]["name"] == "gen-bbbbb"
    assert created["metadata"]["generateName"] == "gen-"


async def test_generate_name_gives_up_after_eight_collisions(api: API, monkeypatch: pytest.MonkeyPatch) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap("gen-aaaaa"))
    monkeypatch.setattr(objectmeta.kmeta, "generate_name", lambda prefix: "gen-aaaaa")
    with pytest.raises(AlreadyExists):
        await cms.create(ctx_for(cms), {"metadata": {"generateName": "gen-"}})


async def test_stale_resource_version_is_409(api: API) -> None:
    cms = store_of(api, "configmaps")
    created = await cms.create(ctx_for(cms), configmap(a="1"))
    first = dict(created, data={"a": "2"})
    updated, was_created = await cms.update(ctx_for(cms, name="cm"), first)
    assert not was_created and updated["data"] == {"a": "2"}
    stale = dict(created, data={"a": "3"})
    with pytest.raises(Conflict, match='Operation cannot be fulfilled on configmaps "cm": the object has been modified'):
        await cms.update(ctx_for(cms, name="cm"), stale)


async def test_update_without_resource_version_is_unconditional(api: API) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap(a="1"))
    updated, _ = await cms.update(ctx_for(cms, name="cm"), configmap(a="9"))
    assert updated["data"] == {"a": "9"}


async def test_update_keeps_server_owned_fields_and_refuses_immutable_changes(api: API) -> None:
    cms = store_of(api, "configmaps")
    created = await cms.create(ctx_for(cms), configmap(a="1"))
    body = configmap(a="2")
    updated, _ = await cms.update(ctx_for(cms, name="cm"), body)
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert updated["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]
    body = configmap(a="3")
    body["metadata"]["uid"] = "other"
    with pytest.raises(Invalid, match="field is immutable"):
        await cms.update(ctx_for(cms, name="cm"), body)


async def test_name_in_body_must_match_the_url(api: API) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap())
    with pytest.raises(BadRequest, match=r"the name of the object \(other\) does not match the name on the URL \(cm\)"):
        await cms.update(ctx_for(cms, name="cm"), configmap("other"))


async def test_noop_update_does_not_bump_the_resource_version(api: API) -> None:
    cms = store_of(api, "configmaps")
    created = await cms.create(ctx_for(cms), configmap(a="1"))
    same, _ = await cms.update(ctx_for(cms, name="cm"), configmap(a="1"))
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_generation_bumps_only_on_spec_changes(api: API) -> None:
    pods = store_of(api, "pods")
    created = await pods.create(ctx_for(pods), pod("g"))
    labelled = dict(created, metadata=dict(created["metadata"], labels={"app": "other"}))
    after_labels, _ = await pods.update(ctx_for(pods, name="g"), labelled)
    assert after_labels["metadata"]["generation"] == 1
    spec = dict(after_labels["spec"], activeDeadlineSeconds=30)
    after_spec, _ = await pods.update(ctx_for(pods, name="g"), dict(after_labels, spec=spec))
    assert after_spec["metadata"]["generation"] == 2
    # Clients cannot set it.
    forged = dict(after_spec, metadata=dict(after_spec["metadata"], generation=40))
    after_forge, _ = await pods.update(ctx_for(pods, name="g"), forged)
    assert after_forge["metadata"]["generation"] == 2


async def test_writes_to_the_object_ignore_status_and_status_writes_ignore_the_rest(api: API) -> None:
    pods = store_of(api, "pods")
    created = await pods.create(ctx_for(pods), pod("s"))
    body = dict(created, status={"phase": "Running"})
    main, _ = await pods.update(ctx_for(pods, name="s"), body)
    assert main["status"] == {"phase": "Pending"}
    status_body = dict(main, status={"phase": "Running"}, spec=dict(main["spec"], activeDeadlineSeconds=5))
    status_body["metadata"] = dict(main["metadata"], labels={"changed": "yes"})
    via_status, _ = await pods.update(
        ctx_for(pods, name="s", subresource="status"), status_body, strategy=pods.strategy.status_strategy()
    )
    assert via_status["status"] == {"phase": "Running"}
    assert "activeDeadlineSeconds" not in via_status["spec"]
    assert via_status["metadata"]["labels"] == {"app": "web"}


async def test_create_on_update_where_kubernetes_allows_it(api: API) -> None:
    leases = store_of(api, "leases", "coordination.k8s.io")
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"}, "spec": {}}
    obj, created = await leases.update(ctx_for(leases, name="l"), lease)
    assert created and obj["metadata"]["uid"]
    cms = store_of(api, "configmaps")
    with pytest.raises(NotFound, match='configmaps "cm" not found'):
        await cms.update(ctx_for(cms, name="cm"), configmap())


async def test_concurrent_patches_never_lose_updates(api: API) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap())

    async def add(i: int) -> None:
        await cms.patch(
            ctx_for(cms, name="cm"), patch_type="application/merge-patch+json", patch={"data": {f"k{i}": str(i)}}
        )

    await asyncio.gather(*(add(i) for i in range(20)))
    final = await cms.get(ctx_for(cms, name="cm"))
    assert final["data"] == {f"k{i}": str(i) for i in range(20)}


async def test_dry_run_create_stores_nothing(api: API) -> None:
    cms = store_of(api, "configmaps")
    out = await cms.create(ctx_for(cms, dry_run=True), configmap(a="1"))
    assert out["metadata"]["uid"] and "resourceVersion" not in out["metadata"]
    with pytest.raises(NotFound):
        await cms.get(ctx_for(cms, name="cm"))
    await cms.create(ctx_for(cms), configmap(a="1"))
    with pytest.raises(AlreadyExists):
        await cms.create(ctx_for(cms, dry_run=True), configmap(a="1"))


async def test_dry_run_update_and_patch_store_nothing(api: API) -> None:
    cms = store_of(api, "configmaps")
    created = await cms.create(ctx_for(cms), configmap(a="1"))
    out, _ = await cms.update(ctx_for(cms, name="cm", dry_run=True), configmap(a="2"))
    assert out["data"] == {"a": "2"}
    out, _ = await cms.patch(
        ctx_for(cms, name="cm", dry_run=True), patch_type="application/merge-patch+json", patch={"data": {"b": "3"}}
    )
    assert out["data"] == {"a": "1", "b": "3"}
    assert await cms.get(ctx_for(cms, name="cm")) == created
    # Validation still runs.
    with pytest.raises(Invalid):
        await cms.update(ctx_for(cms, name="cm", dry_run=True), dict(configmap(), data={"a": 1}))
