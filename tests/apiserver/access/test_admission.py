"""The admission plugins, each through the real store's write path."""

from __future__ import annotations

import re
from typing import Any

import pytest

from apiserver.registry import DeleteOptions
from kube.errors import Forbidden

from .conftest import Env


def pod(name: str = "p", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}


# -- NamespaceLifecycle ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
async def test_system_namespaces_cannot_be_deleted(env: Env, name: str) -> None:
    with pytest.raises(Forbidden, match=f'namespaces "{name}" is forbidden: this namespace may not be deleted'):
        await env.store("namespaces").delete(env.ctx("namespaces", namespace="", name=name), options=DeleteOptions())


async def test_other_namespaces_can_be_deleted(env: Env) -> None:
    await env.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tmp"}}, namespace="")
    await env.store("namespaces").delete(env.ctx("namespaces", namespace="", name="tmp"), options=DeleteOptions())


# -- ServiceAccount -------------------------------------------------------------------------


async def test_pods_default_to_the_default_service_account(env: Env) -> None:
    created = await env.create("pods", pod())
    assert created["spec"]["serviceAccountName"] == "default"


async def test_a_missing_service_account_is_refused(env: Env) -> None:
    with pytest.raises(Forbidden, match='error looking up service account default/ghost: serviceaccount "ghost" not found'):
        await env.create("pods", pod(serviceAccountName="ghost"))


async def test_a_new_namespace_gets_default_and_pull_secrets_are_copied(env: Env) -> None:
    await env.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}}, namespace="")
    # Right away, before the background follower could have run: admission creates it.
    created = await env.create("pods", pod(), namespace="fresh")
    assert created["spec"]["serviceAccountName"] == "default"
    await env.create("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "puller"},
                                         "imagePullSecrets": [{"name": "regcred"}]})
    created = await env.create("pods", pod("q", serviceAccountName="puller"))
    assert created["spec"]["imagePullSecrets"] == [{"name": "regcred"}]


async def test_mirror_pods_may_not_name_service_accounts(env: Env) -> None:
    body = pod(serviceAccountName="default")
    body["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "x"}
    with pytest.raises(Forbidden, match="a mirror pod may not reference service accounts"):
        await env.create("pods", body)


# -- Priority ---------------------------------------------------------------------------------


def priority_class(name: str, value: int, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name}, "value": value,
            **extra}


async def test_priority_comes_from_the_class(env: Env) -> None:
    await env.create("priorityclasses", priority_class("high", 1000, preemptionPolicy="Never"),
                     group="scheduling.k8s.io", namespace="")
    created = await env.create("pods", pod(priorityClassName="high"))
    assert created["spec"]["priority"] == 1000 and created["spec"]["preemptionPolicy"] == "Never"
    assert (await env.create("pods", pod("plain")))["spec"]["priority"] == 0
    with pytest.raises(Forbidden, match="no PriorityClass with name nope was found"):
        await env.create("pods", pod("x", priorityClassName="nope"))
    with pytest.raises(Forbidden, match=r"the integer value of priority \(5\) must not be provided in pod spec; "
                                        r"priority admission controller computed 1000"):
        await env.create("pods", pod("y", priorityClassName="high", priority=5))


async def test_global_default_applies_and_is_unique(env: Env) -> None:
    await env.create("priorityclasses", priority_class("base", 7, globalDefault=True), group="scheduling.k8s.io",
                     namespace="")
    await env.settle()
    created = await env.create("pods", pod())
    assert created["spec"]["priority"] == 7 and created["spec"]["priorityClassName"] == "base"
    with pytest.raises(Forbidden, match=re.escape("PriorityClass base is already marked as default. Only one default can exist")):
        await env.create("priorityclasses", priority_class("other", 8, globalDefault=True), group="scheduling.k8s.io",
                         namespace="")


async def test_system_classes_only_in_kube_system(env: Env) -> None:
    with pytest.raises(Forbidden, match="pods with system-node-critical priorityClass is not permitted in default namespace"):
        await env.create("pods", pod(priorityClassName="system-node-critical"))
    created = await env.create("pods", pod(priorityClassName="system-node-critical"), namespace="kube-system")
    assert created["spec"]["priority"] == 2000001000


