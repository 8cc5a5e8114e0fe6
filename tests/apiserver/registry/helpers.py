"""Builders shared by the registry tests."""

from __future__ import annotations

from typing import Any

from apiserver.registry import API, Context, ResourceStore
from kube.model import FieldValidation


def store_of(api: API, resource: str, group: str = "") -> ResourceStore:
    for info in api.resources:
        if info.resource == resource and info.group == group:
            return api.store_for(info)
    raise KeyError(resource)


def ctx_for(
    store: ResourceStore, *, namespace: str = "default", name: str = "", dry_run: bool = False, **kw: Any
) -> Context:
    return Context(
        info=store.info,
        namespace=namespace if store.info.namespaced else "",
        name=name,
        dry_run=dry_run,
        field_manager=kw.pop("field_manager", "test"),
        field_validation=kw.pop("field_validation", FieldValidation.STRICT),
        **kw,
    )


def pod(name: str = "p", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec},
    }


def configmap(name: str = "cm", **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": dict(data)}
