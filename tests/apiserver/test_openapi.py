"""OpenAPI: v3 documents shaped like kube-apiserver's (so kubectl explain and kubectl's
validation probe work), custom resources, v2, and the caching headers over HTTP.
The real kubectl reading these documents is tested in test_discovery.py."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from apiserver import openapi
from apiserver.openapi import OpenAPIDocuments, openapi_v3_document, openapi_v3_index, v2_document
from kube.model.schema import definitions
from kube.resources import Registry, ResourceInfo, default_registry

WIDGETS = ResourceInfo(
    group="example.com",
    version="v1",
    kind="Widget",
    resource="widgets",
    singular="widget",
    namespaced=True,
    subresources=("status", "scale"),
)
SCHEMAS = "#/components/schemas/"


@pytest.fixture(scope="module")
def core() -> dict[str, Any]:
    doc = openapi_v3_document(default_registry(), "api/v1")
    assert doc is not None
    return doc


@pytest.fixture(scope="module")
def apps() -> dict[str, Any]:
    doc = openapi_v3_document(default_registry(), "apis/apps/v1")
    assert doc is not None
    return doc


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and one-element ``allOf`` wrappers, as kubectl explain does."""
    while True:
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].removeprefix(SCHEMAS)]
        elif len(schema.get("allOf", ())) == 1 and "properties" not in schema:
            schema = schema["allOf"][0]
        else:
            return schema


def explain(doc: dict[str, Any], resource_path: str, field_path: str) -> dict[str, Any]:
    """What kubectl explain does: the kind from the path's operations, the schema by its
    x-kubernetes-group-version-kind, then the fields (through arrays and maps)."""
    gvk = doc["paths"][resource_path]["get"]["x-kubernetes-group-version-kind"]
    schema = next(
        s
        for s in doc["components"]["schemas"].values()
        if gvk in s.get("x-kubernetes-group-version-kind", [])
    )
    for name in field_path.split("."):
        schema = resolve(doc, schema)
        while "items" in schema or isinstance(schema.get("additionalProperties"), dict):
            schema = resolve(doc, schema.get("items") or schema["additionalProperties"])
        schema = schema["properties"][name]
    return schema


# --- documents -----------------------------------------------------------------------------


def test_index_names_every_group_version_with_its_hash() -> None:
    registry = default_registry()
    index = openapi_v3_index(registry)
    assert list(index) == ["paths"]
    assert set(index["paths"]) == {
        "api/v1", "apis/apps/v1", "apis/batch/v1", "apis/policy/v1", "apis/coordination.k8s.io/v1",
        "apis/scheduling.k8s.io/v1", "apis/rbac.authorization.k8s.io/v1", "apis/authorization.k8s.io/v1",
        "apis/apiextensions.k8s.io/v1",
    }  # fmt: skip
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    body = orjson.dumps(openapi_v3_document(registry, "apis/apps/v1"))
    assert url == f"/openapi/v3/apis/apps/v1?hash={hashlib.sha512(body).hexdigest().upper()}"


def test_unknown_documents() -> None:
    for path in ("apis/nope/v1", "api/v2", "apis/apps", "version", ""):
        assert openapi_v3_document(default_registry(), path) is None


def test_every_reference_resolves_and_types_are_openapi(core: dict[str, Any], apps: dict[str, Any]) -> None:
    for doc in (core, apps):
        assert doc["openapi"] == "3.0.0"
        assert doc["info"]["version"] == "v1.33.0"
        schemas = doc["components"]["schemas"]
        for node in walk(doc):
            if "$ref" in node:
                assert node["$ref"].removeprefix(SCHEMAS) in schemas, node["$ref"]
            # (A dict under "type" is a field called type, in a properties table.)
            if "type" in node and not isinstance(node["type"], dict):
                assert isinstance(node["type"], str), node
            assert node.get("nullable") is not True, node


