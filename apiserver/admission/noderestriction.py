"""NodeRestriction: a kubelet may write only its own node's objects.

The Node authorizer lets a node create, update and delete pods, nodes and leases in
general (it cannot know the object of a create, or the pod behind a delete, from the
URL alone). This plugin, as Kubernetes', looks at the objects themselves:

- pods: a node may create only *mirror* pods (annotation ``kubernetes.io/config.mirror``)
  bound to itself, owned by its own Node and referencing no service account, secret,
  configmap or claim; it may delete, and write the status of, only pods bound to it;
- nodes: only its own Node, never labels under ``node-restriction.kubernetes.io/`` (nor
  other ``kubernetes.io``/``k8s.io`` labels outside the kubelet's own set), and on
  update never its taints (that would let a node attract workloads it should not run);
- leases: only the one named after itself (in ``kube-node-lease``; the authorizer
  checks the namespace).
"""

from __future__ import annotations

from typing import ClassVar

from apiserver.authn import UserInfo
from apiserver.authz.node import node_identity
from apiserver.registry import Context
from apiserver.registry.admission import Operation

from .chain import Base, Obj, as_dict, as_list, forbidden
from .serviceaccount import MIRROR_ANNOTATION, _references_secrets

RESTRICTED_LABEL_DOMAIN = "node-restriction.kubernetes.io"
# Labels a kubelet sets on its own Node (kubelet's --node-labels allowed set).
_KUBELET_LABELS = frozenset({
    "kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os",
    "beta.kubernetes.io/arch", "beta.kubernetes.io/os", "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type", "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
})
_KUBELET_LABEL_DOMAINS = ("kubelet.kubernetes.io", "node.kubernetes.io")


def _domain_of(key: str) -> str:
    prefix, slash, _ = key.partition("/")
    return prefix.lower() if slash else ""


