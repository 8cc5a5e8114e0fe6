"""A real API server over HTTPS, with a PKI made beforehand as ``pyctl pki init`` makes it,
and a client per bootstrap identity: admin, scheduler, controller manager, two nodes, a
service account (bearer token), a static-token user and anonymous.

One server per test module (starting one takes a second or two); tests create what
they need under their own names so they do not depend on each other's order.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from kube import clusterpki
from kube.kubeconfig import write_kubeconfig
from tests.support.apiserver import ApiserverProcess, start_apiserver

NODES = ("n1", "n2")
STATIC_TOKEN = "s3cr3t-static-token"


@dataclass
class Cluster:
    server: ApiserverProcess
    pki: clusterpki.ClusterPki
    tmp: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def context(self, identity: str | None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        if identity is not None:
            found = next(i for i in self.pki.clients if i.name == identity)
            ctx.load_cert_chain(str(found.cert), str(found.key))
        return ctx

    def client(self, identity: str | None = None, *, token: str | None = None, timeout: float = 30.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, verify=self.context(identity), headers=headers, timeout=timeout)

    def kubeconfig(self, name: str, *, identity: str | None = None, token: str | None = None) -> Path:
        """A kubeconfig for kubectl: a client certificate, a token, or nothing (anonymous)."""
        path = self.tmp / "kubeconfigs" / f"{name}.kubeconfig"
        cert = key = None
        if identity is not None:
            found = next(i for i in self.pki.clients if i.name == identity)
            cert, key = found.cert.read_bytes(), found.key.read_bytes()
        write_kubeconfig(path, server=self.url, ca_cert_pem=self.pki.ca_cert.read_bytes(), client_cert_pem=cert,
                         client_key_pem=key, token=token, user=name)
        return path


def start_cluster(tmp: Path, *extra: str) -> Cluster:
    data = tmp / "data"
    cluster_pki = clusterpki.ensure_cluster_pki(data / "pki", nodes=NODES)
    (tmp / "tokens.csv").write_text(f'{STATIC_TOKEN},static-user,42,"static-group"\n')
    server = start_apiserver(data, "--anonymous-auth", "--token-auth-file", str(tmp / "tokens.csv"),
                             "--audit-log-path", str(tmp / "audit.log"), *extra)
    cluster = Cluster(server=server, pki=cluster_pki, tmp=tmp)
    with cluster.client("admin") as admin:
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}}
        assert admin.post("/api/v1/namespaces/default/serviceaccounts", json=body).status_code == 201
        r = admin.post("/api/v1/namespaces/default/serviceaccounts/robot/token",
                       json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
        assert r.status_code == 201, r.text
        cluster.tokens["robot"] = r.json()["status"]["token"]
    return cluster


def wait_until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    made = start_cluster(tmp_path_factory.mktemp("secure"))
    try:
        yield made
    finally:
        made.server.stop()
