"""Authorization, escalation prevention, reviews and impersonation through the ASGI app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from .conftest import Env

RBAC = "rbac.authorization.k8s.io"
Client = Callable[..., httpx.AsyncClient]
PODS = "/api/v1/namespaces/default/pods"


def binding(name: str, *, role_kind: str, role: str, subject: str, kind: str = "RoleBinding") -> dict[str, Any]:
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
            "subjects": [{"kind": "User", "name": subject}]}


async def grant(admin: httpx.AsyncClient, env: Env, body: dict[str, Any], *, namespace: str = "default") -> None:
    path = (f"/apis/{RBAC}/v1/namespaces/{namespace}/rolebindings" if body["kind"] == "RoleBinding"
            else f"/apis/{RBAC}/v1/clusterrolebindings")
    response = await admin.post(path, json=body)
    assert response.status_code == 201, response.text
    await env.settle()


async def test_denials_are_worded_as_kubernetes(as_user: Client) -> None:
    async with as_user("bob") as bob:
        r = await bob.get(f"{PODS}/x")
        assert r.status_code == 403
        assert r.json()["message"] == ('pods "x" is forbidden: User "bob" cannot get resource "pods" in API group "" '
                                       'in the namespace "default"')
        assert r.json()["details"] == {"name": "x", "kind": "pods"}
        r = await bob.get("/apis/apps/v1/deployments")
        assert r.json()["message"] == ('deployments.apps is forbidden: User "bob" cannot list resource "deployments" in '
                                       'API group "apps" at the cluster scope')
        r = await bob.get(f"{PODS}/x/log")
        assert 'cannot get resource "pods/log"' in r.json()["message"]
        r = await bob.get("/metrics")
        assert r.status_code == 403
        assert r.json()["message"] == 'forbidden: User "bob" cannot get path "/metrics"'
        # Discovery and health are every authenticated user's.
        assert (await bob.get("/healthz")).status_code == 200
        assert (await bob.get("/version")).status_code != 403
    async with as_user("nobody") as anonymous_like:
        assert (await anonymous_like.get("/api")).status_code != 403


async def test_unauthenticated_is_401(app: Any) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        r = await client.get("/api/v1/namespaces")
        assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"
        assert (await client.get("/healthz")).status_code == 200


async def test_privilege_escalation_through_a_binding_is_refused(as_user: Client, env: Env) -> None:
    async with as_user("admin", "system:masters") as admin, as_user("bob") as bob:
        # bob administers namespace default (admin role: may manage rolebindings there).
        await grant(admin, env, binding("bob-admin", role_kind="ClusterRole", role="admin", subject="bob"))
        r = await bob.post(f"/apis/{RBAC}/v1/namespaces/default/rolebindings",
                           json=binding("steal", role_kind="ClusterRole", role="cluster-admin", subject="bob"))
        assert r.status_code == 403, r.text
        message = r.json()["message"]
        assert message.startswith('rolebindings.rbac.authorization.k8s.io "steal" is forbidden: user "bob" '
                                  '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
                                  'currently held:')
        # He may hand out what he holds.
        r = await bob.post(f"/apis/{RBAC}/v1/namespaces/default/rolebindings",
                           json=binding("carol-view", role_kind="ClusterRole", role="view", subject="carol"))
        assert r.status_code == 201, r.text
        # A role with rules he lacks: refused; with rules he holds: fine.
        role = {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "nodes"},
                "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}]}
        r = await bob.post(f"/apis/{RBAC}/v1/namespaces/default/roles", json=role)
        assert r.status_code == 403 and "not currently held" in r.json()["message"]
        role["rules"] = [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]
        assert (await bob.post(f"/apis/{RBAC}/v1/namespaces/default/roles", json=role)).status_code == 201
        # With `bind` on cluster-admin he may bind it after all.
        bind = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "bind-cluster-admin"},
                "rules": [{"verbs": ["bind"], "apiGroups": [RBAC], "resources": ["clusterroles"],
                           "resourceNames": ["cluster-admin"]}]}
        assert (await admin.post(f"/apis/{RBAC}/v1/clusterroles", json=bind)).status_code == 201
        await grant(admin, env, binding("bob-bind", role_kind="ClusterRole", role="bind-cluster-admin", subject="bob"))
        r = await bob.post(f"/apis/{RBAC}/v1/namespaces/default/rolebindings",
                           json=binding("steal", role_kind="ClusterRole", role="cluster-admin", subject="bob"))
        assert r.status_code == 201, r.text


async def test_binding_to_a_missing_role_is_a_bad_request(as_user: Client, env: Env) -> None:
    async with as_user("admin", "system:masters") as admin, as_user("bob") as bob:
        await grant(admin, env, binding("bob-admin", role_kind="ClusterRole", role="admin", subject="bob"))
        r = await bob.post(f"/apis/{RBAC}/v1/namespaces/default/rolebindings",
                           json=binding("x", role_kind="Role", role="ghost", subject="bob"))
        assert r.status_code == 400 and r.json()["message"] == f'role.{RBAC} "ghost" not found'


def ssar(verb: str, resource: str, namespace: str = "default", **extra: str) -> dict[str, Any]:
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": verb, "resource": resource, "namespace": namespace, **extra}}}


async def test_access_reviews(as_user: Client, env: Env) -> None:
    async with as_user("admin", "system:masters") as admin, as_user("bob") as bob:
        await grant(admin, env, binding("bob-view", role_kind="ClusterRole", role="view", subject="bob"))
        path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
        r = await bob.post(path, json=ssar("list", "pods"))
        assert r.status_code == 201 and r.json()["status"]["allowed"] is True
        assert (await bob.post(path, json=ssar("delete", "pods"))).json()["status"] == {"allowed": False}
        r = await bob.post(path, json={"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                       "spec": {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}})
        assert r.json()["status"]["allowed"] is True
        r = await bob.post(path, json={"kind": "SelfSubjectAccessReview", "spec": {}})
        assert r.status_code == 422
        # A SubjectAccessReview is asked about someone else, by someone allowed to ask.
        sar = {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "spec": {"user": "bob", "resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "default"}}}
        r = await admin.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=sar)
        assert r.status_code == 201 and r.json()["status"]["allowed"] is True
        assert r.json()["status"]["reason"] == 'RBAC: allowed by RoleBinding "bob-view/default" of ClusterRole "view" to User "bob"'
        assert (await bob.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=sar)).status_code == 403
        lsar = {**sar, "kind": "LocalSubjectAccessReview"}
        r = await admin.post("/apis/authorization.k8s.io/v1/namespaces/kube-system/localsubjectaccessreviews", json=lsar)
        assert r.status_code == 400
        del lsar["spec"]["resourceAttributes"]["namespace"]
        r = await admin.post("/apis/authorization.k8s.io/v1/namespaces/kube-system/localsubjectaccessreviews", json=lsar)
        assert r.json()["status"]["allowed"] is False
        rules = await bob.post("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                               json={"kind": "SelfSubjectRulesReview", "spec": {"namespace": "default"}})
        status = rules.json()["status"]
        assert {"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["namespaces"]} in status["resourceRules"]
        assert {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]} \
            in status["nonResourceRules"]
        assert status["incomplete"] is False


async def test_impersonation_needs_the_impersonate_verb(as_user: Client, env: Env) -> None:
    async with as_user("admin", "system:masters") as admin, as_user("bob") as bob:
        r = await admin.get(f"{PODS}", headers={"Impersonate-User": "bob"})
        assert r.status_code == 403 and 'User "bob" cannot list resource "pods"' in r.json()["message"]
        r = await admin.get(f"{PODS}", headers={"Impersonate-User": "bob", "Impersonate-Group": "system:masters"})
        assert r.status_code == 200
        r = await bob.get(f"{PODS}", headers={"Impersonate-User": "admin"})
        assert r.status_code == 403
        assert r.json()["message"] == ('users "admin" is forbidden: User "bob" cannot impersonate resource "users" in '
                                       'API group "" at the cluster scope')
        r = await admin.get(PODS, headers={"Impersonate-Group": "x"})
        assert r.status_code == 400
