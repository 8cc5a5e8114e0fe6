"""What each bootstrap identity may and may not do, over HTTPS with real credentials."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.apiserver import start_apiserver

from .conftest import STATIC_TOKEN, Cluster, wait_until

pytestmark = pytest.mark.e2e

NS = "/api/v1/namespaces/default"
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "table-pod"},
       "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
BINDING = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "table-pod"},
           "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}
LEASE = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "kube-scheduler"}}

# (identity, method, path, body, allowed). "Allowed" means not 401/403: the request was
# let through (it may still be a 404 or 409 for reasons of its own).
TABLE: list[tuple[str, str, str, Any, bool]] = [
    # The admin (system:masters) may do anything.
    ("admin", "GET", f"{NS}/secrets", None, True),
    ("admin", "GET", "/metrics", None, True),
    ("admin", "DELETE", "/api/v1/nodes/nonexistent", None, True),
    # The scheduler: read pods and nodes, bind, write pod status and events, its own lease.
    ("kube-scheduler", "GET", "/api/v1/pods", None, True),
    ("kube-scheduler", "GET", "/api/v1/nodes", None, True),
    ("kube-scheduler", "POST", f"{NS}/pods/table-pod/binding", BINDING, True),
    ("kube-scheduler", "POST", f"{NS}/events", {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
                                              "involvedObject": {"kind": "Pod", "name": "x"}}, True),
    ("kube-scheduler", "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", LEASE, True),
    ("kube-scheduler", "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler", None, True),
    ("kube-scheduler", "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/other", None, False),
    ("kube-scheduler", "GET", f"{NS}/secrets", None, False),
    ("kube-scheduler", "POST", f"{NS}/pods", POD, False),
    ("kube-scheduler", "DELETE", "/api/v1/nodes/n1", None, False),
    ("kube-scheduler", "GET", "/metrics", None, False),
    # The controller manager: list/watch everything, tokens for its controllers; no direct writes.
    ("kube-controller-manager", "GET", "/apis/apps/v1/deployments", None, True),
    ("kube-controller-manager", "GET", "/api/v1/secrets", None, True),
    ("kube-controller-manager", "POST", f"{NS}/serviceaccounts/robot/token", {"kind": "TokenRequest", "spec": {}}, True),
    ("kube-controller-manager", "GET", f"{NS}/pods/table-pod", None, False),
    ("kube-controller-manager", "POST", f"{NS}/pods", POD, False),
    ("kube-controller-manager", "DELETE", f"{NS}/pods/table-pod", None, False),
    # A node: nodes and its own objects only (more in test_node_isolation).
    ("node-n1", "GET", "/api/v1/nodes", None, True),
    ("node-n1", "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1", None, True),
    ("node-n1", "GET", "/api/v1/pods", None, False),
    ("node-n1", "GET", f"{NS}/configmaps", None, False),
    ("node-n1", "POST", f"{NS}/pods/table-pod/binding", BINDING, False),
    ("node-n1", "DELETE", "/api/v1/nodes/n1", None, False),
    ("node-n1", "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", None, False),
    # A service account without bindings: discovery and self reviews only.
    ("robot", "GET", "/api", None, True),
    ("robot", "GET", "/apis", None, True),
    ("robot", "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
     {"kind": "SelfSubjectAccessReview", "spec": {"nonResourceAttributes": {"path": "/api", "verb": "get"}}}, True),
    ("robot", "GET", f"{NS}/pods", None, False),
    ("robot", "GET", f"{NS}/serviceaccounts/robot", None, False),
    ("robot", "GET", "/metrics", None, False),
    # A static-token user: the same as any authenticated user.
    ("static", "GET", "/version", None, True),
    ("static", "GET", f"{NS}/pods", None, False),
    # Anonymous (--anonymous-auth): only public information.
    ("anonymous", "GET", "/version", None, True),
    ("anonymous", "GET", "/healthz", None, True),
    ("anonymous", "GET", "/api", None, False),
    ("anonymous", "GET", f"{NS}/pods", None, False),
    ("anonymous", "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
     {"kind": "SelfSubjectAccessReview", "spec": {"nonResourceAttributes": {"path": "/api", "verb": "get"}}}, False),
]


def client_for(cluster: Cluster, identity: str) -> httpx.Client:
    if identity == "robot":
        return cluster.client(token=cluster.tokens["robot"])
    if identity == "static":
        return cluster.client(token=STATIC_TOKEN)
    if identity == "anonymous":
        return cluster.client()
    return cluster.client(identity)


@pytest.fixture(scope="module", autouse=True)
def table_pod(cluster: Cluster) -> None:
    with cluster.client("admin") as admin:
        assert admin.post(f"{NS}/pods", json=POD).status_code == 201


@pytest.mark.parametrize(("identity", "method", "path", "body", "allowed"), TABLE,
                         ids=[f"{t[0]}-{t[1]}-{t[2]}" for t in TABLE])
def test_identity_table(cluster: Cluster, identity: str, method: str, path: str, body: Any, allowed: bool) -> None:
    with client_for(cluster, identity) as client:
        response = client.request(method, path, json=body)
    assert response.status_code != 401, response.text
    if allowed:
        assert response.status_code != 403, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["reason"] == "Forbidden"


def test_denials_name_the_user_as_kubernetes_does(cluster: Cluster) -> None:
    with cluster.client(token=cluster.tokens["robot"]) as robot:
        message = robot.get(f"{NS}/pods/x").json()["message"]
    assert message == ('pods "x" is forbidden: User "system:serviceaccount:default:robot" cannot get resource "pods" '
                       'in API group "" in the namespace "default"')


def test_no_credentials_without_anonymous_is_401(tmp_path: Path) -> None:
    server = start_apiserver(tmp_path / "data")  # anonymous authentication is off by default
    try:
        ctx = ssl.create_default_context(cafile=str(server.pki / "ca.crt"))
        with httpx.Client(base_url=server.url, verify=ctx) as bare:
            r = bare.get("/api")
            assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"
            assert bare.get("/healthz").status_code == 200
    finally:
        server.stop()


def test_deleted_service_account_token_is_401(cluster: Cluster) -> None:
    with cluster.client("admin") as admin:
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "doomed"}}
        assert admin.post(f"{NS}/serviceaccounts", json=body).status_code == 201
        token = admin.post(f"{NS}/serviceaccounts/doomed/token", json={"kind": "TokenRequest", "spec": {}}).json()
        token = token["status"]["token"]
        with cluster.client(token=token) as doomed:
            assert doomed.get("/api").status_code == 200
            assert admin.delete(f"{NS}/serviceaccounts/doomed").status_code == 200
            wait_until(lambda: doomed.get("/api").status_code == 401)


def test_privilege_escalation_through_a_role_binding_is_refused(cluster: Cluster) -> None:
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    with cluster.client("admin") as admin:
        body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "static-admin"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                "subjects": [{"kind": "User", "name": "static-user"}]}
        assert admin.post(f"{rbac}/namespaces/default/rolebindings", json=body).status_code == 201
    steal = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "steal"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
             "subjects": [{"kind": "User", "name": "static-user"}]}
    with cluster.client(token=STATIC_TOKEN) as static:
        wait_until(lambda: static.get(f"{NS}/pods").status_code == 200)
        r = static.post(f"{rbac}/namespaces/default/rolebindings", json=steal)
        assert r.status_code == 403
        assert "is attempting to grant RBAC permissions not currently held" in r.json()["message"]
        escalate = {**steal, "kind": "ClusterRoleBinding"}
        assert static.post(f"{rbac}/clusterrolebindings", json=escalate).status_code == 403
        assert static.get("/api/v1/nodes").status_code == 403
