"""Objects every cluster has from its first start: system namespaces and priority classes.

kube-apiserver's bootstrap controllers create ``default``, ``kube-system``,
``kube-public`` and ``kube-node-lease`` and the two system PriorityClasses, so that
``kubectl get pods`` works in ``default`` and system pods can ask for
``system-node-critical`` on a brand-new cluster. We do the same through the normal
create path (defaults, validation, managedFields), once per start; objects that
already exist are left as they are, so restarts are harmless.
"""

from __future__ import annotations

import logging
from typing import Any

from kube.errors import AlreadyExists
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
