"""The real server process over HTTPS with client certificates (httpx)."""

from __future__ import annotations

import signal
import ssl
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.support.apiserver import ApiserverProcess, start_apiserver

pytestmark = pytest.mark.e2e

PODS = "/api/v1/namespaces/default/pods"


def pod(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "e2e"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], "nodeName": "node-1"},
    }


def test_first_start_creates_pki_and_kubeconfig(apiserver: ApiserverProcess) -> None:
    for name in ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key"):
        assert (apiserver.pki / name).is_file()
    assert apiserver.kubeconfig.is_file()
    assert apiserver.kubeconfig.stat().st_mode & 0o077 == 0
    assert apiserver.url.startswith("https://127.0.0.1:")
    assert any("ready" in line and apiserver.url in line for line in apiserver.output)


def test_no_client_certificate_is_401(apiserver: ApiserverProcess) -> None:
    with apiserver.client(client_cert=False) as anonymous:
        resp = anonymous.get(PODS)
        assert resp.status_code == 401
        assert resp.json()["reason"] == "Unauthorized"
        assert anonymous.get("/readyz").text == "ok"


def test_certificate_from_another_ca_is_refused(apiserver: ApiserverProcess, tmp_path: Path) -> None:
    from kube import pki

    ca = pki.new_ca(common_name="stranger")
    pair = pki.issue_cert(ca=ca, common_name="mallory", organizations=["system:masters"], server=False, client=True)
    pki.save_pair(pair, tmp_path / "m.crt", tmp_path / "m.key")
    ctx = apiserver.ssl_context(client_cert=False)
    ctx.load_cert_chain(str(tmp_path / "m.crt"), str(tmp_path / "m.key"))
    with httpx.Client(base_url=apiserver.url, verify=ctx) as client, pytest.raises((httpx.HTTPError, ssl.SSLError)):
        client.get(PODS)


def test_bootstrap_objects_exist(apiserver: ApiserverProcess) -> None:
    with apiserver.client() as client:
        names = {i["metadata"]["name"] for i in client.get("/api/v1/namespaces").json()["items"]}
        assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
        pcs = client.get("/apis/scheduling.k8s.io/v1/priorityclasses").json()["items"]
        assert {p["metadata"]["name"]: p["value"] for p in pcs} == {
            "system-cluster-critical": 2000000000,
            "system-node-critical": 2000001000,
        }


def test_crud_and_errors_over_https(apiserver: ApiserverProcess) -> None:
    with apiserver.client() as client:
        created = client.post(PODS, json=pod("h1"))
        assert created.status_code == 201
        assert client.post(PODS, json=pod("h1")).json()["reason"] == "AlreadyExists"
        assert client.get(f"{PODS}/h1").json()["metadata"]["uid"] == created.json()["metadata"]["uid"]
        bad = client.post(PODS, content=b"{", headers={"content-type": "application/json"})
        assert bad.status_code == 400 and bad.json()["kind"] == "Status"
        # A pod on a node is deleted gracefully; grace 0 (what its kubelet sends) removes it.
        assert client.delete(f"{PODS}/h1?gracePeriodSeconds=0").status_code == 200
        assert client.get(f"{PODS}/h1").status_code == 404


def _stream_lines(resp: httpx.Response, *, count: int) -> list[dict]:
    events = []
    for line in resp.iter_lines():
        if line:
            events.append(orjson.loads(line))
        if len(events) >= count:
            break
    return events


def test_watch_is_a_chunked_json_stream(apiserver: ApiserverProcess) -> None:
    with apiserver.client() as client:
        rv = client.get(PODS).json()["metadata"]["resourceVersion"]
        with client.stream("GET", f"{PODS}?watch=true&resourceVersion={rv}&timeoutSeconds=10") as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"] == "application/json"
            assert resp.headers["transfer-encoding"] == "chunked"
            with apiserver.client() as writer:
                writer.post(PODS, json=pod("w1"))
                writer.patch(
                    f"{PODS}/w1",
                    content=b'{"metadata":{"labels":{"x":"y"}}}',
                    headers={"content-type": "application/merge-patch+json"},
                )
                writer.delete(f"{PODS}/w1?gracePeriodSeconds=0")
            events = _stream_lines(resp, count=3)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert all(e["object"]["metadata"]["name"] == "w1" for e in events)


def test_legacy_watch_path_and_field_selector(apiserver: ApiserverProcess) -> None:
    with apiserver.client() as client:
        client.post(PODS, json=pod("lw-a"))
        other = pod("lw-b")
        other["spec"]["nodeName"] = "node-2"
        client.post(PODS, json=other)
        with client.stream("GET", "/api/v1/watch/pods?fieldSelector=spec.nodeName%3Dnode-2&timeoutSeconds=5") as resp:
            events = _stream_lines(resp, count=1)
        assert [e["object"]["metadata"]["name"] for e in events] == ["lw-b"]
        with client.stream("GET", "/api/v1/watch/namespaces/default/pods/lw-a?timeoutSeconds=5") as resp:
            events = _stream_lines(resp, count=1)
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "lw-a")]


