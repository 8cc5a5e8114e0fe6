"""Discovery and /version: the documents' shapes (as kube-apiserver 1.33 writes them),
the choice between aggregated and legacy forms by Accept header, caching that follows
the registry, and — at the end — the real kubectl reading them over HTTP."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apiserver import discovery, openapi
from apiserver.version import version_info
from kube.resources import Registry, ResourceInfo, default_registry

V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
ACCEPT_133 = f"{V2},{V2BETA1},application/json"
ACCEPT_127 = f"{V2BETA1},application/json"

WIDGETS_V1 = ResourceInfo(
    group="example.com",
    version="v1",
    kind="Widget",
    resource="widgets",
    singular="widget",
    namespaced=True,
    short_names=("wd",),
    categories=("all",),
    subresources=("status", "scale"),
)


def by_name(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in resources}


# --- /version ---------------------------------------------------------------------------


def test_version_reports_kubernetes_1_33() -> None:
    info = version_info()
    assert list(info) == [
        "major", "minor", "emulationMajor", "emulationMinor", "minCompatibilityMajor",
        "minCompatibilityMinor", "gitVersion", "gitCommit", "gitTreeState", "buildDate",
        "goVersion", "compiler", "platform",
    ]  # fmt: skip
    assert (info["major"], info["minor"]) == ("1", "33")
    assert info["gitVersion"].startswith("v1.33.0")
    assert info["minCompatibilityMinor"] == "32"
    assert "/" in info["platform"]


# --- legacy documents -----------------------------------------------------------------


def test_api_versions() -> None:
    assert discovery.api_versions() == {"kind": "APIVersions", "versions": ["v1"]}
    doc = discovery.api_versions(server_address="10.0.0.1:6443")
    assert doc["serverAddressByClientCIDRs"] == [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}
    ]


def test_api_group_list_names_every_group_in_kubernetes_order() -> None:
    doc = discovery.api_group_list(default_registry())
    assert (doc["kind"], doc["apiVersion"]) == ("APIGroupList", "v1")
    names = [g["name"] for g in doc["groups"]]
    assert names == [
        "apps", "authorization.k8s.io", "batch", "policy", "rbac.authorization.k8s.io",
        "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io",
    ]  # fmt: skip
    apps = doc["groups"][0]
    assert apps == {
        "name": "apps",
        "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
    }


def test_api_group() -> None:
    registry = default_registry()
    doc = discovery.api_group(registry, "batch")
    assert doc is not None
    assert (doc["kind"], doc["apiVersion"], doc["name"]) == ("APIGroup", "v1", "batch")
    assert discovery.api_group(registry, "nope") is None
    assert discovery.api_group(registry, "") is None


def test_core_resource_list() -> None:
    doc = discovery.resource_list(default_registry(), "", "v1")
    assert doc is not None
    # kube-apiserver writes no apiVersion on the core group's list.
    assert list(doc) == ["kind", "groupVersion", "resources"]
    names = [r["name"] for r in doc["resources"]]
    assert names == sorted(names)
    resources = by_name(doc["resources"])
    assert resources["pods"] == {
        "name": "pods",
        "singularName": "pod",
        "namespaced": True,
        "kind": "Pod",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["po"],
        "categories": ["all"],
        "storageVersionHash": "xPOwRZ+Yhw8=",
    }
    assert resources["pods/binding"] == {
        "name": "pods/binding", "singularName": "", "namespaced": True, "kind": "Binding", "verbs": ["create"],
    }  # fmt: skip
    assert resources["pods/eviction"] == {
        "name": "pods/eviction", "singularName": "", "namespaced": True,
        "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"],
    }  # fmt: skip
    assert resources["pods/log"]["kind"] == "Pod" and resources["pods/log"]["verbs"] == ["get"]
    assert resources["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert resources["namespaces/finalize"]["verbs"] == ["update"]
    assert resources["nodes"]["namespaced"] is False
    # Virtual kinds are answered, not stored: no storage version to hash.
    assert "storageVersionHash" not in resources["bindings"]


def test_group_resource_list() -> None:
    doc = discovery.resource_list(default_registry(), "apps", "v1")
    assert doc is not None
    assert list(doc) == ["kind", "apiVersion", "groupVersion", "resources"]
    assert doc["groupVersion"] == "apps/v1"
    resources = by_name(doc["resources"])
    assert resources["deployments"]["shortNames"] == ["deploy"]
    assert resources["deployments"]["storageVersionHash"] == "8aSe+NMegvE="
    assert resources["deployments/scale"] == {
        "name": "deployments/scale", "singularName": "", "namespaced": True,
        "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
    }  # fmt: skip
    assert discovery.resource_list(default_registry(), "apps", "v2") is None


# --- aggregated documents ---------------------------------------------------------------


def test_aggregated_core() -> None:
    doc = discovery.aggregated(default_registry(), "v2", core=True)
    assert (doc["kind"], doc["apiVersion"], doc["metadata"]) == (
        "APIGroupDiscoveryList",
        "apidiscovery.k8s.io/v2",
        {},
    )
    [core] = doc["items"]
    assert core["metadata"] == {"creationTimestamp": None}
    [v1] = core["versions"]
    assert (v1["version"], v1["freshness"]) == ("v1", "Current")
    resources = {r["resource"]: r for r in v1["resources"]}
    pods = resources["pods"]
    assert {k: v for k, v in pods.items() if k != "subresources"} == {
        "resource": "pods",
        "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
        "scope": "Namespaced",
        "singularResource": "pod",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["po"],
        "categories": ["all"],
    }
    subs = {s["subresource"]: s for s in pods["subresources"]}
    assert list(subs) == ["binding", "eviction", "log", "status"]
    assert subs["eviction"] == {
        "subresource": "eviction",
        "responseKind": {"group": "policy", "version": "v1", "kind": "Eviction"},
        "verbs": ["create"],
    }
    assert subs["log"]["responseKind"]["kind"] == "Pod"
    assert resources["nodes"]["scope"] == "Cluster"
    assert "subresources" not in resources["configmaps"]


def test_aggregated_groups_and_beta_version() -> None:
    doc = discovery.aggregated(default_registry(), "v2beta1")
    assert doc["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    assert [i["metadata"]["name"] for i in doc["items"]][:3] == ["apps", "authorization.k8s.io", "batch"]
    apps = doc["items"][0]["versions"][0]["resources"]
    deployments = next(r for r in apps if r["resource"] == "deployments")
    scale = next(s for s in deployments["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    with pytest.raises(ValueError):
        discovery.aggregated(default_registry(), "v1")


def test_aggregated_and_legacy_agree() -> None:
    registry = default_registry()
    aggregated = [discovery.aggregated(registry, core=True), discovery.aggregated(registry)]
    for group_doc in (item for doc in aggregated for item in doc["items"]):
        group = group_doc["metadata"].get("name", "")
        for version_doc in group_doc["versions"]:
            legacy = discovery.resource_list(registry, group, version_doc["version"])
            assert legacy is not None
            expected = by_name(legacy["resources"])
            for res in version_doc["resources"]:
                entry = expected[res["resource"]]
                assert res["verbs"] == entry["verbs"]
                assert res["responseKind"]["kind"] == entry["kind"]
                assert (res["scope"] == "Namespaced") == entry["namespaced"]
                assert res.get("shortNames") == entry.get("shortNames")
                for sub in res.get("subresources", []):
                    assert sub["verbs"] == expected[f"{res['resource']}/{sub['subresource']}"]["verbs"]


def test_versions_are_listed_preferred_first() -> None:
    registry = default_registry()
    registry.add(dataclasses.replace(WIDGETS_V1, version="v1beta1", preferred=False))
    registry.add(dataclasses.replace(WIDGETS_V1, version="v1alpha1", preferred=False))
    registry.add(WIDGETS_V1)
    group = next(g for g in discovery.api_group_list(registry)["groups"] if g["name"] == "example.com")
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1", "v1alpha1"]
    assert group["preferredVersion"]["version"] == "v1"
    item = next(i for i in discovery.aggregated(registry)["items"] if i["metadata"]["name"] == "example.com")
    assert [v["version"] for v in item["versions"]] == ["v1", "v1beta1", "v1alpha1"]


def test_version_order() -> None:
    versions = ["v1alpha1", "v1", "foo", "v2beta1", "v1beta2", "v2", "v1beta1", "v10"]
    assert sorted(versions, key=discovery.version_order) == [
        "v10", "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "foo",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        (ACCEPT_133, "v2"),
        (ACCEPT_127, "v2beta1"),
        ("application/json", None),
        ("", None),
        ("*/*", None),
        (f"application/json,{V2}", None),
        (f"application/json;q=0.5,{V2}", "v2"),
        ("application/json;g=apidiscovery.k8s.io;v=v9;as=APIGroupDiscoveryList,application/json", None),
    ],
)
def test_accept_chooses_the_form(accept: str, wanted: str | None) -> None:
    assert discovery.wanted_aggregated_version(accept) == wanted


def test_registry_generation_counts_changes() -> None:
    registry = default_registry()
    before = registry.generation
    registry.add(WIDGETS_V1)
    registry.remove(group="example.com", version="v1", resource="widgets")
    registry.remove(group="example.com", version="v1", resource="widgets")  # absent: no change
    assert registry.generation == before + 2


# --- over HTTP ------------------------------------------------------------------------


@pytest.fixture
def registry() -> Registry:
    return default_registry()


@pytest.fixture
async def client(registry: Registry) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=Starlette(routes=discovery.routes(registry)))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_http_aggregated_by_accept(client: httpx.AsyncClient) -> None:
    for path in ("/api", "/apis"):
        response = await client.get(path, headers={"Accept": ACCEPT_133})
        assert response.status_code == 200
        assert response.headers["content-type"] == V2
        assert response.json()["kind"] == "APIGroupDiscoveryList"
        etag = response.headers["etag"]
        cached = await client.get(path, headers={"Accept": ACCEPT_133, "If-None-Match": etag})
        assert cached.status_code == 304
    beta = await client.get("/apis", headers={"Accept": ACCEPT_127})
    assert beta.headers["content-type"] == V2BETA1
    assert beta.json()["apiVersion"] == "apidiscovery.k8s.io/v2beta1"


async def test_http_legacy(client: httpx.AsyncClient) -> None:
    api = await client.get("/api", headers={"Accept": "application/json, */*"})
    assert api.headers["content-type"] == "application/json"
    assert api.json()["kind"] == "APIVersions"
    assert api.json()["serverAddressByClientCIDRs"][0]["serverAddress"] == "testserver"
    assert (await client.get("/apis")).json()["kind"] == "APIGroupList"
    assert (await client.get("/api/v1")).json()["groupVersion"] == "v1"
    assert (await client.get("/apis/apps/v1")).json()["groupVersion"] == "apps/v1"
    assert (await client.get("/apis/apps")).json()["kind"] == "APIGroup"
    assert (await client.get("/version")).json()["minor"] == "33"


async def test_http_unknown_group_is_a_status(client: httpx.AsyncClient) -> None:
    for path in ("/apis/nope", "/apis/nope/v1", "/api/v2", "/apis/apps/v9"):
        response = await client.get(path)
        assert response.status_code == 404
        body = response.json()
        assert (body["kind"], body["reason"], body["code"]) == ("Status", "NotFound", 404)


async def test_http_follows_the_registry(client: httpx.AsyncClient, registry: Registry) -> None:
    async def groups() -> list[str]:
        return [g["name"] for g in (await client.get("/apis")).json()["groups"]]

    async def aggregated_groups() -> list[str]:
        doc = (await client.get("/apis", headers={"Accept": ACCEPT_133})).json()
        return [i["metadata"]["name"] for i in doc["items"]]

    assert "example.com" not in await groups() and "example.com" not in await aggregated_groups()
    registry.add(WIDGETS_V1)
    assert "example.com" in await groups() and "example.com" in await aggregated_groups()
    resources = (await client.get("/apis/example.com/v1")).json()["resources"]
    assert by_name(resources)["widgets"]["kind"] == "Widget"
    registry.remove(group="example.com", version="v1", resource="widgets")
    assert "example.com" not in await groups()
    assert (await client.get("/apis/example.com/v1")).status_code == 404


# --- the real kubectl ----------------------------------------------------------------------


def _kubectl(version: str) -> Path | None:
    found = shutil.which("kubectl")
    if found is None:
        return None
    binary = Path(os.path.realpath(found)).parent / f"kubectl.{version}"
    return binary if binary.exists() else None


@dataclasses.dataclass
class Server:
    url: str
    requests: list[tuple[str, str, str]]
    """(method, path, query) of requests that reached the stub (not our routes)."""


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """Our discovery and OpenAPI routes, plus a stub that answers 404 to GETs and
    echoes writes with 201 (to see what ``kubectl apply`` sends), on a loopback port."""
    registry = default_registry()
    registry.add(WIDGETS_V1)
    spec = {"type": "object", "description": "What the widget should be.",
            "properties": {"size": {"type": "integer", "description": "How big the widget is."}}}  # fmt: skip
    openapi.register_schema(group="example.com", version="v1", kind="Widget",
                            schema={"type": "object", "properties": {"spec": spec}})  # fmt: skip
    seen: list[tuple[str, str, str]] = []

    async def stub(request: Request) -> Response:
        seen.append((request.method, request.url.path, request.url.query))
        if request.method in ("POST", "PUT", "PATCH"):
            return Response(await request.body(), status_code=201, media_type="application/json")
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": "not found", "reason": "NotFound", "code": 404}  # fmt: skip
        return Response(json.dumps(status), status_code=404, media_type="application/json")

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(
        routes=[
            *discovery.routes(registry),
            *openapi.routes(registry),
            Route("/{rest:path}", stub, methods=methods),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not uv.started:
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
        threading.Event().wait(0.01)
    yield Server(url=f"http://127.0.0.1:{port}", requests=seen)
    uv.should_exit = True
    thread.join(timeout=5)
    sock.close()
    openapi.unregister_schema(group="example.com", version="v1", kind="Widget")


def kubectl(server: Server, version: str, tmp_path: Path, *args: str, stdin: str = "") -> str:
    binary = _kubectl(version)
    if binary is None:
        pytest.skip(f"kubectl.{version} is not installed")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "t",
            "clusters": [{"name": "t", "cluster": {"server": server.url}}],
            "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
            "users": [{"name": "t", "user": {}}],
        })
    )  # fmt: skip
    done = subprocess.run(
        [str(binary), f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path / 'cache'}", *args],
        input=stdin, capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_api_resources(server: Server, tmp_path: Path, version: str) -> None:
    lines = kubectl(server, version, tmp_path, "api-resources").splitlines()
    assert lines[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["pods"] == ["po", "v1", "true", "Pod"]
    assert rows["deployments"] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["nodes"] == ["no", "v1", "false", "Node"]
    assert rows["customresourcedefinitions"] == [
        "crd,crds",
        "apiextensions.k8s.io/v1",
        "false",
        "CustomResourceDefinition",
    ]
    assert rows["clusterroles"] == ["rbac.authorization.k8s.io/v1", "false", "ClusterRole"]
    assert rows["widgets"] == ["wd", "example.com/v1", "true", "Widget"]


@pytest.mark.e2e
def test_kubectl_version_shows_the_server(server: Server, tmp_path: Path) -> None:
    report = json.loads(kubectl(server, "1.33", tmp_path, "version", "-o", "json"))
    assert report["serverVersion"]["minor"] == "33"
    assert report["serverVersion"]["gitVersion"].startswith("v1.33.0")


@pytest.mark.e2e
@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_explain(server: Server, tmp_path: Path, version: str) -> None:
    out = kubectl(server, version, tmp_path, "explain", "pod.spec.containers")
    assert "KIND:       Pod" in out
    assert "FIELD: containers <[]Container>" in out
    assert "List of containers belonging to the pod." in out
    assert "image\t<string>" in out
    assert "ports\t<[]ContainerPort>" in out


@pytest.mark.e2e
def test_kubectl_explain_recursive(server: Server, tmp_path: Path) -> None:
    out = kubectl(server, "1.33", tmp_path, "explain", "deployment.spec", "--recursive")
    assert out.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n")
    assert "  selector\t<LabelSelector> -required-\n" in out
    assert "      maxSurge\t<IntOrString>\n" in out
    assert "      containers\t<[]Container> -required-\n" in out


@pytest.mark.e2e
@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_explain_custom_resource(server: Server, tmp_path: Path, version: str) -> None:
    out = kubectl(server, version, tmp_path, "explain", "widgets.spec")
    assert "GROUP:      example.com\nKIND:       Widget\nVERSION:    v1\n" in out
    assert "What the widget should be." in out
    assert "size\t<integer>" in out and "How big the widget is." in out


@pytest.mark.e2e
@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_apply_leaves_validation_to_the_server(server: Server, tmp_path: Path, version: str) -> None:
    # kubectl finds the fieldValidation parameter in our OpenAPI and so asks the server
    # to validate (Strict) instead of validating against /openapi/v2 itself.
    manifest = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{version}"}})
    kubectl(server, version, tmp_path, "apply", "-f", "-", stdin=manifest)
    posts = [(path, query) for method, path, query in server.requests if method == "POST"]
    assert ("/api/v1/namespaces/default/configmaps",
            "fieldManager=kubectl-client-side-apply&fieldValidation=Strict") in posts  # fmt: skip
