"""The HTTP surface: status codes, Status bodies, content types, parameters, headers."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from apiserver.app import KubeApp
from apiserver.registry import API

PODS = "/api/v1/namespaces/default/pods"
CMS = "/api/v1/namespaces/default/configmaps"


def pod(name: str = "p") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }


def assert_status(resp: httpx.Response, code: int, reason: str, message: str = "") -> dict[str, Any]:
    assert resp.status_code == code, resp.text
    assert resp.headers["content-type"] == "application/json"
    body: dict[str, Any] = resp.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason
    assert message in body["message"]
    return body


async def test_crud_round_trip(client: httpx.AsyncClient) -> None:
    created = await client.post(PODS, json=pod())
    assert created.status_code == 201
    got = await client.get(f"{PODS}/p")
    assert got.status_code == 200 and got.json() == created.json()
    listed = await client.get(PODS)
    assert listed.json()["kind"] == "PodList" and [i["metadata"]["name"] for i in listed.json()["items"]] == ["p"]
    body = got.json()
    body["metadata"]["labels"]["v"] = "2"
    put = await client.put(f"{PODS}/p", json=body)
    assert put.status_code == 200 and put.json()["metadata"]["labels"]["v"] == "2"
    deleted = await client.request("DELETE", f"{PODS}/p", json={"propagationPolicy": "Background"})
    assert deleted.status_code == 200 and deleted.json()["kind"] == "Pod"
    assert_status(await client.get(f"{PODS}/p"), 404, "NotFound", 'pods "p" not found')


async def test_no_credentials_is_401_except_for_health(app: KubeApp) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as anonymous:
        assert_status(await anonymous.get(PODS), 401, "Unauthorized", "Unauthorized")
        assert_status(await anonymous.get("/metrics"), 401, "Unauthorized")
        assert (await anonymous.get("/healthz")).text == "ok"


async def test_unknown_resource_and_path_are_404(client: httpx.AsyncClient) -> None:
    assert_status(await client.get("/api/v1/namespaces/default/widgets"), 404, "NotFound",
                  "the server could not find the requested resource")
    assert_status(await client.get("/apis/apps/v2/deployments"), 404, "NotFound")
    assert_status(await client.get(f"{PODS}/p/nosuchsub"), 404, "NotFound")
    assert_status(await client.get("/nowhere"), 404, "NotFound")
    assert_status(await client.get("/api/v1/namespaces/default/nodes"), 404, "NotFound")


async def test_wrong_verb_is_405(client: httpx.AsyncClient) -> None:
    assert_status(await client.put(PODS, json=pod()), 405, "MethodNotAllowed")
    assert_status(await client.post(f"{PODS}/p", json=pod()), 405, "MethodNotAllowed")
    assert_status(await client.post("/api/v1/pods", json=pod()), 405, "MethodNotAllowed")
    assert_status(await client.get("/api/v1/namespaces/default/bindings"), 405, "MethodNotAllowed")


async def test_bad_bodies(client: httpx.AsyncClient) -> None:
    assert_status(await client.post(PODS, content=b"{nope", headers={"content-type": "application/json"}),
                  400, "BadRequest", "error decoding JSON")
    assert_status(await client.post(PODS, content=b"x", headers={"content-type": "text/plain"}),
                  415, "UnsupportedMediaType")
    big = b'{"metadata": {"name": "' + b"x" * (3 * 1024 * 1024) + b'"}}'
    assert_status(await client.post(CMS, content=big, headers={"content-type": "application/json"}),
                  413, "RequestEntityTooLarge", "limit is 3145728")
    invalid = await client.post(PODS, json={"metadata": {"name": "Bad"}, "spec": {"containers": [{"name": "c"}]}})
    body = assert_status(invalid, 422, "Invalid", 'Pod "Bad" is invalid')
    assert len(body["details"]["causes"]) >= 2


async def test_yaml_body(client: httpx.AsyncClient) -> None:
    yaml_body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n"
    resp = await client.post(CMS, content=yaml_body, headers={"content-type": "application/yaml"})
    assert resp.status_code == 201 and resp.json()["data"] == {"k": "v"}
    as_yaml = await client.get(f"{CMS}/y", headers={"accept": "application/yaml"})
    assert as_yaml.headers["content-type"] == "application/yaml" and b"name: y" in as_yaml.content


async def test_strict_field_validation_and_warnings(client: httpx.AsyncClient) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w"}, "bogus": 1}
    strict = await client.post(f"{CMS}?fieldValidation=Strict", json=body)
    assert strict.status_code in (400, 422) and "bogus" in strict.json()["message"]
    warned = await client.post(f"{CMS}?fieldValidation=Warn", json=body)
    assert warned.status_code == 201
    assert 'unknown field \\"bogus\\"' in warned.headers["warning"] or "bogus" in warned.headers["warning"]
    assert warned.headers["warning"].startswith('299 - "')
    bad = await client.post(f"{CMS}?fieldValidation=Loose", json=body)
    assert_status(bad, 422, "Invalid", "fieldValidation")


async def test_dry_run_parameter(client: httpx.AsyncClient) -> None:
    resp = await client.post(f"{CMS}?dryRun=All", json={"metadata": {"name": "d"}})
    assert resp.status_code == 201
    assert (await client.get(f"{CMS}/d")).status_code == 404
    assert_status(await client.post(f"{CMS}?dryRun=Some", json={"metadata": {"name": "d"}}), 422, "Invalid")


async def test_patch_content_types(client: httpx.AsyncClient) -> None:
    await client.post(CMS, json={"metadata": {"name": "c"}, "data": {"a": "1"}})
    merge = await client.patch(f"{CMS}/c", content=b'{"data":{"b":"2"}}',
                               headers={"content-type": "application/merge-patch+json"})
    assert merge.json()["data"] == {"a": "1", "b": "2"}
    assert_status(await client.patch(f"{CMS}/c", content=b"{}", headers={"content-type": "application/json"}),
                  415, "UnsupportedMediaType")
    no_manager = await client.patch(f"{CMS}/c", content=b"data: {}", headers={"content-type": "application/apply-patch+yaml"})
    assert_status(no_manager, 422, "Invalid", "fieldManager: Required value")
    forced = await client.patch(f"{CMS}/c?force=true", content=b"{}", headers={"content-type": "application/merge-patch+json"})
    assert_status(forced, 422, "Invalid", "force")
    applied = await client.patch(
        "/api/v1/namespaces/default/configmaps/new?fieldManager=me",
        content=b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\ndata:\n  x: y\n",
        headers={"content-type": "application/apply-patch+yaml"},
    )
    assert applied.status_code == 201 and applied.json()["data"] == {"x": "y"}


async def test_conflict_on_stale_update(client: httpx.AsyncClient) -> None:
    created = (await client.post(CMS, json={"metadata": {"name": "c"}})).json()
    created["data"] = {"a": "1"}
    assert (await client.put(f"{CMS}/c", json=created)).status_code == 200
    assert_status(await client.put(f"{CMS}/c", json=created), 409, "Conflict", "the object has been modified")


async def test_create_in_missing_namespace(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/namespaces/ghost/configmaps", json={"metadata": {"name": "c"}})
    assert_status(resp, 404, "NotFound", 'namespaces "ghost" not found')


async def test_list_parameters_are_validated(client: httpx.AsyncClient) -> None:
    assert_status(await client.get(f"{PODS}?resourceVersionMatch=Exact"), 422, "Invalid",
                  "resourceVersionMatch is forbidden unless resourceVersion is provided")
    assert_status(await client.get(f"{PODS}?resourceVersion=0&resourceVersionMatch=Exact"), 422, "Invalid")
    assert_status(await client.get(f"{PODS}?limit=abc"), 400, "BadRequest", "limit")
    assert_status(await client.get(f"{PODS}?fieldSelector=spec.bogus%3D1"), 400, "BadRequest", "field label not supported")
    assert_status(await client.get(f"{PODS}?continue=abc&resourceVersion=5"), 400, "BadRequest")


async def test_list_paging_over_http(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await client.post(CMS, json={"metadata": {"name": f"c{i}"}})
    first = (await client.get(f"{CMS}?limit=2")).json()
    assert len(first["items"]) == 2 and first["metadata"]["continue"]
    rest = (await client.get(f"{CMS}?limit=2&continue={first['metadata']['continue']}")).json()
    assert [i["metadata"]["name"] for i in rest["items"]] == ["c2"]


async def test_table_output(client: httpx.AsyncClient) -> None:
    await client.post(PODS, json=pod())
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = await client.get(PODS, headers={"accept": accept})
    assert table.headers["content-type"] == "application/json;as=Table;v=v1;g=meta.k8s.io"
    body = table.json()
    assert body["kind"] == "Table"
    assert body["columnDefinitions"][0]["name"] == "Name"
    assert body["rows"][0]["cells"][0] == "p"
    assert body["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    one = (await client.get(f"{PODS}/p", headers={"accept": accept})).json()
    assert one["kind"] == "Table" and len(one["rows"]) == 1


async def test_partial_object_metadata_list(client: httpx.AsyncClient) -> None:
    await client.post(PODS, json=pod())
    accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
    body = (await client.get(PODS, headers={"accept": accept})).json()
    assert body["kind"] == "PartialObjectMetadataList"
    assert body["items"][0]["metadata"]["name"] == "p" and "spec" not in body["items"][0]


async def test_delete_returns_status_for_most_kinds(client: httpx.AsyncClient) -> None:
    await client.post(CMS, json={"metadata": {"name": "c"}})
    resp = await client.delete(f"{CMS}/c")
    assert resp.status_code == 200
    assert resp.json()["status"] == "Success" and resp.json()["details"]["name"] == "c"


async def test_delete_options_in_body_and_query(client: httpx.AsyncClient) -> None:
    await client.post(CMS, json={"metadata": {"name": "c", "finalizers": ["x/y"]}})
    held = await client.request("DELETE", f"{CMS}/c", json={"propagationPolicy": "Orphan"})
    assert held.status_code == 200 and "orphan" in held.json()["metadata"]["finalizers"]
    assert_status(await client.request("DELETE", f"{CMS}/c", json={"propagationPolicy": "Sideways"}), 422, "Invalid")
    assert_status(await client.delete(f"{CMS}/c?gracePeriodSeconds=soon"), 400, "BadRequest")
    await client.post(CMS, json={"metadata": {"name": "d"}})
    resp = await client.request("DELETE", f"{CMS}/d", json={"preconditions": {"uid": "nope"}})
    assert_status(resp, 409, "Conflict", "precondition")


async def test_deletecollection(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await client.post(CMS, json={"metadata": {"name": f"c{i}", "labels": {"g": "a" if i else "b"}}})
    resp = await client.delete(f"{CMS}?labelSelector=g%3Da")
    assert resp.status_code == 200 and len(resp.json()["items"]) == 2
    assert [i["metadata"]["name"] for i in (await client.get(CMS)).json()["items"]] == ["c0"]


async def test_status_subresource_over_http(client: httpx.AsyncClient) -> None:
    created = (await client.post(PODS, json=pod())).json()
    created["status"] = {"phase": "Running"}
    put = await client.put(f"{PODS}/p/status", json=created)
    assert put.status_code == 200 and put.json()["status"]["phase"] == "Running"
    got = await client.get(f"{PODS}/p/status")
    assert got.json()["status"]["phase"] == "Running"
    assert_status(await client.post(f"{PODS}/p/status", json=created), 405, "MethodNotAllowed")


async def test_cluster_scoped_and_namespace_paths(client: httpx.AsyncClient) -> None:
    ns = await client.get("/api/v1/namespaces/default")
    assert ns.status_code == 200 and ns.json()["status"]["phase"] == "Active"
    pcs = (await client.get("/apis/scheduling.k8s.io/v1/priorityclasses")).json()
    values = {i["metadata"]["name"]: i["value"] for i in pcs["items"]}
    assert values == {"system-cluster-critical": 2000000000, "system-node-critical": 2000001000}
    finalize = ns.json()
    finalize["spec"]["finalizers"] = []
    resp = await client.put("/api/v1/namespaces/default/finalize", json=finalize)
    assert resp.status_code == 200 and resp.json()["spec"].get("finalizers", []) == []


async def test_internal_errors_become_a_status(client: httpx.AsyncClient, api: API, monkeypatch: pytest.MonkeyPatch) -> None:
    store = api.store(group="", version="v1", resource="configmaps")
    assert store is not None

    async def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "get", broken)
    body = assert_status(await client.get(f"{CMS}/c"), 500, "InternalError", "disk on fire")
    assert "Traceback" not in orjson.dumps(body).decode()


async def test_metrics_and_health(client: httpx.AsyncClient) -> None:
    await client.get(PODS)
    text = (await client.get("/metrics")).text
    assert 'apiserver_request_total{code="200",resource="pods",verb="LIST"}' in text
    assert "apiserver_request_duration_seconds_bucket" in text
    assert "etcd_request_duration_seconds_bucket" in text
    assert "apiserver_current_inflight_requests" in text
    assert "apiserver_registered_watchers" in text
    for path in ("/healthz", "/livez", "/readyz", "/readyz/etcd"):
        resp = await client.get(path)
        assert resp.status_code == 200 and resp.text == "ok"
    verbose = await client.get("/readyz?verbose")
    assert "[+]etcd ok" in verbose.text and "readyz check passed" in verbose.text
    assert (await client.get("/readyz/nope")).status_code == 404


async def test_root_lists_paths(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/")).json()["paths"]
    assert "/healthz" in paths and "/metrics" in paths


async def test_an_authorizer_can_refuse(api: API, metrics: Any) -> None:
    from apiserver.app import create_app
    from apiserver.health import Health
    from apiserver.requestinfo import RequestInfo
    from kube.errors import Forbidden

    from .conftest import HeaderAuthenticator

    class ReadOnly:
        async def authorize(self, *, user: Any, request: RequestInfo) -> None:
            if request.verb not in ("get", "list", "watch"):
                raise Forbidden.of(resource=request.resource, name=request.name, err=f'User "{user.name}" cannot {request.verb}')

    health = Health(storage=api.storage, caches_ready=lambda: True, shutting_down=lambda: False)
    app = create_app(api=api, metrics=metrics, health=health, authenticator=HeaderAuthenticator(),
                     authorizer=ReadOnly(), extra_routes=[])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers={"x-test-user": "bob"}) as c:
        assert (await c.get(PODS)).status_code == 200
        assert_status(await c.post(PODS, json=pod()), 403, "Forbidden", 'User "bob" cannot create')


async def test_subresource_and_virtual_resource_plugins(client: httpx.AsyncClient, api: API) -> None:
    from apiserver.registry import Reply, SubresourceRequest

    class Scale:
        """A toy ``deployments/scale``: reads and writes spec.replicas through the store."""

        verbs = frozenset({"get", "update"})

        async def __call__(self, request: SubresourceRequest) -> Reply:
            store = request.parent
            if request.verb == "get":
                obj = await store.get(request.ctx)
            else:
                replicas = request.object()["spec"]["replicas"]

                async def transform(current: dict[str, Any] | None) -> dict[str, Any]:
                    assert current is not None
                    return {**current, "spec": {**current["spec"], "replicas": replicas}}

                obj, _ = await store.guaranteed_update(request.ctx, transform)
            scale = {"kind": "Scale", "apiVersion": "autoscaling/v1", "spec": {"replicas": obj["spec"]["replicas"]}}
            return Reply(body=scale)

    class Bindings:
        verbs = frozenset({"create"})

        async def __call__(self, request: SubresourceRequest) -> Reply:
            assert request.store is None
            return Reply(body={"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}}, status=201)

    api.subresources.register(group="apps", resource="deployments", subresource="scale", handler=Scale())
    api.subresources.register(group="", resource="bindings", subresource="", handler=Bindings())
    deployment = {
        "metadata": {"name": "d"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}},
        },
    }
    base = "/apis/apps/v1/namespaces/default/deployments"
    assert (await client.post(base, json=deployment)).status_code == 201
    assert (await client.get(f"{base}/d/scale")).json()["spec"]["replicas"] == 1
    put = await client.put(f"{base}/d/scale", json={"spec": {"replicas": 3}})
    assert put.status_code == 200 and put.json()["spec"]["replicas"] == 3
    assert (await client.get(f"{base}/d")).json()["spec"]["replicas"] == 3
    assert_status(await client.patch(f"{base}/d/scale", json={}), 405, "MethodNotAllowed")
    bound = await client.post("/api/v1/namespaces/default/bindings", json={"metadata": {"name": "p"}})
    assert bound.status_code == 201


async def test_health_answers_as_the_routes_do(app: Any) -> None:
    """``KubeApp`` answers probes itself; what it sends must be what ``Health.routes``
    (which still serve anything else under those paths) would have sent."""
    routes = httpx.AsyncClient(transport=httpx.ASGITransport(app=app.inner), base_url="http://test")
    direct = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    async with routes, direct:
        for method, path in [
            ("GET", "/healthz"),
            ("HEAD", "/livez"),
            ("GET", "/readyz?verbose"),
            ("GET", "/readyz?verbose=1&x=y"),
            ("GET", "/readyz/etcd"),
            ("GET", "/livez/ping?verbose"),
            ("GET", "/readyz/nope"),
            ("POST", "/healthz"),
            ("GET", "/healthz/etcd/more"),
        ]:
            want, got = await routes.request(method, path), await direct.request(method, path)
            assert (got.status_code, got.content) == (want.status_code, want.content), (method, path)
            assert [h for h in got.headers.items() if h[0] != "date"] == [
                h for h in want.headers.items() if h[0] != "date"
            ], (method, path)
