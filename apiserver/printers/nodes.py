"""Rows for the cluster's own furniture: nodes and namespaces.

A node's STATUS is derived, not stored: ``Ready`` or ``NotReady`` from the Ready
condition (``Unknown`` when the node never reported one), plus ``SchedulingDisabled``
once it is cordoned. ROLES is read from ``node-role.kubernetes.io/<role>`` labels and
the older ``kubernetes.io/role=<role>`` label, sorted, ``<none>`` without any.
"""

from __future__ import annotations

from datetime import datetime

from . import docs
from .formatting import NONE, UNKNOWN, Cell, Obj, dig, dig_list, dig_map, dig_str, since
from .registry import AGE, NAME, Column, ResourceKey, register

_F = docs.FIELD_DOCS

ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"
LEGACY_ROLE_LABEL = "kubernetes.io/role"

NODE_COLUMNS = (
    NAME,
    Column(name="Status", type="string", description="The status of the node"),
    Column(name="Roles", type="string", description="The roles of the node"),
    AGE,
    Column(name="Version", type="string", description=_F["core.v1.NodeSystemInfo.kubeletVersion"]),
    Column(name="Internal-IP", type="string", priority=1, description=_F["core.v1.NodeStatus.addresses"]),
    Column(name="External-IP", type="string", priority=1, description=_F["core.v1.NodeStatus.addresses"]),
    Column(name="OS-Image", type="string", priority=1, description=_F["core.v1.NodeSystemInfo.osImage"]),
    Column(
        name="Kernel-Version",
        type="string",
        priority=1,
        description=_F["core.v1.NodeSystemInfo.kernelVersion"],
    ),
    Column(
        name="Container-Runtime",
        type="string",
        priority=1,
        description=_F["core.v1.NodeSystemInfo.containerRuntimeVersion"],
    ),
)


def node_status(node: Obj) -> str:
    words: list[str] = []
    # Kubernetes keeps the last condition of each type; only Ready is reported.
    ready = {dig_str(c, "type"): c for c in dig_list(node, "status", "conditions")}.get("Ready")
    if ready is not None:
        words.append("Ready" if dig_str(ready, "status") == "True" else "NotReady")
    else:
        words.append("Unknown")
    if dig(node, "spec", "unschedulable") is True:
        words.append("SchedulingDisabled")
    return ",".join(words)


def node_roles(node: Obj) -> str:
    roles: set[str] = set()
    for key, value in dig_map(node, "metadata", "labels").items():
        if key.startswith(ROLE_LABEL_PREFIX):
            if role := key[len(ROLE_LABEL_PREFIX) :]:
                roles.add(role)
        elif key == LEGACY_ROLE_LABEL and isinstance(value, str) and value:
            roles.add(value)
    return ",".join(sorted(roles)) or NONE


def _address(node: Obj, address_type: str) -> str:
    for address in dig_list(node, "status", "addresses"):
        if dig_str(address, "type") == address_type:
            return dig_str(address, "address")
    return NONE


def node_row(node: Obj, *, now: datetime) -> list[Cell]:
    info = dig_map(node, "status", "nodeInfo")
    return [
        dig_str(node, "metadata", "name"),
        node_status(node),
        node_roles(node),
        since(dig(node, "metadata", "creationTimestamp"), now=now),
        dig_str(info, "kubeletVersion"),
        _address(node, "InternalIP"),
        _address(node, "ExternalIP"),
        dig_str(info, "osImage") or UNKNOWN,
        dig_str(info, "kernelVersion") or UNKNOWN,
        dig_str(info, "containerRuntimeVersion") or UNKNOWN,
    ]


NAMESPACE_COLUMNS = (
    NAME,
    Column(name="Status", type="string", description="The status of the namespace"),
    AGE,
)


def namespace_row(namespace: Obj, *, now: datetime) -> list[Cell]:
    return [
        dig_str(namespace, "metadata", "name"),
        # The namespace strategy sets Active on create; read an unset phase the same way.
        dig_str(namespace, "status", "phase") or "Active",
        since(dig(namespace, "metadata", "creationTimestamp"), now=now),
    ]


def install() -> None:
    register(ResourceKey(group="", resource="nodes"), NODE_COLUMNS, node_row)
    register(ResourceKey(group="", resource="namespaces"), NAMESPACE_COLUMNS, namespace_row)