def _in_domain(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith("." + parent)


def forbidden_label(key: str) -> bool:
    domain = _domain_of(key)
    if not domain:
        return False
    if _in_domain(domain, RESTRICTED_LABEL_DOMAIN):
        return True
    if key in _KUBELET_LABELS or any(_in_domain(domain, d) for d in _KUBELET_LABEL_DOMAINS):
        return False
    return _in_domain(domain, "kubernetes.io") or _in_domain(domain, "k8s.io")


def _modified_labels(new: Obj, old: Obj | None) -> set[str]:
    new_labels = as_dict(as_dict(new.get("metadata")).get("labels"))
    old_labels = as_dict(as_dict((old or {}).get("metadata")).get("labels"))
    changed = {k for k, v in new_labels.items() if old_labels.get(k) != v}
    changed |= {k for k in old_labels if k not in new_labels}
    return changed


def _node_of(ctx: Context) -> str | None:
    user = ctx.user
    if not isinstance(user, UserInfo):
        return None
    is_node, name = node_identity(user.name, user.groups)
    return name if is_node else None


class NodeRestriction(Base):
    name: ClassVar[str] = "NodeRestriction"
    resources: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("", "pods"), ("", "nodes"), ("coordination.k8s.io", "leases")}
    )

    async def mutate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        node = _node_of(ctx)
        if node is None:
            return
        if not node:
            raise forbidden(ctx, obj or old, "could not determine node from user")
        resource = ctx.info.resource
        if resource == "pods":
            self._pod(ctx, node, operation, obj, old)
        elif resource == "nodes":
            self._node(ctx, node, operation, obj, old)
        elif resource == "leases" and operation is Operation.CREATE:
            name = as_dict(as_dict(obj).get("metadata")).get("name")
            if name != node:
                raise forbidden(ctx, obj, "can only access node lease with the same name as the requesting node")

    async def validate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        # Deletes reach admission only here (with the stored object as ``old``).
        if operation is Operation.DELETE:
            await self.mutate(ctx=ctx, operation=operation, obj=obj, old=old)

    def _pod(self, ctx: Context, node: str, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        if operation is Operation.CREATE and not ctx.subresource:
            self._mirror_pod(ctx, node, as_dict(obj))
            return
        bound_to = as_dict(as_dict(old).get("spec")).get("nodeName")
        if operation is Operation.DELETE:
            if bound_to != node:
                raise forbidden(ctx, old, f'node "{node}" can only delete pods with spec.nodeName set to itself')
        elif ctx.subresource == "status" and bound_to != node:
            raise forbidden(ctx, obj, f'node "{node}" can only update pod status for pods with spec.nodeName set to itself')

    def _mirror_pod(self, ctx: Context, node: str, pod: Obj) -> None:
        meta = as_dict(pod.get("metadata"))
        spec = as_dict(pod.get("spec"))
        if MIRROR_ANNOTATION not in as_dict(meta.get("annotations")):
            raise forbidden(
                ctx, pod, f'pod does not have "{MIRROR_ANNOTATION}" annotation, node "{node}" can only create mirror pods'
            )
        if spec.get("nodeName") != node:
            raise forbidden(ctx, pod, f'node "{node}" can only create pods with spec.nodeName set to itself')
        owners = as_list(meta.get("ownerReferences"))
        if len(owners) != 1:
            raise forbidden(ctx, pod, f'node "{node}" can only create pods with a single owner reference set to itself')
        owner = as_dict(owners[0])
        if owner.get("kind") != "Node" or owner.get("name") != node or owner.get("apiVersion") != "v1":
            raise forbidden(ctx, pod, f'node "{node}" can only create pods with an owner reference set to itself')
        if spec.get("serviceAccountName") or spec.get("serviceAccount"):
            raise forbidden(ctx, pod, f'node "{node}" can not create pods that reference a service account')
        if _references_secrets(spec):
            raise forbidden(ctx, pod, f'node "{node}" can not create pods that reference secrets')
        if _references_configmaps(spec):
            raise forbidden(ctx, pod, f'node "{node}" can not create pods that reference configmaps')
        for volume in as_list(spec.get("volumes")):
            if "persistentVolumeClaim" in as_dict(volume) or "ephemeral" in as_dict(volume):
                raise forbidden(ctx, pod, f'node "{node}" can not create pods that reference persistentvolumeclaims')

    def _node(self, ctx: Context, node: str, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        requested = ctx.name or as_dict(as_dict(obj).get("metadata")).get("name") or ""
        if requested != node:
            raise forbidden(ctx, obj or old, f'node "{node}" is not allowed to modify node "{requested}"')
        if operation is Operation.CREATE and isinstance(obj, dict):
            bad = sorted(k for k in _modified_labels(obj, None) if forbidden_label(k))
            if bad:
                raise forbidden(ctx, obj, f'node "{node}" is not allowed to set the following labels: {", ".join(bad)}')
        elif operation is Operation.UPDATE and isinstance(obj, dict) and ctx.subresource != "status":
            # (A status write keeps the stored labels and taints whatever it sends.)
            if as_dict(obj.get("spec")).get("taints") != as_dict(as_dict(old).get("spec")).get("taints"):
                raise forbidden(ctx, obj, f'node "{node}" is not allowed to modify taints')
            bad = sorted(k for k in _modified_labels(obj, old) if forbidden_label(k))
            if bad:
                raise forbidden(ctx, obj, f'is not allowed to modify labels: {", ".join(bad)}')


def _references_configmaps(spec: Obj) -> bool:
    for volume in as_list(spec.get("volumes")):
        volume = as_dict(volume)
        if "configMap" in volume:
            return True
        for source in as_list(as_dict(volume.get("projected")).get("sources")):
            if "configMap" in as_dict(source) or "secret" in as_dict(source):
                return True
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in as_list(spec.get(key)):
            container = as_dict(container)
            for env in as_list(container.get("env")):
                if "configMapKeyRef" in as_dict(as_dict(env).get("valueFrom")):
                    return True
            for env_from in as_list(container.get("envFrom")):
                if "configMapRef" in as_dict(env_from):
                    return True
    return False
