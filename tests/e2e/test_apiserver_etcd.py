"""The server on a real etcd (``--etcd-servers``): the same API, another store."""

from __future__ import annotations

import orjson
import pytest

from tests.support.apiserver import ApiserverProcess

pytestmark = [pytest.mark.e2e, pytest.mark.etcd]

PODS = "/api/v1/namespaces/default/pods"


def test_crud_list_and_watch_on_etcd(etcd_apiserver: ApiserverProcess) -> None:
    with etcd_apiserver.client() as client:
        names = {i["metadata"]["name"] for i in client.get("/api/v1/namespaces").json()["items"]}
        assert "default" in names
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "on-etcd"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        }
        client.delete(f"{PODS}/on-etcd")  # the test etcd may outlive an earlier run's server
        rv = client.get(PODS).json()["metadata"]["resourceVersion"]
        with client.stream("GET", f"{PODS}?watch=1&resourceVersion={rv}&timeoutSeconds=10") as resp:
            created = client.post(PODS, json=body)
            assert created.status_code == 201, created.text
            stale = created.json()
            client.patch(
                f"{PODS}/on-etcd",
                content=b'{"metadata":{"labels":{"a":"b"}}}',
                headers={"content-type": "application/merge-patch+json"},
            )
            stale["metadata"]["labels"] = {"c": "d"}
            assert client.put(f"{PODS}/on-etcd", json=stale).status_code == 409
            assert client.delete(f"{PODS}/on-etcd").status_code == 200
            events = []
            for line in resp.iter_lines():
                if line:
                    events.append(orjson.loads(line)["type"])
                if len(events) == 3:
                    break
        assert events == ["ADDED", "MODIFIED", "DELETED"]
        page = client.get(f"{PODS}?limit=1").json()
        assert page["kind"] == "PodList"
