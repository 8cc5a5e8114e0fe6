"""Rows for role bindings and cluster role bindings.

ROLE is ``Kind/name`` of the bound role; the wide columns split the subjects by kind,
service accounts as ``namespace/name``, so ``kubectl get rolebindings -o wide`` answers
"who gets this role" without a describe. Roles and cluster roles themselves have no
printer in Kubernetes and print the default NAME / CREATED AT table.
"""

from __future__ import annotations

from datetime import datetime

from . import docs
from .formatting import Cell, Obj, dig, dig_list, dig_str, since
from .registry import AGE, NAME, Column, ResourceKey, register


def _columns(*, kind: str, noun: str) -> tuple[Column, ...]:
    return (
        NAME,
        Column(name="Role", type="string", description=docs.RBAC_V1BETA1_DOCS[f"{kind}.roleRef"]),
        AGE,
        Column(name="Users", type="string", priority=1, description=f"Users in the {noun}"),
        Column(name="Groups", type="string", priority=1, description=f"Groups in the {noun}"),
        Column(
            name="ServiceAccounts", type="string", priority=1, description=f"ServiceAccounts in the {noun}"
        ),
    )


ROLEBINDING_COLUMNS = _columns(kind="RoleBinding", noun="roleBinding")
CLUSTERROLEBINDING_COLUMNS = _columns(kind="ClusterRoleBinding", noun="clusterRoleBinding")


def subjects(binding: Obj) -> tuple[list[str], list[str], list[str]]:
    """User names, group names and ``namespace/name`` of service accounts."""
    users: list[str] = []
    groups: list[str] = []
    service_accounts: list[str] = []
    for subject in dig_list(binding, "subjects"):
        kind = dig_str(subject, "kind")
        name = dig_str(subject, "name")
        if kind == "ServiceAccount":
            service_accounts.append(f"{dig_str(subject, 'namespace')}/{name}")
        elif kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
    return users, groups, service_accounts


def binding_row(binding: Obj, *, now: datetime) -> list[Cell]:
    users, groups, service_accounts = subjects(binding)
    return [
        dig_str(binding, "metadata", "name"),
        f"{dig_str(binding, 'roleRef', 'kind')}/{dig_str(binding, 'roleRef', 'name')}",
        since(dig(binding, "metadata", "creationTimestamp"), now=now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(service_accounts),
    ]


def install() -> None:
    group = "rbac.authorization.k8s.io"
    register(ResourceKey(group=group, resource="rolebindings"), ROLEBINDING_COLUMNS, binding_row)
    register(
        ResourceKey(group=group, resource="clusterrolebindings"), CLUSTERROLEBINDING_COLUMNS, binding_row
    )