# -- DefaultTolerationSeconds -------------------------------------------------------------------


async def test_default_tolerations_are_added_unless_present(env: Env) -> None:
    created = await env.create("pods", pod())
    assert {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": 300} in created["spec"]["tolerations"]
    assert {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": 300} in created["spec"]["tolerations"]
    own = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}]
    created = await env.create("pods", pod("q", tolerations=own))
    unreachable = [t for t in created["spec"]["tolerations"] if t.get("key") == "node.kubernetes.io/unreachable"]
    assert unreachable == own
    created = await env.create("pods", pod("r", tolerations=[{"operator": "Exists"}]))
    assert created["spec"]["tolerations"] == [{"operator": "Exists"}]


# -- LimitRanger --------------------------------------------------------------------------------


async def test_limit_range_defaults_and_bounds(env: Env) -> None:
    await env.create("limitranges", {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"}, "spec": {
        "limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "128Mi"},
                    "defaultRequest": {"cpu": "100m"}, "max": {"cpu": "1"}, "min": {"memory": "64Mi"}}]}})
    await env.settle()
    created = await env.create("pods", pod())
    resources = created["spec"]["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "500m", "memory": "128Mi"}
    assert resources["requests"] == {"cpu": "100m", "memory": "128Mi"}
    # A limit the user set becomes the request, as pod defaulting does before LimitRanger.
    created = await env.create("pods", pod("own", containers=[
        {"name": "c", "image": "busybox", "resources": {"limits": {"cpu": "800m"}}}]))
    assert created["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "800m"
    with pytest.raises(Forbidden) as err:
        await env.create("pods", pod("big", containers=[
            {"name": "c", "image": "busybox", "resources": {"limits": {"cpu": "2", "memory": "32Mi"}}}]))
    assert err.value.message == ('pods "big" is forbidden: [minimum memory usage per Container is 64Mi, but request is '
                                 '32Mi, maximum cpu usage per Container is 1, but limit is 2]')


async def test_limit_ranges_are_seen_as_they_come_and_change(env: Env) -> None:
    # Admission keeps each namespace's LimitRange list until the cache moves on: a pod
    # created before the first LimitRange must not pin "none" for the next ones.
    created = await env.create("pods", pod("before"))
    assert "resources" not in created["spec"]["containers"][0] or not created["spec"]["containers"][0]["resources"]
    limit_range = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"},
                   "spec": {"limits": [{"type": "Container", "default": {"cpu": "300m"}}]}}
    await env.create("limitranges", limit_range)
    await env.settle()
    created = await env.create("pods", pod("after"))
    assert created["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "300m"}
    store = env.store("limitranges")
    current = await store.get(env.ctx("limitranges", name="lr"))
    current["spec"]["limits"][0]["default"] = {"cpu": "700m"}
    await store.update(env.ctx("limitranges", name="lr"), current)
    await env.settle()
    created = await env.create("pods", pod("changed"))
    assert created["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "700m"}


async def test_pod_limit_range_and_ratio(env: Env) -> None:
    await env.create("limitranges", {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"}, "spec": {
        "limits": [{"type": "Pod", "max": {"cpu": "1"}},
                   {"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}}]}})
    await env.settle()
    two = {"name": "c", "image": "busybox", "resources": {"limits": {"cpu": "600m"}, "requests": {"cpu": "600m"}}}
    with pytest.raises(Forbidden, match="maximum cpu usage per Pod is 1, but limit is 1200m"):
        await env.create("pods", pod(containers=[two, {**two, "name": "d"}]))
    with pytest.raises(Forbidden, match="cpu max limit to request ratio per Container is 2, but provided ratio is 4"):
        await env.create("pods", pod(containers=[{"name": "c", "image": "busybox", "resources": {
            "limits": {"cpu": "400m"}, "requests": {"cpu": "100m"}}}]))
