"""The REST client against the real API server: every verb, paging, selectors, watch, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from kube.client import ADDED, BOOKMARK, DELETED, MODIFIED, Client, WatchEvent
from kube.errors import AlreadyExists, Conflict, Invalid, NotFound, StatusError
from kube.kubeconfig import load_kubeconfig
from kube.resources import default_registry

R = default_registry()
CONFIGMAPS = R.lookup("configmaps")[0]
PODS = R.lookup("pods")[0]
NODES = R.lookup("nodes")[0]
NAMESPACES = R.lookup("namespaces")[0]


def configmap(name: str, *, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def names(list_obj: dict[str, Any]) -> list[str]:
    return sorted(i["metadata"]["name"] for i in list_obj["items"])


async def test_create_get_update_patch_delete(client: Client, namespace: str) -> None:
    created = await client.create(CONFIGMAPS, configmap("a", k="1"), namespace=namespace)
    assert created["metadata"]["namespace"] == namespace
    assert created["metadata"]["resourceVersion"]
    got = await client.get(CONFIGMAPS, name="a", namespace=namespace)
    assert got["data"] == {"k": "1"}

    got["data"]["k"] = "2"
    updated = await client.update(CONFIGMAPS, got)
    assert updated["data"] == {"k": "2"}
    assert int(updated["metadata"]["resourceVersion"]) > int(got["metadata"]["resourceVersion"])

    merged = await client.patch(CONFIGMAPS, name="a", namespace=namespace, patch={"data": {"m": "x"}})
    assert merged["data"] == {"k": "2", "m": "x"}
    strategic = await client.patch(
        CONFIGMAPS, name="a", namespace=namespace, patch={"data": {"s": "y"}}, patch_type="strategic"
    )
    assert strategic["data"]["s"] == "y"
    jsonpatch = await client.patch(
        CONFIGMAPS,
        name="a",
        namespace=namespace,
        patch=[{"op": "remove", "path": "/data/m"}],
        patch_type="json",
    )
    assert "m" not in jsonpatch["data"]

    await client.delete(CONFIGMAPS, name="a", namespace=namespace)
    with pytest.raises(NotFound) as info:
        await client.get(CONFIGMAPS, name="a", namespace=namespace)
    assert info.value.code == 404
    assert info.value.details.name == "a"
    assert 'configmaps "a" not found' in info.value.message


async def test_server_side_apply_with_field_manager_and_force(client: Client, namespace: str) -> None:
    obj = configmap("applied", k="v")
    obj["metadata"]["namespace"] = namespace
    first = await client.patch(
        CONFIGMAPS, name="applied", namespace=namespace, patch=obj, patch_type="apply", field_manager="one"
    )
    assert first["data"] == {"k": "v"}
    obj["data"] = {"k": "other"}
    with pytest.raises(Conflict):  # "two" would take a field "one" owns
        await client.patch(
            CONFIGMAPS,
            name="applied",
            namespace=namespace,
            patch=obj,
            patch_type="apply",
            field_manager="two",
        )
    forced = await client.patch(
        CONFIGMAPS,
        name="applied",
        namespace=namespace,
        patch=obj,
        patch_type="apply",
        field_manager="two",
        force=True,
    )
    assert forced["data"] == {"k": "other"}
    with pytest.raises(ValueError, match="field_manager"):
        await client.patch(CONFIGMAPS, name="applied", namespace=namespace, patch=obj, patch_type="apply")


async def test_typed_errors_carry_the_status(client: Client, namespace: str) -> None:
    await client.create(CONFIGMAPS, configmap("dup"), namespace=namespace)
    with pytest.raises(AlreadyExists) as exists:
        await client.create(CONFIGMAPS, configmap("dup"), namespace=namespace)
    assert exists.value.code == 409 and exists.value.reason == "AlreadyExists"

    stale = await client.get(CONFIGMAPS, name="dup", namespace=namespace)
    await client.patch(CONFIGMAPS, name="dup", namespace=namespace, patch={"data": {"x": "1"}})
    with pytest.raises(Conflict) as conflict:
        await client.update(CONFIGMAPS, stale)  # compare-and-swap on the old resourceVersion
    assert "the object has been modified" in conflict.value.message

    with pytest.raises(Invalid) as invalid:
        await client.create(CONFIGMAPS, configmap("Not_A_Name"), namespace=namespace)
    assert invalid.value.code == 422
    assert any(c.field == "metadata.name" for c in invalid.value.details.causes)


async def test_delete_preconditions_and_dry_run(client: Client, namespace: str) -> None:
    dry = await client.create(CONFIGMAPS, configmap("dry"), namespace=namespace, dry_run=True)
    assert dry["metadata"]["name"] == "dry"
    with pytest.raises(NotFound):
        await client.get(CONFIGMAPS, name="dry", namespace=namespace)

    created = await client.create(CONFIGMAPS, configmap("pre"), namespace=namespace)
    with pytest.raises(Conflict):
        await client.delete(CONFIGMAPS, name="pre", namespace=namespace, preconditions={"uid": "not-the-uid"})
    await client.delete(
        CONFIGMAPS,
        name="pre",
        namespace=namespace,
        preconditions={"uid": created["metadata"]["uid"]},
        propagation_policy="Background",
        grace_period=0,
    )
    with pytest.raises(NotFound):
        await client.delete(CONFIGMAPS, name="pre", namespace=namespace)


async def test_list_pages_through_continue_at_one_revision(client: Client, namespace: str) -> None:
    for i in range(7):
        await client.create(CONFIGMAPS, configmap(f"cm{i}"), namespace=namespace)
    page = await client.list(CONFIGMAPS, namespace=namespace, limit=3)
    assert len(page["items"]) == 3
    assert page["metadata"]["continue"]
    second = await client.list(
        CONFIGMAPS, namespace=namespace, limit=3, continue_=page["metadata"]["continue"]
    )
    assert second["metadata"]["resourceVersion"] == page["metadata"]["resourceVersion"]
    assert not set(names(page)) & set(names(second))

    everything = await client.list_all(CONFIGMAPS, namespace=namespace, limit=2)
    assert names(everything) == [f"cm{i}" for i in range(7)]
    assert everything["kind"] == "ConfigMapList"
    assert everything["metadata"]["resourceVersion"]
    assert "continue" not in everything["metadata"]


async def test_label_and_field_selectors(client: Client, namespace: str) -> None:
    await client.create(CONFIGMAPS, configmap("red", labels={"color": "red"}), namespace=namespace)
    await client.create(CONFIGMAPS, configmap("blue", labels={"color": "blue"}), namespace=namespace)
    red = await client.list(CONFIGMAPS, namespace=namespace, label_selector="color=red")
    assert names(red) == ["red"]
    not_red = await client.list(CONFIGMAPS, namespace=namespace, label_selector="color!=red")
    assert names(not_red) == ["blue"]
    by_name = await client.list(CONFIGMAPS, namespace=namespace, field_selector="metadata.name=blue")
    assert names(by_name) == ["blue"]


async def test_cluster_scoped_resources_ignore_namespace(client: Client) -> None:
    ns = await client.get(NAMESPACES, name="default", namespace="ignored")
    assert ns["metadata"]["name"] == "default"


async def test_watch_streams_changes_after_a_revision(client: Client, namespace: str) -> None:
    listed = await client.list(CONFIGMAPS, namespace=namespace)
    rv = listed["metadata"]["resourceVersion"]
    seen: list[WatchEvent] = []
    async with client.watch(
        CONFIGMAPS, namespace=namespace, resource_version=rv, timeout_seconds=30
    ) as events:
        await client.create(CONFIGMAPS, configmap("w"), namespace=namespace)
        await client.patch(CONFIGMAPS, name="w", namespace=namespace, patch={"data": {"a": "b"}})
        await client.delete(CONFIGMAPS, name="w", namespace=namespace)
        async for event in events:
            if event.type != BOOKMARK:
                seen.append(event)
            if event.type == DELETED:
                break
    assert [e.type for e in seen] == [ADDED, MODIFIED, DELETED]
    revisions = [int(e.object["metadata"]["resourceVersion"]) for e in seen]
    assert revisions == sorted(revisions) and revisions[0] > int(rv)
    assert seen[1].object["data"] == {"a": "b"}


async def test_watch_with_a_selector_only_sees_matches(client: Client, namespace: str) -> None:
    rv = (await client.list(CONFIGMAPS, namespace=namespace))["metadata"]["resourceVersion"]
    stream = client.watch(
        CONFIGMAPS, namespace=namespace, resource_version=rv, label_selector="pick=yes", timeout_seconds=30
    )
    try:
        await client.create(CONFIGMAPS, configmap("skip", labels={"pick": "no"}), namespace=namespace)
        await client.create(CONFIGMAPS, configmap("take", labels={"pick": "yes"}), namespace=namespace)
        event = await anext(e async for e in stream if e.type != BOOKMARK)
    finally:
        await stream.aclose()
    assert event.type == ADDED and event.object["metadata"]["name"] == "take"


async def test_watch_ends_when_the_server_timeout_runs_out(client: Client, namespace: str) -> None:
    rv = (await client.list(CONFIGMAPS, namespace=namespace))["metadata"]["resourceVersion"]
    events = [
        e async for e in client.watch(CONFIGMAPS, namespace=namespace, resource_version=rv, timeout_seconds=1)
    ]
    assert all(e.type == BOOKMARK for e in events)


async def test_watch_open_errors_are_typed(client: Client) -> None:
    stream = client.watch(CONFIGMAPS, namespace="default", label_selector="=broken=", timeout_seconds=5)
    with pytest.raises(StatusError) as info:
        async with stream:
            pass
    assert info.value.code in (400, 422)


async def test_binding_subresource_assigns_a_node(client: Client, namespace: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    await client.create(PODS, pod, namespace=namespace)
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p", "namespace": namespace},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"},
    }
    try:
        await client.post_subresource(
            PODS, name="p", namespace=namespace, subresource="binding", body=binding
        )
    except NotFound as err:
        if "could not find the requested resource" not in err.message:
            raise
        pytest.skip("this API server does not serve pods/binding yet")
    bound = await client.get(PODS, name="p", namespace=namespace)
    assert bound["spec"]["nodeName"] == "node-1"


async def test_status_subresource_update(client: Client, namespace: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "s"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    created = await client.create(PODS, pod, namespace=namespace)
    created["status"] = {"phase": "Running"}
    updated = await client.update(PODS, created, subresource="status")
    assert updated["status"]["phase"] == "Running"
    patched = await client.patch(
        PODS, name="s", namespace=namespace, subresource="status", patch={"status": {"message": "hi"}}
    )
    assert patched["status"]["message"] == "hi"


async def test_request_escape_hatch(client: Client) -> None:
    version = await client.request("GET", "/version")
    assert "gitVersion" in version
    with pytest.raises(NotFound):
        await client.request("GET", "/api/v1/namespaces/default/configmaps/definitely-absent")


async def test_default_namespace_comes_from_the_kubeconfig(
    apiserver_kubeconfig: Path, tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = yaml.safe_load(await asyncio.to_thread(apiserver_kubeconfig.read_text))
    ctx = doc["contexts"][0]
    doc["contexts"].append({"name": "scoped", "context": {**ctx["context"], "namespace": namespace}})
    path = tmp_path / "config"
    await asyncio.to_thread(path.write_text, yaml.safe_dump(doc))
    monkeypatch.setenv("KUBECONFIG", str(path))
    async with Client.from_kubeconfig(context="scoped") as scoped:
        assert scoped.namespace == namespace
        await scoped.create(CONFIGMAPS, configmap("here"))
        assert (await scoped.get(CONFIGMAPS, name="here"))["metadata"]["namespace"] == namespace


async def test_concurrent_requests_share_one_client(client: Client, namespace: str) -> None:
    await asyncio.gather(
        *(client.create(CONFIGMAPS, configmap(f"c{i}"), namespace=namespace) for i in range(30))
    )
    assert len((await client.list(CONFIGMAPS, namespace=namespace))["items"]) == 30


async def test_bearer_token_user(apiserver_kubeconfig: Path) -> None:
    """A kubeconfig user with a bad token is refused with a typed 401."""
    config = load_kubeconfig(apiserver_kubeconfig)
    from dataclasses import replace

    anonymous = replace(config, client_cert_pem=None, client_key_pem=None, token="not-a-real-token")
    async with Client(anonymous) as c:
        with pytest.raises(StatusError) as info:
            await c.get(NODES, name="x")
    assert info.value.code == 401
