"""Which node may read which object: the graph behind the Node authorizer.

A kubelet needs the Secrets, ConfigMaps, PersistentVolumeClaims and ServiceAccount of
the pods bound to its node, and nothing else. As in kube-apiserver, the API server
keeps a graph from pods to what they reference, fed by the pods watch cache (one
watcher, consumed by a background task), so that answering "may node n1 read secret
default/s?" is two dictionary lookups on the request path.

Edges come from ``spec.nodeName`` (pods not yet scheduled grant nothing) and from every
place a pod spec names an object: volumes (secret, configMap, projected sources,
persistentVolumeClaim, generic ephemeral volumes' ``<pod>-<volume>`` claims, the
secretRefs of CSI, Ceph, Flex... volumes), ``imagePullSecrets``, and the ``env``/``envFrom``
of every container, init container and ephemeral container.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger(__name__)
Obj = dict[str, Any]
Ref = tuple[str, str, str]  # (kind, namespace, name)

SECRET, CONFIGMAP, PVC, SERVICEACCOUNT = "secret", "configmap", "pvc", "serviceaccount"
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def _secret_refs_of_volume(volume: Obj) -> Iterator[str]:
    """Secret names a volume source points at (``secretRef`` under any plugin)."""
    for key, source in volume.items():
        if not isinstance(source, dict) or key in ("secret", "projected", "configMap"):
            continue
        for field in ("secretRef", "nodePublishSecretRef", "nodeStageSecretRef", "controllerPublishSecretRef"):
            ref = source.get(field)
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                yield ref["name"]


def references(pod: Obj) -> set[Ref]:
    """Everything ``pod`` references, as (kind, namespace, name)."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    ns = str(meta.get("namespace") or "")
    found: set[Ref] = set()

    def add(kind: str, name: Any) -> None:
        if isinstance(name, str) and name:
            found.add((kind, ns, name))

    add(SERVICEACCOUNT, spec.get("serviceAccountName") or spec.get("serviceAccount"))
    for ref in spec.get("imagePullSecrets") or ():
        if isinstance(ref, dict):
            add(SECRET, ref.get("name"))
    for volume in spec.get("volumes") or ():
        if not isinstance(volume, dict):
            continue
        add(SECRET, (volume.get("secret") or {}).get("secretName"))
        add(CONFIGMAP, (volume.get("configMap") or {}).get("name"))
        add(PVC, (volume.get("persistentVolumeClaim") or {}).get("claimName"))
        if isinstance(volume.get("ephemeral"), dict):
            add(PVC, f"{meta.get('name')}-{volume.get('name')}")
        for source in (volume.get("projected") or {}).get("sources") or ():
            if isinstance(source, dict):
                add(SECRET, (source.get("secret") or {}).get("name"))
                add(CONFIGMAP, (source.get("configMap") or {}).get("name"))
        for name in _secret_refs_of_volume(volume):
            add(SECRET, name)
    for list_name in _CONTAINER_LISTS:
        for container in spec.get(list_name) or ():
            if not isinstance(container, dict):
                continue
            for env in container.get("env") or ():
                source = (env or {}).get("valueFrom") or {}
                add(SECRET, (source.get("secretKeyRef") or {}).get("name"))
                add(CONFIGMAP, (source.get("configMapKeyRef") or {}).get("name"))
            for env_from in container.get("envFrom") or ():
                add(SECRET, ((env_from or {}).get("secretRef") or {}).get("name"))
                add(CONFIGMAP, ((env_from or {}).get("configMapRef") or {}).get("name"))
    return found


class NodeGraph:
    """Pods by node, and per referenced object the nodes whose pods reference it."""

    def __init__(self) -> None:
        self._pods: dict[tuple[str, str], tuple[str, frozenset[Ref]]] = {}
        self._refs: dict[Ref, dict[str, int]] = {}
        self._task: asyncio.Task[None] | None = None
        self.synced = asyncio.Event()

    # -- queries (the request path) ----------------------------------------------------

    def pod_node(self, namespace: str, name: str) -> str | None:
        entry = self._pods.get((namespace, name))
        return entry[0] if entry is not None else None

    def has_path(self, *, node: str, kind: str, namespace: str, name: str) -> bool:
        return self._refs.get((kind, namespace, name), {}).get(node, 0) > 0

    # -- updates -----------------------------------------------------------------------

    def set_pod(self, pod: Obj) -> None:
        meta = pod.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        node = (pod.get("spec") or {}).get("nodeName")
        self.delete_pod(*key)
        if not isinstance(node, str) or not node:
            return
        refs = frozenset(references(pod))
        self._pods[key] = (node, refs)
        for ref in refs:
            counts = self._refs.setdefault(ref, {})
            counts[node] = counts.get(node, 0) + 1

    def delete_pod(self, namespace: str, name: str) -> None:
        old = self._pods.pop((namespace, name), None)
        if old is None:
            return
        node, refs = old
        for ref in refs:
            counts = self._refs.get(ref)
            if counts is None:
                continue
            left = counts.get(node, 0) - 1
            if left > 0:
                counts[node] = left
            else:
                counts.pop(node, None)
                if not counts:
                    self._refs.pop(ref, None)

    def apply(self, event_type: str, pod: Obj) -> None:
        if event_type == "DELETED":
            meta = pod.get("metadata") or {}
            self.delete_pod(str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        elif event_type in ("ADDED", "MODIFIED"):
            self.set_pod(pod)

    # -- following the pods cache ------------------------------------------------------

    def start(self, cacher: Any) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._follow(cacher), name="node-authorizer-graph")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def load(self, pods: list[Obj]) -> None:
        self._pods.clear()
        self._refs.clear()
        for pod in pods:
            self.set_pod(pod)

    async def _follow(self, cacher: Any) -> None:
        while True:
            try:
                items, revision = cacher.list()
                self.load(items)
                self.synced.set()
                async with cacher.watch(revision=revision) as watcher:
                    async for event in watcher:
                        self.apply(event.type, event.object)
                logger.info("pods watch for the node graph ended; rebuilding")
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("node authorizer graph: following pods failed; retrying")
            await asyncio.sleep(0.1)
