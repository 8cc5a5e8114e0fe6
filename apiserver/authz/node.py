"""The Node authorizer: what a kubelet may do, limited to its own node's objects.

A node authenticates as ``system:node:<name>`` in the group ``system:nodes``. As in
kube-apiserver, such a caller is judged here and not by RBAC bindings (the
``system:node`` ClusterRole is bound to nobody); other callers get "no opinion".

- Secrets, ConfigMaps, PersistentVolumeClaims and ServiceAccounts: read (get, or
  list/watch narrowed to one name) only when a pod bound to the node references them
  (``graph.py``); PVC status writes and service-account token requests likewise.
- Pods: get only pods bound to the node; list and watch only with
  ``fieldSelector=spec.nodeName=<node>``; other verbs follow the node rules, and
  NodeRestriction admission then limits them to the node's own (mirror) pods.
- Leases: only in ``kube-node-lease`` and only the one named after the node.
- Everything else (nodes, events, services, ...) follows the ``system:node`` rules;
  NodeRestriction limits writes to the node's own Node object.

A refusal's reason is Kubernetes' (``no relationship found between node 'n1' and
this object``).
"""

from __future__ import annotations

from .attributes import Attributes
from .chain import Decision
from .graph import CONFIGMAP, PVC, SECRET, SERVICEACCOUNT, NodeGraph
from .policy import NODE_RULES
from .rules import compile_rules, rules_allow

NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
NODE_LEASE_NAMESPACE = "kube-node-lease"
_READ = frozenset({"get", "list", "watch"})
_GRAPH_KINDS = {"secrets": SECRET, "configmaps": CONFIGMAP}


def node_identity(name: str, groups: tuple[str, ...]) -> tuple[bool, str]:
    """(is a node, its name). A member of system:nodes without the user prefix is a
    node of unknown name, which is refused everything the Node authorizer decides."""
    if NODES_GROUP not in groups:
        return False, ""
    if not name.startswith(NODE_USER_PREFIX):
        return True, ""
    return True, name[len(NODE_USER_PREFIX):]


class NodeAuthorizer:
    name = "Node"

    def __init__(self, graph: NodeGraph) -> None:
        self.graph = graph
        self.node_rules = compile_rules(NODE_RULES)

    def decide(self, attrs: Attributes) -> tuple[Decision, str]:
        is_node, node = node_identity(attrs.user.name, attrs.user.groups)
        if not is_node:
            return Decision.NO_OPINION, ""
        if not node:
            return Decision.NO_OPINION, f'unknown node for user "{attrs.user.name}"'
        if attrs.resource_request:
            group, resource = attrs.api_group, attrs.resource
            if group == "":
                if resource in _GRAPH_KINDS:
                    return self._read_referenced(node, _GRAPH_KINDS[resource], attrs)
                if resource == "persistentvolumeclaims":
                    if attrs.subresource == "status":
                        return self._write_status(node, attrs)
                    return self._get_referenced(node, PVC, attrs)
                if resource == "serviceaccounts":
                    return self._service_account(node, attrs)
                if resource == "pods":
                    return self._pod(node, attrs)
            elif group == "coordination.k8s.io" and resource == "leases":
                return self._lease(node, attrs)
        return self._by_rules(attrs)

    def _by_rules(self, attrs: Attributes) -> tuple[Decision, str]:
        if rules_allow(self.node_rules, attrs):
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, ""

    def _related(self, node: str, kind: str, attrs: Attributes) -> tuple[Decision, str]:
        if not attrs.name:
            return Decision.NO_OPINION, "No Object name found"
        if self.graph.has_path(node=node, kind=kind, namespace=attrs.namespace, name=attrs.name):
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, f"no relationship found between node '{node}' and this object"

    def _read_referenced(self, node: str, kind: str, attrs: Attributes) -> tuple[Decision, str]:
        if attrs.verb not in _READ:
            return Decision.NO_OPINION, "can only read resources of this type"
        if attrs.subresource:
            return Decision.NO_OPINION, "cannot read subresource"
        if not attrs.namespace:
            return Decision.NO_OPINION, "can only read namespaced object of this type"
        return self._related(node, kind, attrs)

    def _get_referenced(self, node: str, kind: str, attrs: Attributes) -> tuple[Decision, str]:
        if attrs.verb != "get":
            return Decision.NO_OPINION, "can only get individual resources of this type"
        if attrs.subresource:
            return Decision.NO_OPINION, "cannot get subresource"
        return self._related(node, kind, attrs)

    def _write_status(self, node: str, attrs: Attributes) -> tuple[Decision, str]:
        if attrs.verb not in ("get", "update", "patch"):
            return Decision.NO_OPINION, "can only get or update persistentvolumeclaim status"
        return self._related(node, PVC, attrs)

    def _service_account(self, node: str, attrs: Attributes) -> tuple[Decision, str]:
        if attrs.subresource == "token":
            if attrs.verb != "create" or not attrs.name:
                return Decision.NO_OPINION, "can only create tokens for individual service accounts"
            return self._related(node, SERVICEACCOUNT, attrs)
        return self._read_referenced(node, SERVICEACCOUNT, attrs)

    def _pod(self, node: str, attrs: Attributes) -> tuple[Decision, str]:
        if attrs.verb == "get" and not attrs.subresource:
            if self.graph.pod_node(attrs.namespace, attrs.name) == node:
                return Decision.ALLOW, ""
            return Decision.NO_OPINION, f"no relationship found between node '{node}' and this object"
        if attrs.verb in ("list", "watch"):
            if attrs.field_requirement("spec.nodeName") == node:
                return Decision.ALLOW, ""
            return Decision.NO_OPINION, "can only list/watch pods with spec.nodeName field selector"
        return self._by_rules(attrs)

    def _lease(self, node: str, attrs: Attributes) -> tuple[Decision, str]:
        if attrs.verb not in ("get", "create", "update", "patch", "delete"):
            return Decision.NO_OPINION, "can only get, create, update, patch, or delete a node lease"
        if attrs.namespace != NODE_LEASE_NAMESPACE:
            return Decision.NO_OPINION, f'can only access leases in the "{NODE_LEASE_NAMESPACE}" system namespace'
        # A create names no object in its URL; NodeRestriction checks the name it sends.
        if attrs.verb != "create" and attrs.name != node:
            return Decision.NO_OPINION, "can only access node lease with the same name as the requesting node"
        return Decision.ALLOW, ""
