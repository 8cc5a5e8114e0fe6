"""Client mistakes always get a 4xx Status that names the problem — never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

PODS = "/api/v1/namespaces/default/pods"
CMS = "/api/v1/namespaces/default/configmaps"
JSON = {"content-type": "application/json"}
MERGE = {"content-type": "application/merge-patch+json"}
JSON_PATCH = {"content-type": "application/json-patch+json"}
SMP = {"content-type": "application/strategic-merge-patch+json"}
APPLY = {"content-type": "application/apply-patch+yaml"}

CASES: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("POST", PODS, b"[]", JSON),
    ("POST", PODS, b"null", JSON),
    ("POST", PODS, b'"pod"', JSON),
    ("POST", PODS, b'{"metadata": []}', JSON),
    ("POST", PODS, b'{"metadata": {"name": 5}}', JSON),
    ("POST", PODS, b'{"metadata": {"name": "x", "labels": "x"}}', JSON),
    ("POST", PODS, b'{"metadata": {"name": "x"}, "spec": 5}', JSON),
    ("POST", PODS, b'{"metadata": {"name": "x"}, "spec": {"containers": "c"}}', JSON),
    ("POST", PODS, b'{"metadata": {"name": "x", "finalizers": [1]}, "spec": {}}', JSON),
    ("POST", PODS, b'{"metadata": {"generateName": 7}}', JSON),
    ("POST", PODS, b'{"metadata": {"name": ".."}}', JSON),
    ("POST", PODS, b'{"kind": 3, "metadata": {"name": "x"}}', JSON),
    ("POST", PODS, b"\xff\xfe", JSON),
    ("POST", PODS, b"a: [", {"content-type": "application/yaml"}),
    ("POST", PODS, b"!!python/object:os.system x", {"content-type": "application/yaml"}),
    ("POST", CMS, b'{"metadata": {"name": "c"}, "data": {"a": 1}}', JSON),
    ("POST", CMS, b'{"metadata": {"name": "c", "namespace": 4}}', JSON),
    ("POST", CMS + "?fieldManager=%01", b'{"metadata": {"name": "c"}}', JSON),
    ("POST", CMS + "?dryRun=Yes", b'{"metadata": {"name": "c"}}', JSON),
    ("PUT", CMS + "/target", b'{"metadata": {"name": "target", "resourceVersion": "abc"}}', JSON),
    ("PUT", CMS + "/target", b'{"metadata": {"name": "target", "resourceVersion": 12}}', JSON),
    ("PUT", CMS + "/target", b'{"metadata": {"name": "target", "uid": 12}}', JSON),
    ("PATCH", CMS + "/target", b'[{"op": "explode", "path": "/x"}]', JSON_PATCH),
    ("PATCH", CMS + "/target", b'[{"op": "replace", "path": "/nope/deeper", "value": 1}]', JSON_PATCH),
    ("PATCH", CMS + "/target", b'[{"op": "test", "path": "/data", "value": {"x": "y"}}]', JSON_PATCH),
    ("PATCH", CMS + "/target", b'{"op": "add"}', JSON_PATCH),
    ("PATCH", CMS + "/target", b"[1, 2]", MERGE),
    ("PATCH", CMS + "/target", b'{"metadata": {"name": null}}', MERGE),
    ("PATCH", CMS + "/target", b'{"metadata": "gone"}', MERGE),
    ("PATCH", CMS + "/target", b'{"kind": "Pod"}', MERGE),
    ("PATCH", CMS + "/target", b'{"data": {"$patch": "explode"}}', SMP),
    ("PATCH", CMS + "/target", b'{"$setElementOrder/data": 5}', SMP),
    ("PATCH", CMS + "/target?fieldManager=me", b"kind: ConfigMap\n", APPLY),
    ("PATCH", CMS + "/target?fieldManager=me", b"- a\n- b\n", APPLY),
    ("PATCH", CMS + "/target?fieldManager=me", b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n", APPLY),
    ("PATCH", CMS + "/target", b"{}", {"content-type": "application/xml"}),
    ("DELETE", CMS + "/target", b"[1]", JSON),
    ("DELETE", CMS + "/target", b'{"gracePeriodSeconds": "x"}', JSON),
    ("DELETE", CMS + "/target", b'{"preconditions": "x"}', JSON),
    ("DELETE", CMS + "/target", b'{"dryRun": "All"}', JSON),
    ("DELETE", CMS + "?propagationPolicy=Sideways", b"", JSON),
    ("GET", PODS + "?limit=-1&continue=%%%", b"", {}),
    ("GET", PODS + "?continue=bm90LWEtdG9rZW4", b"", {}),
    ("GET", PODS + "?resourceVersion=abc", b"", {}),
    ("GET", PODS + "?resourceVersion=-4", b"", {}),
    ("GET", PODS + "?resourceVersion=abc&resourceVersionMatch=Exact", b"", {}),
    ("GET", PODS + "?resourceVersion=99999999999", b"", {}),
    ("GET", PODS + "?labelSelector=a%20in%20(", b"", {}),
    ("GET", PODS + "?labelSelector=%3D%3D%3D", b"", {}),
    ("GET", PODS + "?fieldSelector=metadata.name%3D%3D", b"", {}),
    ("GET", PODS + "?fieldSelector=spec.nodeName", b"", {}),
    ("GET", PODS + "?watch=1&resourceVersion=abc", b"", {}),
    ("GET", PODS + "?watch=1&timeoutSeconds=x", b"", {}),
    ("GET", PODS + "?includeObject=Everything", b"", {"accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}),
    ("GET", PODS, b"", {"accept": "text/html"}),
    ("GET", "/api/v1/namespaces/default/pods/%2F", b"", {}),
    ("GET", "/api/v1/namespaces//pods", b"", {}),
    ("GET", "/api/v1/watch", b"", {}),
    ("GET", "/apis", b"", {}),
    ("GET", "/apis/nope", b"", {}),
    ("GET", "/api/v1/namespaces/default/pods/x/status/extra/parts", b"", {}),
    ("POST", "/api/v1/namespaces/default/pods/x/status", b"{}", JSON),
    ("PUT", "/api/v1/namespaces/default/pods/missing/status", b'{"metadata": {"name": "missing"}}', JSON),
    ("PUT", "/api/v1/namespaces/target/finalize", b"{}", JSON),
    ("TRACE", PODS, b"", {}),
]


@pytest.mark.parametrize(("method", "url", "body", "headers"), CASES, ids=[f"{m} {u} {b[:30]!r}" for m, u, b, _ in CASES])
async def test_bad_input_is_a_4xx_status(
    client: httpx.AsyncClient, method: str, url: str, body: bytes, headers: dict[str, str]
) -> None:
    await client.post(CMS, json={"metadata": {"name": "target"}, "data": {"a": "b"}})
    before = (await client.get(f"{CMS}/target")).json()
    resp = await client.request(method, url, content=body, headers=headers)
    # 504 is Kubernetes' answer to a resourceVersion from the future ("retry after 1 s").
    assert 400 <= resp.status_code < 500 or resp.status_code in (200, 504), resp.text
    if resp.status_code != 200:
        status: dict[str, Any] = resp.json()
        assert status["kind"] == "Status" and status["code"] == resp.status_code and status["message"]
        # ...and changes nothing.
        assert (await client.get(f"{CMS}/target")).json() == before