def test_watch_timeout_ends_the_stream(apiserver: ApiserverProcess) -> None:
    with apiserver.client() as client:
        rv = client.get(PODS).json()["metadata"]["resourceVersion"]
        started = time.monotonic()
        with client.stream("GET", f"{PODS}?watch=1&resourceVersion={rv}&timeoutSeconds=1") as resp:
            assert list(resp.iter_lines()) == []
        assert 0.9 <= time.monotonic() - started < 10


def test_bookmarks_are_sent_when_asked(apiserver: ApiserverProcess) -> None:
    with apiserver.client() as client:
        params = "watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        with client.stream("GET", f"{PODS}?{params}&timeoutSeconds=5") as resp:
            events = []
            for line in resp.iter_lines():
                if line:
                    events.append(orjson.loads(line))
                    if events[-1]["type"] == "BOOKMARK":
                        break
        assert events[-1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_metrics_are_exposed(apiserver: ApiserverProcess) -> None:
    with apiserver.client() as client:
        client.get(PODS)
        text = client.get("/metrics").text
        assert 'apiserver_request_total{code="200",resource="pods",verb="LIST"}' in text


def test_restart_keeps_data_and_old_revisions_expire(tmp_path: Path) -> None:
    """After a restart the watch cache's history begins at the current revision, so a
    watch from revision 1 is answered, as by Kubernetes, with HTTP 200 and one ERROR
    event carrying a 410 Expired Status."""
    data = tmp_path / "data"
    first = start_apiserver(data)
    try:
        with first.client() as client:
            client.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "kept"}})
    finally:
        assert first.stop() == 0
    second = start_apiserver(data)
    try:
        with second.client() as client:
            assert client.get("/api/v1/namespaces/default/configmaps/kept").status_code == 200
            with client.stream("GET", f"{PODS}?watch=1&resourceVersion=1") as resp:
                assert resp.status_code == 200
                events = [orjson.loads(line) for line in resp.iter_lines() if line]
        assert len(events) == 1 and events[0]["type"] == "ERROR"
        status = events[0]["object"]
        assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
        assert "too old resource version" in status["message"]
    finally:
        second.stop()


def test_sigterm_drains_and_closes_watches_cleanly(tmp_path: Path) -> None:
    server = start_apiserver(tmp_path / "data")
    outcome: dict[str, object] = {}

    def watch() -> None:
        try:
            with server.client(timeout=60) as client, client.stream("GET", f"{PODS}?watch=1") as resp:
                outcome["lines"] = list(resp.iter_lines())  # ends only when the server ends it
                outcome["clean"] = True
        except Exception as err:  # a reset connection instead of a final chunk
            outcome["error"] = err

    thread = threading.Thread(target=watch)
    thread.start()
    time.sleep(1.0)
    started = time.monotonic()
    code = server.stop(sig=signal.SIGTERM)
    thread.join(timeout=30)
    assert code == 0, server.log()
    assert time.monotonic() - started < 15
    assert outcome.get("clean") is True, outcome
    assert "Traceback" not in server.log()


def test_explicit_tls_files_override(tmp_path: Path) -> None:
    from kube import pki

    ca = pki.new_ca(common_name="my-ca")
    serving = pki.issue_cert(ca=ca, common_name="apiserver", dns_names=["localhost"], ip_addresses=["127.0.0.1"],
                             server=True, client=False)
    admin = pki.issue_cert(ca=ca, common_name="me", organizations=["system:masters"], server=False, client=True)
    pki.save_pair(ca, tmp_path / "ca.crt", tmp_path / "ca.key")
    pki.save_pair(serving, tmp_path / "s.crt", tmp_path / "s.key")
    pki.save_pair(admin, tmp_path / "me.crt", tmp_path / "me.key")
    server = start_apiserver(
        tmp_path / "data",
        "--tls-cert-file", str(tmp_path / "s.crt"),
        "--tls-private-key-file", str(tmp_path / "s.key"),
        "--client-ca-file", str(tmp_path / "ca.crt"),
    )  # fmt: skip
    try:
        ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        ctx.load_cert_chain(str(tmp_path / "me.crt"), str(tmp_path / "me.key"))
        with httpx.Client(base_url=server.url, verify=ctx) as client:
            assert client.get(PODS).status_code == 200
        assert not server.kubeconfig.exists()
    finally:
        server.stop()