def test_kinds_carry_their_group_version_kind(core: dict[str, Any], apps: dict[str, Any]) -> None:
    pod = core["components"]["schemas"]["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert pod["type"] == "object"
    # The one-value enums of the JSON-Schema flavour are not in Kubernetes' documents.
    assert pod["properties"]["kind"] == {
        "description": pod["properties"]["kind"]["description"],
        "type": "string",
    }
    deployment = apps["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]


def test_schemas_take_kubernetes_shapes(core: dict[str, Any]) -> None:
    schemas = core["components"]["schemas"]
    for name in (
        "io.k8s.api.core.v1.PodList", "io.k8s.api.core.v1.Binding", "io.k8s.api.policy.v1.Eviction",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    ):  # fmt: skip
        assert name in schemas
    spec = schemas["io.k8s.api.core.v1.Pod"]["properties"]["spec"]
    assert spec["allOf"] == [{"$ref": SCHEMAS + "io.k8s.api.core.v1.PodSpec"}]
    assert spec["description"].startswith("Specification of the desired behavior of the pod.")
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["items"] == {"$ref": SCHEMAS + "io.k8s.api.core.v1.Container"}
    assert (containers["type"], containers["x-kubernetes-patch-merge-key"]) == ("array", "name")
    int_or_string = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert int_or_string == {"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]}
    quantity = schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert quantity == {"oneOf": [{"type": "string"}, {"type": "number"}]}
    assert schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["format"] == "date-time"


def test_paths_of_a_namespaced_resource(core: dict[str, Any]) -> None:
    pods = core["paths"]["/api/v1/namespaces/{namespace}/pods"]
    assert pods["get"]["operationId"] == "listCoreV1NamespacedPod"
    assert pods["get"]["x-kubernetes-action"] == "list"
    assert pods["get"]["x-kubernetes-group-version-kind"] == {"group": "", "kind": "Pod", "version": "v1"}
    ok = pods["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": SCHEMAS + "io.k8s.api.core.v1.PodList"}
    assert pods["post"]["operationId"] == "createCoreV1NamespacedPod"
    assert pods["delete"]["operationId"] == "deleteCoreV1CollectionNamespacedPod"
    assert [p["name"] for p in pods["parameters"]] == ["namespace", "pretty"]
    item = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]
    assert set(item) == {"get", "put", "patch", "delete", "parameters"}
    assert item["patch"]["operationId"] == "patchCoreV1NamespacedPod"
    assert core["paths"]["/api/v1/pods"]["get"]["operationId"] == "listCoreV1PodForAllNamespaces"
    eviction = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]
    assert set(eviction) == {"post", "parameters"}
    assert eviction["post"]["x-kubernetes-group-version-kind"] == {
        "group": "policy",
        "kind": "Eviction",
        "version": "v1",
    }
    log = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]
    assert "text/plain" in log["responses"]["200"]["content"]
    assert {"container", "follow", "tailLines"} <= {p["name"] for p in log["parameters"]}


def test_paths_of_other_scopes(core: dict[str, Any], apps: dict[str, Any]) -> None:
    node = core["paths"]["/api/v1/nodes/{name}"]
    assert node["get"]["operationId"] == "readCoreV1Node"
    assert [p["name"] for p in node["parameters"]] == ["name", "pretty"]
    reviews = openapi_v3_document(default_registry(), "apis/authorization.k8s.io/v1")
    assert reviews is not None
    ssar = reviews["paths"]["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"]
    assert set(ssar) == {"post", "parameters"}
    assert "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/{name}" not in reviews["paths"]
    scale = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    assert scale["patch"]["operationId"] == "patchAppsV1NamespacedDeploymentScale"
    assert scale["patch"]["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling",
        "kind": "Scale",
        "version": "v1",
    }
    assert "io.k8s.api.autoscaling.v1.Scale" in apps["components"]["schemas"]
    assert scale["get"]["tags"] == ["apps_v1"]
    rbac = openapi_v3_document(default_registry(), "apis/rbac.authorization.k8s.io/v1")
    assert rbac is not None
    assert rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles"]["get"]["operationId"] == (
        "listRbacAuthorizationV1ClusterRole"
    )


def test_every_patch_offers_field_validation() -> None:
    # kubectl's QueryParamVerifierV3: the PATCH operation of a kind must list
    # fieldValidation, or kubectl validates on the client against /openapi/v2 instead.
    registry = default_registry()
    for info in registry:
        if "patch" not in info.verbs:
            continue
        key = f"apis/{info.group}/{info.version}" if info.group else f"api/{info.version}"
        doc = openapi_v3_document(registry, key)
        assert doc is not None
        gvk = {"group": info.group, "kind": info.kind, "version": info.version}
        patches = [item["patch"] for item in doc["paths"].values() if item.get("patch", {}).get(
            "x-kubernetes-group-version-kind") == gvk]  # fmt: skip
        assert patches, info.resource
        assert "fieldValidation" in [p["name"] for p in patches[0]["parameters"]]


def test_explain_walk(core: dict[str, Any], apps: dict[str, Any]) -> None:
    containers = explain(core, "/api/v1/pods", "spec.containers")
    assert containers["description"].startswith("List of containers belonging to the pod.")
    image = explain(core, "/api/v1/namespaces/{namespace}/pods", "spec.containers.image")
    assert image["type"] == "string"
    max_surge = explain(apps, "/apis/apps/v1/deployments", "spec.strategy.rollingUpdate.maxSurge")
    assert max_surge["allOf"] == [{"$ref": SCHEMAS + "io.k8s.apimachinery.pkg.util.intstr.IntOrString"}]
    labels = explain(apps, "/apis/apps/v1/deployments", "spec.template.metadata.labels")
    assert labels["additionalProperties"] == {"type": "string"}


