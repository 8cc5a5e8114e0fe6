"""Writes the API server makes on its own behalf (bootstrap policy, aggregation).

They go through the same stores as client writes, so defaults, validation and
managedFields apply, but with no user in the context: admission's escalation check and
NodeRestriction only judge requests that came from someone.
"""

from __future__ import annotations

from typing import Any

from apiserver.registry import Context, ResourceStore
from kube.model import FieldValidation

RBAC_GROUP = "rbac.authorization.k8s.io"


def store_of(api: Any, *, group: str, resource: str, version: str = "v1") -> ResourceStore:
    store: ResourceStore | None = api.store(group=group, version=version, resource=resource)
    if store is None:
        raise RuntimeError(f"{resource}.{group}/{version} is not served")
    return store


def rbac_store(api: Any, resource: str) -> ResourceStore:
    return store_of(api, group=RBAC_GROUP, resource=resource)


def internal_context(store: ResourceStore, *, name: str, namespace: str = "", manager: str) -> Context:
    return Context(
        info=store.info,
        namespace=namespace if store.info.namespaced else "",
        name=name,
        field_manager=manager,
        field_validation=FieldValidation.STRICT,
    )
