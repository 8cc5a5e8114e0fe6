"""The RBAC authorizer over the watch caches, the bootstrap policy and aggregation."""

from __future__ import annotations

from typing import Any

from apiserver.authz.attributes import Attributes
from apiserver.authz.bootstrap import reconcile_policy
from apiserver.authz.chain import Decision
from apiserver.authz.rbac import RBACAuthorizer

from .conftest import Env, user

RBAC = "rbac.authorization.k8s.io"


def res(u: Any, verb: str, resource: str, *, ns: str = "default", group: str = "", name: str = "",
        sub: str = "") -> Attributes:
    return Attributes(user=u, verb=verb, resource_request=True, namespace=ns, api_group=group,
                      resource=resource, name=name, subresource=sub)


def role(name: str, rules: list[dict[str, Any]], *, kind: str = "Role", labels: dict[str, str] | None = None) -> dict:
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": meta, "rules": rules}


def binding(name: str, *, role_kind: str, role_name: str, subjects: list[dict[str, Any]],
            kind: str = "RoleBinding") -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role_name}, "subjects": subjects}


def rbac_of(env: Env) -> RBACAuthorizer:
    assert env.security.rbac is not None
    return env.security.rbac


async def test_role_binding_grants_in_its_namespace_only(env: Env) -> None:
    await env.create("roles", role("reader", [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]),
                     group=RBAC)
    await env.create("rolebindings", binding("r", role_kind="Role", role_name="reader",
                                             subjects=[{"kind": "User", "name": "bob"}]), group=RBAC)
    await env.settle()
    rbac, bob = rbac_of(env), user("bob")
    assert rbac.decide(res(bob, "list", "pods"))[0] is Decision.ALLOW
    assert rbac.decide(res(bob, "delete", "pods", name="x"))[0] is Decision.NO_OPINION
    assert rbac.decide(res(bob, "list", "pods", ns="kube-system"))[0] is Decision.NO_OPINION
    assert rbac.decide(res(bob, "list", "pods", ns=""))[0] is Decision.NO_OPINION
    assert rbac.decide(res(user("alice"), "list", "pods"))[0] is Decision.NO_OPINION
    _, reason = rbac.decide(res(bob, "get", "pods", name="p"))
    assert reason == 'RBAC: allowed by RoleBinding "r/default" of Role "reader" to User "bob"'


async def test_groups_service_accounts_and_cluster_roles_in_role_bindings(env: Env) -> None:
    await env.create("rolebindings", binding("view-sa", role_kind="ClusterRole", role_name="view",
                                             subjects=[{"kind": "ServiceAccount", "name": "robot"}]), group=RBAC)
    await env.create("clusterrolebindings", binding("devs", role_kind="ClusterRole", role_name="edit", kind="ClusterRoleBinding",
                                                    subjects=[{"kind": "Group", "name": "devs"}]), group=RBAC)
    await env.settle()
    rbac = rbac_of(env)
    robot = user("system:serviceaccount:default:robot", "system:serviceaccounts")
    assert rbac.decide(res(robot, "get", "configmaps", name="c"))[0] is Decision.ALLOW
    assert rbac.decide(res(robot, "get", "secrets", name="s"))[0] is Decision.NO_OPINION  # view excludes secrets
    assert rbac.decide(res(robot, "get", "configmaps", ns="other"))[0] is Decision.NO_OPINION
    dev = user("carol", "devs")
    assert rbac.decide(res(dev, "create", "deployments", group="apps", ns="anywhere"))[0] is Decision.ALLOW
    assert rbac.decide(res(dev, "create", "roles", group=RBAC))[0] is Decision.NO_OPINION  # edit, not admin


async def test_a_missing_role_grants_nothing_and_says_so(env: Env) -> None:
    await env.create("rolebindings", binding("dangling", role_kind="Role", role_name="ghost",
                                             subjects=[{"kind": "User", "name": "bob"}]), group=RBAC)
    await env.settle()
    decision, reason = rbac_of(env).decide(res(user("bob"), "get", "pods", name="p"))
    assert decision is Decision.NO_OPINION
    assert reason == f'RBAC: role.{RBAC} "ghost" not found'