# --- custom resources ---------------------------------------------------------------------


def test_custom_resources_get_an_open_schema_then_their_own() -> None:
    registry = default_registry()
    registry.add(WIDGETS)
    doc = openapi_v3_document(registry, "apis/example.com/v1")
    assert doc is not None
    widget = doc["components"]["schemas"]["com.example.v1.Widget"]
    assert widget["x-kubernetes-preserve-unknown-fields"] is True
    assert widget["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "kind": "Widget", "version": "v1"}
    ]
    assert widget["properties"]["metadata"]["allOf"] == [
        {"$ref": SCHEMAS + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    listed = doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets"]["get"]
    assert listed["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": SCHEMAS + "com.example.v1.WidgetList"
    }
    for node in walk(doc):
        if "$ref" in node:
            assert node["$ref"].removeprefix(SCHEMAS) in doc["components"]["schemas"]
    before = openapi_v3_index(registry)["paths"]["apis/example.com/v1"]

    spec = {"type": "object", "properties": {"size": {"type": "integer", "description": "How big."}}}
    openapi.register_schema(group="example.com", version="v1", kind="Widget",
                            schema={"type": "object", "properties": {"spec": spec}})  # fmt: skip
    try:
        doc = openapi_v3_document(registry, "apis/example.com/v1")
        assert doc is not None
        assert explain(doc, "/apis/example.com/v1/widgets", "spec.size")["description"] == "How big."
        assert openapi_v3_index(registry)["paths"]["apis/example.com/v1"] != before
    finally:
        openapi.unregister_schema(group="example.com", version="v1", kind="Widget")


# --- v2 ------------------------------------------------------------------------------------


def test_v2_document() -> None:
    doc = v2_document()
    assert doc["swagger"] == "2.0"
    assert set(doc["definitions"]) == set(definitions())
    spec = doc["definitions"]["io.k8s.api.core.v1.Pod"]["properties"]["spec"]
    assert spec["$ref"] == "#/definitions/io.k8s.api.core.v1.PodSpec" and "description" in spec
    assert doc["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "type": "string",
        "format": "int-or-string",
    }


# --- over HTTP ------------------------------------------------------------------------------


@pytest.fixture
def registry() -> Registry:
    return default_registry()


@pytest.fixture
async def client(registry: Registry) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=Starlette(routes=openapi.routes(registry)))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_http_v2(client: httpx.AsyncClient) -> None:
    proto = await client.get(
        "/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}
    )
    assert proto.status_code == 200 and proto.content == b""
    # Go's mime parser refuses "@" in a media type; kube-openapi answers the dotted form.
    assert proto.headers["content-type"] == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    swagger = await client.get("/openapi/v2", headers={"Accept": "application/json"})
    assert swagger.headers["content-type"] == "application/json"
    assert swagger.json()["swagger"] == "2.0"


async def test_http_v3_caching(client: httpx.AsyncClient) -> None:
    index = (await client.get("/openapi/v3")).json()
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    hashed = await client.get(url)
    assert hashed.status_code == 200
    assert hashed.headers["cache-control"] == "public, immutable"
    assert "expires" in hashed.headers
    assert hashed.headers["etag"] == f'"{url.rpartition("=")[2]}"'
    assert hashed.json()["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    revalidated = await client.get(url, headers={"If-None-Match": hashed.headers["etag"]})
    assert revalidated.status_code == 304
    plain = await client.get("/openapi/v3/apis/apps/v1")
    assert plain.status_code == 200 and "cache-control" not in plain.headers
    stale = await client.get("/openapi/v3/apis/apps/v1?hash=0123", follow_redirects=False)
    assert stale.status_code == 301 and stale.headers["location"] == url
    missing = await client.get("/openapi/v3/apis/nope/v1")
    assert missing.status_code == 404 and missing.json()["reason"] == "NotFound"


async def test_http_documents_follow_the_registry(client: httpx.AsyncClient, registry: Registry) -> None:
    assert "apis/example.com/v1" not in (await client.get("/openapi/v3")).json()["paths"]
    registry.add(WIDGETS)
    assert "apis/example.com/v1" in (await client.get("/openapi/v3")).json()["paths"]
    registry.remove(group="example.com", version="v1", resource="widgets")
    assert (await client.get("/openapi/v3/apis/example.com/v1")).status_code == 404


def test_documents_are_rendered_once_per_registry_change() -> None:
    registry = default_registry()
    documents = OpenAPIDocuments(registry)
    first = documents.document("api/v1")
    assert first is not None and documents.document("api/v1") is first
    templates = ResourceInfo(
        group="",
        version="v1",
        kind="PodTemplate",
        resource="podtemplates",
        singular="podtemplate",
        namespaced=True,
    )
    registry.add(templates)
    changed = documents.document("api/v1")
    assert changed is not None and changed is not first and changed.etag != first.etag
