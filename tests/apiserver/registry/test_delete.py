"""Deletion: at once, held by finalizers, GC finalizers from propagationPolicy,
preconditions, graceful deletion through a strategy, dry-run, collections."""

from __future__ import annotations

import pytest

from apiserver.registry import API, DeleteOptions, ListOptions, PropagationPolicy
from apiserver.registry.context import Context
from apiserver.registry.strategy import Strategy
from kube.errors import Conflict, Invalid, NotFound

from .helpers import configmap, ctx_for, pod, store_of


async def test_delete_without_finalizers_removes_and_answers_a_status(api: API) -> None:
    cms = store_of(api, "configmaps")
    created = await cms.create(ctx_for(cms), configmap())
    out, deleted = await cms.delete(ctx_for(cms, name="cm"), options=DeleteOptions())
    assert deleted
    assert out["kind"] == "Status" and out["status"] == "Success"
    assert out["details"] == {"name": "cm", "kind": "configmaps", "uid": created["metadata"]["uid"]}
    with pytest.raises(NotFound):
        await cms.get(ctx_for(cms, name="cm"))


async def test_pods_answer_with_the_deleted_object(api: API) -> None:
    pods = store_of(api, "pods")
    await pods.create(ctx_for(pods), pod("p"))
    out, deleted = await pods.delete(ctx_for(pods, name="p"), options=DeleteOptions())
    assert deleted and out["kind"] == "Pod" and out["metadata"]["name"] == "p"


async def test_delete_missing_is_404(api: API) -> None:
    cms = store_of(api, "configmaps")
    with pytest.raises(NotFound, match='configmaps "nope" not found'):
        await cms.delete(ctx_for(cms, name="nope"), options=DeleteOptions())


async def test_finalizers_hold_the_object_until_an_update_clears_them(api: API) -> None:
    cms = store_of(api, "configmaps")
    body = configmap()
    body["metadata"]["finalizers"] = ["example.com/hold"]
    await cms.create(ctx_for(cms), body)
    out, deleted = await cms.delete(ctx_for(cms, name="cm"), options=DeleteOptions())
    assert not deleted
    assert out["metadata"]["deletionTimestamp"] and out["metadata"]["deletionGracePeriodSeconds"] == 0
    held = await cms.get(ctx_for(cms, name="cm"))
    assert held["metadata"]["finalizers"] == ["example.com/hold"]
    # Deleting again changes nothing.
    again, deleted = await cms.delete(ctx_for(cms, name="cm"), options=DeleteOptions())
    assert not deleted and again["metadata"]["deletionTimestamp"] == out["metadata"]["deletionTimestamp"]
    # No new finalizers while deleting.
    grown = dict(held, metadata=dict(held["metadata"], finalizers=["example.com/hold", "another"]))
    with pytest.raises(Invalid, match="no new finalizers can be added"):
        await cms.update(ctx_for(cms, name="cm"), grown)
    # An update can neither clear the deletionTimestamp...
    cleared = dict(held, metadata={k: v for k, v in held["metadata"].items() if k != "deletionTimestamp"})
    kept, _ = await cms.update(ctx_for(cms, name="cm"), cleared)
    assert kept["metadata"]["deletionTimestamp"] == held["metadata"]["deletionTimestamp"]
    # ...and removing the last finalizer deletes the object.
    released = dict(kept, metadata=dict(kept["metadata"], finalizers=[]))
    await cms.update(ctx_for(cms, name="cm"), released)
    with pytest.raises(NotFound):
        await cms.get(ctx_for(cms, name="cm"))


async def test_removing_the_last_finalizer_by_patch_deletes(api: API) -> None:
    cms = store_of(api, "configmaps")
    body = configmap()
    body["metadata"]["finalizers"] = ["a"]
    await cms.create(ctx_for(cms), body)
    await cms.delete(ctx_for(cms, name="cm"), options=DeleteOptions())
    await cms.patch(
        ctx_for(cms, name="cm"), patch_type="application/merge-patch+json", patch={"metadata": {"finalizers": None}}
    )
    with pytest.raises(NotFound):
        await cms.get(ctx_for(cms, name="cm"))


