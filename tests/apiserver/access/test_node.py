"""The Node authorizer (graph from the pods cache) and NodeRestriction admission."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from apiserver.authz.attributes import Attributes
from apiserver.authz.chain import Decision
from apiserver.authz.graph import NodeGraph, references
from apiserver.authz.node import NodeAuthorizer
from kube.errors import Forbidden

from .conftest import Env, user

N1 = user("system:node:n1", "system:nodes")


def attrs(u: Any, verb: str, resource: str, *, ns: str = "default", name: str = "", group: str = "", sub: str = "",
          field_selector: str = "") -> Attributes:
    return Attributes(user=u, verb=verb, resource_request=True, namespace=ns, name=name, api_group=group,
                      resource=resource, subresource=sub, field_selector=field_selector)


def pod(name: str, node: str | None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}], **spec}
    if node:
        body["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


def test_references_cover_every_place_a_pod_names_an_object() -> None:
    refs = references({
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {
            "serviceAccountName": "sa",
            "imagePullSecrets": [{"name": "pull"}],
            "volumes": [
                {"name": "a", "secret": {"secretName": "vol-secret"}},
                {"name": "b", "configMap": {"name": "vol-cm"}},
                {"name": "c", "persistentVolumeClaim": {"claimName": "claim"}},
                {"name": "d", "projected": {"sources": [{"secret": {"name": "proj-s"}}, {"configMap": {"name": "proj-c"}}]}},
                {"name": "e", "csi": {"driver": "x", "nodePublishSecretRef": {"name": "csi-s"}}},
                {"name": "f", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
            ],
            "initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "init-s"}}]}],
            "containers": [{"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "env-cm", "key": "k"}}}],
                            "envFrom": [{"configMapRef": {"name": "from-cm"}}]}],
        },
    })
    assert refs == {
        ("serviceaccount", "ns", "sa"), ("secret", "ns", "pull"), ("secret", "ns", "vol-secret"),
        ("configmap", "ns", "vol-cm"), ("pvc", "ns", "claim"), ("secret", "ns", "proj-s"), ("configmap", "ns", "proj-c"),
        ("secret", "ns", "csi-s"), ("pvc", "ns", "p-f"), ("secret", "ns", "init-s"), ("configmap", "ns", "env-cm"),
        ("configmap", "ns", "from-cm"),
    }


def test_graph_counts_references_per_node() -> None:
    graph = NodeGraph()
    graph.set_pod({"metadata": {"name": "a", "namespace": "d"}, "spec": {"nodeName": "n1", "volumes": [{"name": "v", "secret": {"secretName": "s"}}]}})
    graph.set_pod({"metadata": {"name": "b", "namespace": "d"}, "spec": {"nodeName": "n1", "volumes": [{"name": "v", "secret": {"secretName": "s"}}]}})
    assert graph.has_path(node="n1", kind="secret", namespace="d", name="s")
    graph.delete_pod("d", "a")
    assert graph.has_path(node="n1", kind="secret", namespace="d", name="s")
    # Rescheduled elsewhere: the old node loses the path at once.
    graph.set_pod({"metadata": {"name": "b", "namespace": "d"}, "spec": {"nodeName": "n2", "volumes": [{"name": "v", "secret": {"secretName": "s"}}]}})
    assert not graph.has_path(node="n1", kind="secret", namespace="d", name="s")
    assert graph.has_path(node="n2", kind="secret", namespace="d", name="s")
    assert graph.pod_node("d", "b") == "n2"


async def _wait_for(predicate: Any) -> None:
    for _ in range(300):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_node_reads_only_what_its_pods_reference(env: Env) -> None:
    for name in ("mine", "theirs"):
        await env.create("secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}})
    await env.create("pods", pod("p1", "n1", volumes=[{"name": "v", "secret": {"secretName": "mine"}}]))
    await env.create("pods", pod("p2", "n2", volumes=[{"name": "v", "secret": {"secretName": "theirs"}}]))
    authorizer = NodeAuthorizer(env.security.graph)
    await _wait_for(lambda: env.security.graph.pod_node("default", "p2") == "n2")
    assert authorizer.decide(attrs(N1, "get", "secrets", name="mine"))[0] is Decision.ALLOW
    assert authorizer.decide(attrs(N1, "watch", "secrets", name="mine"))[0] is Decision.ALLOW
    decision, reason = authorizer.decide(attrs(N1, "get", "secrets", name="theirs"))
    assert decision is Decision.NO_OPINION and reason == "no relationship found between node 'n1' and this object"
    assert authorizer.decide(attrs(N1, "list", "secrets"))[0] is Decision.NO_OPINION
    assert authorizer.decide(attrs(N1, "update", "secrets", name="mine"))[1] == "can only read resources of this type"
    assert authorizer.decide(attrs(N1, "get", "serviceaccounts", name="default"))[0] is Decision.ALLOW
    assert authorizer.decide(attrs(N1, "create", "serviceaccounts", name="default", sub="token"))[0] is Decision.ALLOW
    # Pods: its own by name, lists only narrowed to itself.
    assert authorizer.decide(attrs(N1, "get", "pods", name="p1"))[0] is Decision.ALLOW
    assert authorizer.decide(attrs(N1, "get", "pods", name="p2"))[0] is Decision.NO_OPINION
    assert authorizer.decide(attrs(N1, "list", "pods", ns="", field_selector="spec.nodeName=n1"))[0] is Decision.ALLOW
    assert authorizer.decide(attrs(N1, "watch", "pods", ns="", field_selector="spec.nodeName=n2"))[0] is Decision.NO_OPINION
    assert authorizer.decide(attrs(N1, "list", "pods", ns=""))[0] is Decision.NO_OPINION
    # Node rules for the rest; leases only its own in kube-node-lease.
    assert authorizer.decide(attrs(N1, "list", "nodes", ns=""))[0] is Decision.ALLOW
    assert authorizer.decide(attrs(N1, "patch", "nodes", ns="", name="n2", sub="status"))[0] is Decision.ALLOW  # admission refuses
    assert authorizer.decide(attrs(N1, "create", "pods", sub="binding", name="p2"))[0] is Decision.NO_OPINION
    assert authorizer.decide(attrs(N1, "delete", "nodes", ns="", name="n1"))[0] is Decision.NO_OPINION
    lease = {"group": "coordination.k8s.io", "ns": "kube-node-lease"}
    assert authorizer.decide(attrs(N1, "update", "leases", name="n1", **lease))[0] is Decision.ALLOW
    assert authorizer.decide(attrs(N1, "update", "leases", name="n2", **lease))[0] is Decision.NO_OPINION
    assert authorizer.decide(attrs(N1, "get", "leases", name="n1", group="coordination.k8s.io"))[0] is Decision.NO_OPINION
    # Other users are none of its business; a node without a name is refused.
    assert authorizer.decide(attrs(user("bob"), "get", "secrets", name="mine")) == (Decision.NO_OPINION, "")
    assert authorizer.decide(attrs(user("weird", "system:nodes"), "get", "nodes", ns=""))[0] is Decision.NO_OPINION


async def test_deleting_the_pod_removes_the_path(env: Env) -> None:
    await env.create("pods", pod("p1", "n1", volumes=[{"name": "v", "configMap": {"name": "cm"}}]))
    graph = env.security.graph
    await _wait_for(lambda: graph.has_path(node="n1", kind="configmap", namespace="default", name="cm"))
    from apiserver.registry import DeleteOptions

    await env.store("pods").delete(env.ctx("pods", name="p1"), options=DeleteOptions(grace_period_seconds=0))
    await _wait_for(lambda: not graph.has_path(node="n1", kind="configmap", namespace="default", name="cm"))


def mirror(name: str, node: str, **extra: Any) -> dict[str, Any]:
    body = pod(name, node, **extra)
    body["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "hash"}
    body["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": "u", "controller": True}]
    return body


async def test_node_restriction_on_pods(env: Env) -> None:
    created = await env.create("pods", mirror("static-web", "n1"), user=N1)
    assert created["metadata"]["annotations"]["kubernetes.io/config.mirror"] == "hash"
    with pytest.raises(Forbidden, match='node "n1" can only create mirror pods'):
        await env.create("pods", pod("plain", "n1"), user=N1)
    with pytest.raises(Forbidden, match=re.escape("spec.nodeName set to itself")):
        await env.create("pods", mirror("elsewhere", "n2"), user=N1)
    # ServiceAccount admission (before NodeRestriction) already refuses secrets in mirror pods.
    with pytest.raises(Forbidden, match="a mirror pod may not reference secrets"):
        await env.create("pods", mirror("sneaky", "n1", volumes=[{"name": "v", "secret": {"secretName": "s"}}]), user=N1)
    with pytest.raises(Forbidden, match='node "n1" can not create pods that reference configmaps'):
        await env.create("pods", mirror("sneaky", "n1", volumes=[{"name": "v", "configMap": {"name": "c"}}]), user=N1)
    await env.create("pods", pod("other", "n2"))
    from apiserver.registry import DeleteOptions

    with pytest.raises(Forbidden, match=re.escape('pods "other" is forbidden: node "n1" can only delete pods with spec.nodeName')):
        await env.store("pods").delete(env.ctx("pods", name="other", user=N1), options=DeleteOptions())
    status = env.store("pods").strategy.status_strategy()
    with pytest.raises(Forbidden, match="can only update pod status"):
        await env.store("pods").patch(env.ctx("pods", name="other", user=N1, subresource="status"),
                                      patch_type="application/merge-patch+json",
                                      patch={"status": {"phase": "Running"}}, strategy=status)
    await env.store("pods").delete(env.ctx("pods", name="static-web", user=N1), options=DeleteOptions(grace_period_seconds=0))


async def test_node_restriction_on_nodes_and_leases(env: Env) -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}}}
    await env.create("nodes", node, namespace="", user=N1)
    with pytest.raises(Forbidden, match='node "n1" is not allowed to modify node "n2"'):
        await env.create("nodes", {**node, "metadata": {"name": "n2"}}, namespace="", user=N1)
    store = env.store("nodes")
    with pytest.raises(Forbidden, match=re.escape("is not allowed to modify labels: node-restriction.kubernetes.io/trusted")):
        await store.patch(env.ctx("nodes", namespace="", name="n1", user=N1), patch_type="application/merge-patch+json",
                          patch={"metadata": {"labels": {"node-restriction.kubernetes.io/trusted": "yes"}}})
    with pytest.raises(Forbidden, match="not allowed to modify taints"):
        await store.patch(env.ctx("nodes", namespace="", name="n1", user=N1), patch_type="application/merge-patch+json",
                          patch={"spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}})
    await store.patch(env.ctx("nodes", namespace="", name="n1", user=N1), patch_type="application/merge-patch+json",
                      patch={"metadata": {"labels": {"example.com/rack": "r1"}}})
    await env.create("nodes", {**node, "metadata": {"name": "n2"}}, namespace="")  # the admin may
    with pytest.raises(Forbidden):
        await store.patch(env.ctx("nodes", namespace="", name="n2", user=N1, subresource="status"),
                          patch_type="application/merge-patch+json", patch={"status": {"phase": "x"}},
                          strategy=store.strategy.status_strategy())
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "n2"}}
    with pytest.raises(Forbidden, match="can only access node lease with the same name"):
        await env.create("leases", lease, group="coordination.k8s.io", namespace="kube-node-lease", user=N1)
    await env.create("leases", {**lease, "metadata": {"name": "n1"}}, group="coordination.k8s.io",
                     namespace="kube-node-lease", user=N1)
