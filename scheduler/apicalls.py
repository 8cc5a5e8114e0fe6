"""Every write the scheduler makes to the API server, in one place.

Reads come from informers; writes are few and named here: bind a pod (``pods/binding``),
set its PodScheduled condition and nominated node (``pods/status``), annotate it with
the decision when the binding could not carry it, and preempt a victim (mark it with a
DisruptionTarget condition, then delete it gracefully). Status patches are strategic
merge patches keyed by condition type, and are skipped when nothing would change —
a pod that stays unschedulable for an hour is not rewritten every retry.
"""

from __future__ import annotations

import logging
from typing import Any

from kube import meta
from kube.client import Client
from kube.errors import NotFound
from kube.resources import ResourceInfo, default_registry
from scheduler.framework.podinfo import PodInfo

log = logging.getLogger(__name__)
_REGISTRY = default_registry()
PODS: ResourceInfo = _REGISTRY.lookup("pods")[0]
Obj = dict[str, Any]


def condition_changed(pod: Obj, condition: Obj) -> bool:
    """Whether setting ``condition`` would change the pod (``UpdatePodCondition``)."""
    for existing in (pod.get("status") or {}).get("conditions") or []:
        if existing.get("type") == condition["type"]:
            return any(existing.get(k) != condition.get(k) for k in ("status", "reason", "message"))
    return True


class ApiCalls:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def bind(self, pod: PodInfo, node_name: str, *, annotations: dict[str, str] | None = None) -> Obj:
        metadata: Obj = {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid}
        if annotations:
            metadata["annotations"] = annotations
        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": metadata,
            "target": {"apiVersion": "v1", "kind": "Node", "name": node_name},
        }
        return await self.client.post_subresource(
            PODS, name=pod.name, namespace=pod.namespace, subresource="binding", body=body
        )

    async def update_pod_status(
        self, pod: Obj, *, condition: Obj | None = None, nominated_node_name: str | None = None
    ) -> bool:
        """Set ``condition`` and/or the nominated node (``""`` clears it); False when
        there was nothing to change."""
        status: Obj = {}
        if condition is not None and condition_changed(pod, condition):
            status["conditions"] = [{**condition, "lastTransitionTime": meta.now()}]
        current = str((pod.get("status") or {}).get("nominatedNodeName") or "")
        if nominated_node_name is not None and nominated_node_name != current:
            status["nominatedNodeName"] = nominated_node_name or None
        if not status:
            return False
        m = pod.get("metadata") or {}
        await self.client.patch(
            PODS,
            name=str(m.get("name")),
            namespace=str(m.get("namespace")),
            patch={"status": status},
            patch_type="strategic",
            subresource="status",
        )
        return True

    async def annotate(self, pod: Obj, annotations: dict[str, str]) -> None:
        m = pod.get("metadata") or {}
        current = m.get("annotations") or {}
        if all(current.get(k) == v for k, v in annotations.items()):
            return
        await self.client.patch(
            PODS,
            name=str(m.get("name")),
            namespace=str(m.get("namespace")),
            patch={"metadata": {"annotations": annotations}},
            patch_type="merge",
        )

    async def preempt(self, *, victim: PodInfo, preemptor: PodInfo, node_name: str) -> None:
        condition = {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "PreemptionByScheduler",
            "message": f"{preemptor.scheduler_name}: preempting to accommodate a higher priority pod",
        }
        try:
            await self.update_pod_status(victim.pod, condition=condition)
            await self.client.delete(
                PODS, name=victim.name, namespace=victim.namespace, preconditions={"uid": victim.uid}
            )
        except NotFound:
            log.info("victim %s of %s is already gone", victim.key, preemptor.key)
            return
        log.info("preempted %s on %s for %s", victim.key, node_name, preemptor.key)

    async def clear_nominated_node(self, pod: PodInfo) -> None:
        try:
            await self.update_pod_status(pod.pod, nominated_node_name="")
        except NotFound:
            pass
