"""Node isolation over HTTPS, and credentials refused at the TLS handshake."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import httpx
import pytest

from kube import pki

from .conftest import Cluster, wait_until

pytestmark = pytest.mark.e2e

NS = "/api/v1/namespaces/default"


def pod(name: str, node: str, secret: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}],
                     "volumes": [{"name": "s", "secret": {"secretName": secret}}]}}


@pytest.fixture(scope="module", autouse=True)
def workloads(cluster: Cluster) -> None:
    with cluster.client("admin") as admin:
        for name in ("n1-secret", "n2-secret"):
            assert admin.post(f"{NS}/secrets", json={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                                                     "stringData": {"k": "v"}}).status_code == 201
        assert admin.post(f"{NS}/pods", json=pod("on-n1", "n1", "n1-secret")).status_code == 201
        assert admin.post(f"{NS}/pods", json=pod("on-n2", "n2", "n2-secret")).status_code == 201
        for node in ("n1", "n2"):
            body = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}
            assert admin.post("/api/v1/nodes", json=body).status_code == 201


def test_a_node_reads_its_own_pods_and_secrets_only(cluster: Cluster) -> None:
    with cluster.client("node-n1") as n1:
        wait_until(lambda: n1.get(f"{NS}/secrets/n1-secret").status_code == 200)
        assert n1.get(f"{NS}/pods/on-n1").status_code == 200
        assert n1.get(f"{NS}/secrets?fieldSelector=metadata.name%3Dn1-secret").status_code == 200
        r = n1.get(f"{NS}/secrets/n2-secret")
        assert r.status_code == 403
        assert r.json()["message"] == (
            'secrets "n2-secret" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" '
            "in the namespace \"default\": no relationship found between node 'n1' and this object")
        assert n1.get(f"{NS}/pods/on-n2").status_code == 403
        assert n1.get(f"{NS}/secrets").status_code == 403


def test_a_node_cannot_touch_other_nodes_or_bind(cluster: Cluster) -> None:
    merge = {"content-type": "application/merge-patch+json"}
    with cluster.client("node-n1") as n1:
        assert n1.patch("/api/v1/nodes/n1/status", content=b'{"status":{"phase":"Running"}}', headers=merge).status_code == 200
        r = n1.patch("/api/v1/nodes/n2", content=b'{"metadata":{"labels":{"x":"y"}}}', headers=merge)
        assert r.status_code == 403 and 'node "n1" is not allowed to modify node "n2"' in r.json()["message"]
        r = n1.patch("/api/v1/nodes/n2/status", content=b'{"status":{"phase":"Running"}}', headers=merge)
        assert r.status_code == 403
        r = n1.patch("/api/v1/nodes/n1", headers=merge,
                     content=b'{"metadata":{"labels":{"node-restriction.kubernetes.io/pci":"true"}}}')
        assert r.status_code == 403 and "node-restriction.kubernetes.io/pci" in r.json()["message"]
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "on-n2"},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}
        assert n1.post(f"{NS}/pods/on-n2/binding", json=binding).status_code == 403
        r = n1.patch(f"{NS}/pods/on-n2/status", content=b'{"status":{"phase":"Failed"}}', headers=merge)
        assert r.status_code == 403
        assert n1.delete(f"{NS}/pods/on-n2").status_code == 403
        assert n1.patch(f"{NS}/pods/on-n1/status", content=b'{"status":{"phase":"Running"}}',
                        headers=merge).status_code == 200
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "n1"},
                 "spec": {"holderIdentity": "n1"}}
        assert n1.post("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", json=lease).status_code == 201
        other = {**lease, "metadata": {"name": "n2"}}
        assert n1.post("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", json=other).status_code == 403
    with cluster.client("node-n2") as n2:
        wait_until(lambda: n2.get(f"{NS}/pods/on-n2").status_code == 200)


def _refused(cluster: Cluster, cert: Path, key: Path) -> bool:
    ctx = ssl.create_default_context(cafile=str(cluster.pki.ca_cert))
    ctx.load_cert_chain(str(cert), str(key))
    try:
        with httpx.Client(base_url=cluster.url, verify=ctx, timeout=10) as client:
            return client.get("/api/v1/namespaces").status_code == 401
    except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, ssl.SSLError):
        return True  # refused during the handshake


@pytest.mark.parametrize("kind", ["wrong-ca", "expired", "server-usage", "not-yet-valid"])
def test_bad_client_certificates_are_refused(cluster: Cluster, tmp_path: Path, kind: str) -> None:
    ca = pki.load_pair(cluster.pki.ca_cert, cluster.pki.apiserver.ca_key)
    now = dt.datetime.now(dt.UTC)
    if kind == "wrong-ca":
        pair = pki.issue_cert(ca=pki.new_ca(), common_name="kubernetes-admin", organizations=["system:masters"],
                              server=False, client=True)
    elif kind == "expired":
        pair = pki.issue_cert(ca=ca, common_name="kubernetes-admin", organizations=["system:masters"],
                              server=False, client=True, not_before=now - dt.timedelta(days=10), days=1)
    elif kind == "not-yet-valid":
        pair = pki.issue_cert(ca=ca, common_name="kubernetes-admin", organizations=["system:masters"],
                              server=False, client=True, not_before=now + dt.timedelta(days=1), days=10)
    else:
        pair = pki.issue_cert(ca=ca, common_name="kubernetes-admin", organizations=["system:masters"],
                              server=True, client=False)
    cert, key = tmp_path / "c.crt", tmp_path / "c.key"
    pki.save_pair(pair, cert, key)
    assert _refused(cluster, cert, key)
    with cluster.client("admin") as admin:
        assert admin.get("/api/v1/namespaces").status_code == 200  # still serving
