"""A controller for StaticSite, written only against ``kube.client``, ``kube.informers``
and ``kube.workqueue`` — the way any user would write one for their custom kind.

For each StaticSite it keeps two owned objects in line with the spec: a ConfigMap
``<site>-html`` holding the page, and a Deployment ``<site>`` running ``spec.image``
with ``spec.replicas`` replicas that mounts it. It reports ``status.readyReplicas``,
``status.phase`` (``Ready`` once every replica is ready) and
``status.observedGeneration``, and records an Event when it creates something.

Its shape is client-go's: informers fill caches and only enqueue keys; workers take a
key, reconcile it from the caches (level-based: compute what should exist, converge),
and requeue it with backoff on failure. Deleting a site needs no code: the owned objects
carry ownerReferences, so the garbage collector deletes them.

Run it against a cluster with ``python examples/controllers/staticsite/controller.py``
(KUBECONFIG as for kubectl); unit-test it with ``kube.testing`` (see
``tests/examples/test_staticsite.py`` and ``docs/testing-controllers.md``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kube import meta
from kube.client import Client, Clock
from kube.errors import AlreadyExists, Conflict, NotFound
from kube.informers import DeletedFinalStateUnknown, SharedInformerFactory
from kube.resources import ResourceInfo
from kube.workqueue import RateLimitingQueue, ShutDown

log = logging.getLogger("staticsite")

Obj = dict[str, Any]
MANAGER = "staticsite-controller"
SITES = ResourceInfo(group="demo.kubesim.io", version="v1", kind="StaticSite", resource="staticsites",
                     singular="staticsite", namespaced=True, subresources=("status", "scale"))
DEPLOYMENTS = ResourceInfo(group="apps", version="v1", kind="Deployment", resource="deployments",
                           singular="deployment", namespaced=True)
CONFIGMAPS = ResourceInfo(group="", version="v1", kind="ConfigMap", resource="configmaps", singular="configmap",
                          namespaced=True)
EVENTS = ResourceInfo(group="", version="v1", kind="Event", resource="events", singular="event", namespaced=True)


def desired_configmap(site: Obj) -> Obj:
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": f"{meta.name(site)}-html", "namespace": meta.namespace(site),
                     "ownerReferences": [meta.new_controller_ref(site, api_version=SITES.api_version,
                                                                 kind=SITES.kind)]},
        "data": {"index.html": site["spec"]["html"]},
    }


def desired_deployment(site: Obj) -> Obj:
    name, spec = meta.name(site), site["spec"]
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": MANAGER}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": meta.namespace(site), "labels": labels,
                     "ownerReferences": [meta.new_controller_ref(site, api_version=SITES.api_version,
                                                                 kind=SITES.kind)]},
        "spec": {
            "replicas": spec.get("replicas", 1),
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [{"name": "web", "image": spec.get("image", "nginx:1.27"),
                                    "volumeMounts": [{"name": "html", "mountPath": "/usr/share/nginx/html"}]}],
                    "volumes": [{"name": "html", "configMap": {"name": f"{name}-html"}}],
                },
            },
        },
    }


class NotOwned(Exception):
    """An object the site needs already exists and belongs to someone else."""


class StaticSiteController:
    def __init__(self, client: Client, *, clock: Clock | None = None, workers: int = 2) -> None:
        self.client = client
        self.workers = workers
        self.factory = SharedInformerFactory(client, clock=clock)
        self.sites = self.factory.informer_for(SITES)
        self.deployments = self.factory.informer_for(DEPLOYMENTS)
        self.configmaps = self.factory.informer_for(CONFIGMAPS)
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(clock=clock, name="staticsite")
        self.sites.add_event_handler(on_add=self._enqueue, on_update=lambda _old, new: self._enqueue(new),
                                     on_delete=self._enqueue)
        for owned in (self.deployments, self.configmaps):
            owned.add_event_handler(on_add=self._enqueue_owner, on_update=lambda _old, new: self._enqueue_owner(new),
                                    on_delete=self._enqueue_owner)

    # -- event handlers: only enqueue keys ---------------------------------------------

    def _enqueue(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            self.queue.add(obj.key)
        else:
            self.queue.add(meta.key(obj))

    def _enqueue_owner(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            obj = obj.obj
        ref = meta.controller_ref(obj)
        if ref and ref.get("kind") == SITES.kind:
            self.queue.add(f"{meta.namespace(obj)}/{ref['name']}")

    # -- running -----------------------------------------------------------------------

    async def run(self) -> None:
        self.factory.start()
        await self.factory.wait_for_cache_sync()
        try:
            await asyncio.gather(*(self._worker() for _ in range(self.workers)))
        finally:
            self.queue.shut_down()
            await self.factory.shutdown()

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.reconcile(key)
            except Conflict:
                self.queue.add_rate_limited(key)  # someone wrote first: look again
            except NotOwned as err:
                log.warning("%s: %s", key, err)
                self.queue.add_rate_limited(key)
            except Exception:
                log.exception("reconciling %s failed", key)
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
            finally:
                self.queue.done(key)

    # -- reconcile: level-based, from the caches ------------------------------------------

    async def reconcile(self, key: str) -> None:
        namespace, name = meta.split_key(key)
        site = self.sites.store.get_by_key(key)
        if site is None or site["metadata"].get("deletionTimestamp"):
            return  # going: its objects are garbage-collected through their ownerReferences
        await self._ensure(CONFIGMAPS, self.configmaps.store.get_by_key(f"{namespace}/{name}-html"),
                           desired_configmap(site), site, compare=("data",))
        deployment = self.deployments.store.get_by_key(key)
        await self._ensure(DEPLOYMENTS, deployment, desired_deployment(site), site, compare=("spec",))
        ready = ((deployment or {}).get("status") or {}).get("readyReplicas", 0)
        wanted = site["spec"].get("replicas", 1)
        status = {"observedGeneration": site["metadata"].get("generation", 0), "readyReplicas": ready,
                  "phase": "Ready" if ready >= wanted else "Pending"}
        if site.get("status") != status:
            await self.client.patch(SITES, name=name, namespace=namespace, subresource="status",
                                    patch={"status": status}, field_manager=MANAGER)

    async def _ensure(self, info: ResourceInfo, current: Obj | None, desired: Obj, site: Obj, *,
                      compare: tuple[str, ...]) -> None:
        name = meta.name(desired)
        if current is None:
            try:
                await self.client.create(info, desired, field_manager=MANAGER)
            except AlreadyExists:
                return  # the cache lags our own create; the informer will catch up
            await self._event(site, reason="Created", message=f"Created {info.kind} {name}")
            return
        if not meta.is_controlled_by(current, site):
            message = f"{info.kind} {name} exists and is not ours"
            await self._event(site, reason="NotOwned", message=message, type_="Warning")
            raise NotOwned(message)  # retried with backoff until it is moved out of the way
        patch = {field: desired[field] for field in compare if _differs(current.get(field), desired[field])}
        if patch:
            await self.client.patch(info, name=name, namespace=meta.namespace(desired), patch=patch,
                                    field_manager=MANAGER)

    async def _event(self, site: Obj, *, reason: str, message: str, type_: str = "Normal") -> None:
        try:
            await self.client.create(EVENTS, {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"generateName": f"{meta.name(site)}-", "namespace": meta.namespace(site)},
                "involvedObject": {"apiVersion": SITES.api_version, "kind": SITES.kind, "name": meta.name(site),
                                   "namespace": meta.namespace(site), "uid": meta.uid(site)},
                "reason": reason, "message": message, "type": type_,
                "source": {"component": MANAGER}, "reportingComponent": MANAGER,
            })
        except NotFound:
            pass  # the namespace is going away


def _differs(current: Any, desired: Any) -> bool:
    """Whether ``desired`` is not already contained in ``current`` (server defaults aside)."""
    if isinstance(desired, dict):
        return not isinstance(current, dict) or any(_differs(current.get(k), v) for k, v in desired.items())
    if isinstance(desired, list):
        return (not isinstance(current, list) or len(current) != len(desired)
                or any(_differs(c, d) for c, d in zip(current, desired, strict=True)))
    return bool(current != desired)


async def main() -> None:
    logging.basicConfig(level=logging.INFO)
    async with Client.from_kubeconfig() as client:
        await StaticSiteController(client).run()


if __name__ == "__main__":
    asyncio.run(main())
