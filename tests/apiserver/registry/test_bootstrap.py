"""The objects every cluster has from its first start."""

from __future__ import annotations

from apiserver.bootstrap import bootstrap
from apiserver.registry import API, ListOptions

from .helpers import ctx_for, store_of


async def test_system_namespaces_and_priority_classes_exist(api: API) -> None:
    namespaces = store_of(api, "namespaces")
    names = {n["metadata"]["name"] for n in (await namespaces.list(ctx_for(namespaces), options=ListOptions())).items}
    assert names == {"default", "kube-system", "kube-public", "kube-node-lease"}
    default = await namespaces.get(ctx_for(namespaces, name="default"))
    assert default["status"] == {"phase": "Active"}
    assert default["spec"]["finalizers"] == ["kubernetes"]
    assert default["metadata"]["labels"] == {"kubernetes.io/metadata.name": "default"}
    classes = store_of(api, "priorityclasses", "scheduling.k8s.io")
    items = (await classes.list(ctx_for(classes), options=ListOptions())).items
    assert {c["metadata"]["name"]: c["value"] for c in items} == {
        "system-cluster-critical": 2000000000,
        "system-node-critical": 2000001000,
    }


async def test_bootstrap_is_idempotent(api: API) -> None:
    namespaces = store_of(api, "namespaces")
    before = await namespaces.get(ctx_for(namespaces, name="default"))
    assert await bootstrap(api) == []
    assert await namespaces.get(ctx_for(namespaces, name="default")) == before
