"""Builders and shortcuts shared by the resource tests."""

from __future__ import annotations

from typing import Any

import httpx

from apiserver.registry import API, Context, ResourceStore
from kube.model import FieldValidation

PODS = "/api/v1/namespaces/default/pods"
SERVICES = "/api/v1/namespaces/default/services"
PDBS = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"
MERGE = {"content-type": "application/merge-patch+json"}


def store_of(api: API, resource: str, group: str = "") -> ResourceStore:
    for info in api.resources:
        if info.resource == resource and info.group == group and info.stored:
            return api.store_for(info)
    raise KeyError(resource)


def ctx_for(store: ResourceStore, *, namespace: str = "default", name: str = "", **kw: Any) -> Context:
    return Context(
        info=store.info,
        namespace=namespace if store.info.namespaced else "",
        name=name,
        field_manager=kw.pop("field_manager", "test"),
        field_validation=kw.pop("field_validation", FieldValidation.STRICT),
        **kw,
    )


def pod(
    name: str = "p", *, node: str = "", labels: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels if labels is not None else {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec},
    }
    if node:
        body["spec"]["nodeName"] = node
    return body


def service(name: str = "s", *, type_: str = "ClusterIP", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"type": type_, "selector": {"app": "web"}, "ports": [{"port": 80}], **spec},
    }


async def create_pod(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(PODS, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def set_pod_status(client: httpx.AsyncClient, name: str, status: dict[str, Any]) -> None:
    response = await client.patch(f"{PODS}/{name}/status", json={"status": status}, headers=MERGE)
    assert response.status_code == 200, response.text
