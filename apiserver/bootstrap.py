"""Objects every cluster has from its first start: system namespaces and priority classes.

kube-apiserver's bootstrap controllers create ``default``, ``kube-system``,
``kube-public`` and ``kube-node-lease`` and the two system PriorityClasses, so that
``kubectl get pods`` works in ``default`` and system pods can ask for
``system-node-critical`` on a brand-new cluster. We do the same through the normal
create path (defaults, validation, managedFields), once per start; objects that
already exist are left as they are, so restarts are harmless.

Once the server listens, ``bootstrap_kubernetes_service`` publishes it as the
``kubernetes`` Service in ``default`` (the first address of the service range, port
443) with Endpoints naming the address and port it serves on, as kube-apiserver's
"kubernetes service" controller does, so pods can reach the API at
``kubernetes.default.svc``. Those two are corrected when they no longer match (a
restart with ``--secure-port 0`` listens on another port).
"""

from __future__ import annotations

import logging
from typing import Any

from kube.errors import AlreadyExists, NotFound, StatusError
from kube.model import FieldValidation

from .registry import API, Context

logger = logging.getLogger(__name__)

MANAGER = "kube-apiserver"
NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
PRIORITY_CLASSES: tuple[dict[str, Any], ...] = (
    {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "system-node-critical"},
        "value": 2000001000,
        "description": "Used for system critical pods that must not be moved from their current node.",
    },
    {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "system-cluster-critical"},
        "value": 2000000000,
        "description": "Used for system critical pods that must run in the cluster, but can be moved to another node "
        "if necessary.",
    },
)


async def _ensure(api: API, *, group: str, resource: str, obj: dict[str, Any]) -> bool:
    info = api.resources.get(group=group, version=obj["apiVersion"].rpartition("/")[2], resource=resource)
    assert info is not None, f"{resource}.{group} is not served"
    store = api.store_for(info)
    ctx = Context(
        info=info, name=obj["metadata"]["name"], field_manager=MANAGER, field_validation=FieldValidation.STRICT
    )
    try:
        await store.create(ctx, obj)
    except AlreadyExists:
        return False
    return True


async def bootstrap(api: API) -> list[str]:
    """Create whatever is missing; returns what was created (``namespaces/default``, ...)."""
    created: list[str] = []
    for name in NAMESPACES:
        namespace: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        if await _ensure(api, group="", resource="namespaces", obj=namespace):
            created.append(f"namespaces/{name}")
    for pc in PRIORITY_CLASSES:
        obj: dict[str, Any] = {**pc, "metadata": {"name": pc["metadata"]["name"]}}
        if await _ensure(api, group="scheduling.k8s.io", resource="priorityclasses", obj=obj):
            created.append(f"priorityclasses/{obj['metadata']['name']}")
    if created:
        logger.info("bootstrap created %s", ", ".join(created))
    return created


KUBERNETES_SERVICE = "kubernetes"
SERVICE_PORT = 443


def _kubernetes_service(*, cluster_ip: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": KUBERNETES_SERVICE,
            "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "ports": [{"name": "https", "port": SERVICE_PORT, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None",
        },
    }


def _kubernetes_endpoints(*, address: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": KUBERNETES_SERVICE,
            "namespace": "default",
            # As Kubernetes labels it: these endpoints are not mirrored into EndpointSlices.
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {"addresses": [{"ip": address}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}
        ],
    }


async def _reconcile(api: API, *, resource: str, obj: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    """Create ``obj``, or set ``fields`` (top-level keys, or ``spec.<key>``) where the
    stored object differs; returns "created", "updated" or None."""
    info = api.resources.get(group="", version="v1", resource=resource)
    assert info is not None, f"{resource} is not served"
    store = api.store_for(info)
    ctx = Context(
        info=info,
        namespace="default",
        name=obj["metadata"]["name"],
        field_manager=MANAGER,
        field_validation=FieldValidation.STRICT,
    )
    try:
        current = await store.get(ctx)
    except NotFound:
        await store.create(ctx, obj)
        return "created"
    patch: dict[str, Any] = {}
    for field in fields:
        section, _, key = field.rpartition(".")
        want = obj[section][key] if section else obj[key]
        have = (current.get(section) or {}).get(key) if section else current.get(key)
        if have != want:
            (patch.setdefault(section, {}) if section else patch)[key] = want
    if not patch:
        return None
    await store.patch(ctx, patch_type="application/merge-patch+json", patch=patch)
    return "updated"


async def bootstrap_kubernetes_service(api: API, *, cluster_ip: str, address: str, port: int) -> list[str]:
    """The ``kubernetes`` Service and Endpoints for an API server reachable at
    ``address:port``; returns what was created or updated. Failures are logged, not
    raised: the API serves without them, as it does while Kubernetes' controller retries."""
    changed: list[str] = []
    service = _kubernetes_service(cluster_ip=cluster_ip, port=port)
    endpoints = _kubernetes_endpoints(address=address, port=port)
    for resource, obj, fields in (
        ("services", service, ("spec.ports",)),
        ("endpoints", endpoints, ("subsets",)),
    ):
        try:
            outcome = await _reconcile(api, resource=resource, obj=obj, fields=fields)
        except StatusError as err:
            logger.warning("could not publish %s/default/%s: %s", resource, KUBERNETES_SERVICE, err.message)
            continue
        if outcome is not None:
            changed.append(f"{resource}/default/{KUBERNETES_SERVICE} {outcome}")
    if changed:
        logger.info("bootstrap: %s", ", ".join(changed))
    return changed