async def test_changes_are_seen_on_the_next_decision(env: Env) -> None:
    rbac, bob = rbac_of(env), user("bob")
    attrs = res(bob, "get", "nodes", ns="", name="n1")
    assert rbac.decide(attrs)[0] is Decision.NO_OPINION
    await env.create("clusterrolebindings", binding("nodes", kind="ClusterRoleBinding", role_kind="ClusterRole",
                                                    role_name="system:node", subjects=[{"kind": "User", "name": "bob"}]),
                     group=RBAC)
    await env.settle()
    assert rbac.decide(attrs)[0] is Decision.ALLOW
    store = env.store("clusterrolebindings", RBAC)
    from apiserver.registry import DeleteOptions

    await store.delete(env.ctx("clusterrolebindings", group=RBAC, name="nodes"), options=DeleteOptions())
    await env.settle()
    assert rbac.decide(attrs)[0] is Decision.NO_OPINION


async def test_bootstrap_policy_and_aggregation(env: Env) -> None:
    items = {o["metadata"]["name"]: o for o in (await env.store("clusterroles", RBAC).storage.list(
        env.store("clusterroles", RBAC).prefix())).items}
    for name in ("cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
                 "system:public-info-viewer", "system:kube-scheduler", "system:kube-controller-manager",
                 "system:node", "system:controller:deployment-controller"):
        assert name in items, name
    view_rules = items["view"]["rules"]
    assert {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]} in view_rules
    # edit aggregates view's rules too (view is labelled aggregate-to-edit), admin aggregates edit's.
    assert all(rule in items["edit"]["rules"] for rule in view_rules)
    assert all(rule in items["admin"]["rules"] for rule in items["edit"]["rules"])
    bindings = {o["metadata"]["name"]: o for o in (await env.store("clusterrolebindings", RBAC).storage.list(
        env.store("clusterrolebindings", RBAC).prefix())).items}
    assert bindings["cluster-admin"]["subjects"] == [{"apiGroup": RBAC, "kind": "Group", "name": "system:masters"}]
    assert bindings["system:node"].get("subjects") in (None, [])
    # Reconciling again changes nothing.
    assert await reconcile_policy(env.api) == []


async def test_a_new_labelled_role_joins_the_aggregate(env: Env) -> None:
    await env.create("clusterroles", role("crontabs-edit", [
        {"verbs": ["get", "create"], "apiGroups": ["stable.example.com"], "resources": ["crontabs"]}],
        kind="ClusterRole", labels={"rbac.authorization.k8s.io/aggregate-to-edit": "true"}), group=RBAC)
    await env.security._background[0].converge()
    store = env.store("clusterroles", RBAC)
    for name in ("edit", "admin"):
        rules = (await store.get(env.ctx("clusterroles", group=RBAC, name=name)))["rules"]
        assert {"verbs": ["get", "create"], "apiGroups": ["stable.example.com"], "resources": ["crontabs"]} in rules
    view = (await store.get(env.ctx("clusterroles", group=RBAC, name="view")))["rules"]
    assert all(r.get("apiGroups") != ["stable.example.com"] for r in view)


async def test_reconcile_adds_missing_rules_and_keeps_extra_ones(env: Env) -> None:
    store = env.store("clusterroles", RBAC)
    ctx = env.ctx("clusterroles", group=RBAC, name="system:kube-scheduler")

    async def strip(current: dict[str, Any] | None) -> dict[str, Any]:
        assert current is not None
        extra = {"verbs": ["get"], "apiGroups": ["example.com"], "resources": ["widgets"]}
        return {**current, "rules": [current["rules"][0], extra]}

    await store.guaranteed_update(ctx, strip)
    done = await reconcile_policy(env.api)
    assert "reconciled clusterroles/system:kube-scheduler" in done
    rules = (await store.get(ctx))["rules"]
    assert {"verbs": ["get"], "apiGroups": ["example.com"], "resources": ["widgets"]} in rules
    assert {"apiGroups": [""], "resources": ["bindings", "pods/binding"], "verbs": ["create"]} in rules