@pytest.mark.parametrize(
    ("policy", "finalizer"),
    [(PropagationPolicy.ORPHAN, "orphan"), (PropagationPolicy.FOREGROUND, "foregroundDeletion")],
)
async def test_propagation_policy_becomes_a_gc_finalizer(api: API, policy: PropagationPolicy, finalizer: str) -> None:
    deployments = store_of(api, "deployments", "apps")
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}},
        },
    }
    created = await deployments.create(ctx_for(deployments), deployment)
    out, deleted = await deployments.delete(ctx_for(deployments, name="d"), options=DeleteOptions(propagation_policy=policy))
    assert not deleted
    assert out["metadata"]["finalizers"] == [finalizer]
    assert out["metadata"]["deletionTimestamp"]
    assert out["metadata"]["generation"] == created["metadata"]["generation"] + 1


async def test_background_deletes_at_once(api: API) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap())
    _, deleted = await cms.delete(
        ctx_for(cms, name="cm"), options=DeleteOptions(propagation_policy=PropagationPolicy.BACKGROUND)
    )
    assert deleted


async def test_preconditions(api: API) -> None:
    cms = store_of(api, "configmaps")
    created = await cms.create(ctx_for(cms), configmap())
    with pytest.raises(Conflict, match=r"the UID in the precondition \(wrong\) does not match"):
        await cms.delete(ctx_for(cms, name="cm"), options=DeleteOptions(precondition_uid="wrong"))
    with pytest.raises(Conflict, match=r"the ResourceVersion in the precondition \(1\) does not match"):
        await cms.delete(ctx_for(cms, name="cm"), options=DeleteOptions(precondition_resource_version="1"))
    _, deleted = await cms.delete(
        ctx_for(cms, name="cm"),
        options=DeleteOptions(
            precondition_uid=created["metadata"]["uid"],
            precondition_resource_version=created["metadata"]["resourceVersion"],
        ),
    )
    assert deleted


async def test_dry_run_delete_keeps_the_object(api: API) -> None:
    cms = store_of(api, "configmaps")
    await cms.create(ctx_for(cms), configmap())
    _, deleted = await cms.delete(ctx_for(cms, name="cm", dry_run=True), options=DeleteOptions(dry_run=True))
    assert deleted
    assert await cms.get(ctx_for(cms, name="cm"))


class _Graceful(Strategy):
    supports_graceful_deletion = True
    return_deleted_object = True  # as pods: a pending deletion answers with the object

    def check_graceful_delete(self, *, ctx: Context, obj: dict, options: DeleteOptions) -> int | None:
        if options.grace_period_seconds is not None:
            return options.grace_period_seconds
        return 30


async def test_graceful_deletion_through_the_strategy_hook(api: API) -> None:
    cms = store_of(api, "configmaps")
    cms.strategy = _Graceful(cms.info)
    await cms.create(ctx_for(cms), configmap())
    out, deleted = await cms.delete(ctx_for(cms, name="cm"), options=DeleteOptions())
    assert not deleted and out["metadata"]["deletionGracePeriodSeconds"] == 30
    # A longer grace period is ignored; a shorter one moves the deadline.
    out2, deleted = await cms.delete(ctx_for(cms, name="cm"), options=DeleteOptions(grace_period_seconds=60))
    assert not deleted and out2["metadata"]["deletionGracePeriodSeconds"] == 30
    out3, deleted = await cms.delete(ctx_for(cms, name="cm"), options=DeleteOptions(grace_period_seconds=10))
    assert not deleted and out3["metadata"]["deletionGracePeriodSeconds"] == 10
    assert out3["metadata"]["deletionTimestamp"] < out["metadata"]["deletionTimestamp"]
    # Grace 0 (what the kubelet sends at the end) removes it.
    _, deleted = await cms.delete(ctx_for(cms, name="cm"), options=DeleteOptions(grace_period_seconds=0))
    assert deleted
    with pytest.raises(NotFound):
        await cms.get(ctx_for(cms, name="cm"))


async def test_delete_collection_with_selector(api: API) -> None:
    cms = store_of(api, "configmaps")
    for i in range(5):
        body = configmap(f"c{i}")
        body["metadata"]["labels"] = {"keep": "yes" if i % 2 else "no"}
        await cms.create(ctx_for(cms), body)
    out = await cms.delete_collection(
        ctx_for(cms), options=DeleteOptions(), list_options=ListOptions(label_selector="keep=no")
    )
    assert sorted(i["metadata"]["name"] for i in out["items"]) == ["c0", "c2", "c4"]
    left = await cms.list(ctx_for(cms), options=ListOptions())
    assert sorted(i["metadata"]["name"] for i in left.items) == ["c1", "c3"]
