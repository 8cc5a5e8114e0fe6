"""ServiceAccount admission, and the ``default`` ServiceAccount of every namespace.

As Kubernetes' plugin does for a new pod:

- no ``serviceAccountName`` means ``default``;
- the named ServiceAccount must exist, otherwise the pod is refused (403) — a pod must
  not run with an identity that nobody created;
- the ServiceAccount's ``imagePullSecrets`` are copied into a pod that names none;
- a mirror pod (a kubelet's static pod) may not name a service account nor reference
  secrets, since nothing in the API vouches for it.

The projected token volume Kubernetes adds is not added: this cluster's kubelet does
not mount API credentials into containers.

In Kubernetes the ``default`` ServiceAccount is created by the service-account
controller soon after the namespace. Here the API server does it itself
(``DefaultServiceAccounts``, following the namespaces watch cache), and the plugin
creates a missing ``default`` on the spot when a pod needs it, so a pod created right
after its namespace never fails on that race.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, ClassVar

from apiserver.background import BackgroundLoop
from apiserver.registry import Context
from apiserver.registry.admission import Operation
from kube.errors import AlreadyExists, Forbidden, StatusError
from kube.model import FieldValidation

from .chain import Base, Obj, as_dict, as_list, forbidden
from .lookup import cached, lookup, store_of

logger = logging.getLogger(__name__)

DEFAULT = "default"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def is_mirror_pod(pod: Obj) -> bool:
    return MIRROR_ANNOTATION in as_dict(as_dict(pod.get("metadata")).get("annotations"))


def _references_secrets(spec: Obj) -> bool:
    if as_list(spec.get("imagePullSecrets")):
        return True
    for volume in as_list(spec.get("volumes")):
        volume = as_dict(volume)
        if "secret" in volume:
            return True
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in as_list(spec.get(key)):
            container = as_dict(container)
            for env in as_list(container.get("env")):
                if "secretKeyRef" in as_dict(as_dict(env).get("valueFrom")):
                    return True
            for env_from in as_list(container.get("envFrom")):
                if "secretRef" in as_dict(env_from):
                    return True
    return False


async def ensure_default(api: Any, namespace: str) -> None:
    """Create ``default`` in ``namespace`` unless it exists (idempotent)."""
    store = store_of(api, group="", resource="serviceaccounts")
    if cached(store, namespace=namespace, name=DEFAULT) is not None:
        return
    ctx = Context(
        info=store.info,
        namespace=namespace,
        name=DEFAULT,
        field_manager="kube-apiserver",
        field_validation=FieldValidation.STRICT,
    )
    body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": DEFAULT, "namespace": namespace}}
    with contextlib.suppress(AlreadyExists):
        await store.create(ctx, body)


class ServiceAccountAdmission(Base):
    name: ClassVar[str] = "ServiceAccount"
    resources: ClassVar[frozenset[tuple[str, str]]] = frozenset({("", "pods")})

    async def mutate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        if operation is not Operation.CREATE or ctx.subresource or not isinstance(obj, dict):
            return
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return  # validation reports it
        if is_mirror_pod(obj):
            if spec.get("serviceAccountName") or spec.get("serviceAccount"):
                raise forbidden(ctx, obj, "a mirror pod may not reference service accounts")
            if _references_secrets(spec):
                raise forbidden(ctx, obj, "a mirror pod may not reference secrets")
            return
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT
        if not isinstance(name, str):
            return
        spec["serviceAccountName"] = name
        namespace = str(as_dict(obj.get("metadata")).get("namespace") or ctx.namespace)
        store = store_of(self.api, group="", resource="serviceaccounts")
        account = await lookup(store, namespace=namespace, name=name)
        if account is None and name == DEFAULT:
            await ensure_default(self.api, namespace)
            account = await lookup(store, namespace=namespace, name=name)
        if account is None:
            raise forbidden(
                ctx, obj, f'error looking up service account {namespace}/{name}: serviceaccount "{name}" not found'
            )
        pull_secrets = account.get("imagePullSecrets")
        if not spec.get("imagePullSecrets") and isinstance(pull_secrets, list) and pull_secrets:
            spec["imagePullSecrets"] = [
                {"name": s["name"]} for s in pull_secrets if isinstance(s, dict) and isinstance(s.get("name"), str)
            ]


class DefaultServiceAccounts(BackgroundLoop):
    """Keeps a ``default`` ServiceAccount in every active namespace (the job of
    Kubernetes' service-account controller), driven by the namespaces watch cache."""

    task_name = "default-serviceaccounts"

    def __init__(self, api: Any) -> None:
        self._api = api
        super().__init__()

    async def ensure_all(self) -> None:
        store = store_of(self._api, group="", resource="namespaces")
        items, _ = store.cacher.list() if store.cacher is not None else ([], 0)
        for namespace in items:
            await self._ensure(namespace)

    async def _ensure(self, namespace: Obj) -> None:
        meta = namespace.get("metadata") or {}
        if meta.get("deletionTimestamp") or (namespace.get("status") or {}).get("phase") == "Terminating":
            return
        try:
            await ensure_default(self._api, str(meta.get("name") or ""))
        except Forbidden:
            pass  # terminating meanwhile
        except StatusError as err:
            logger.warning("could not create the default service account in %s: %s", meta.get("name"), err.message)

    async def _run(self) -> None:
        cacher = store_of(self._api, group="", resource="namespaces").cacher
        assert cacher is not None
        while True:
            try:
                await self.ensure_all()
                async with cacher.watch(revision=cacher.revision) as watcher:
                    async for event in watcher:
                        if event.type == "ADDED":
                            await self._ensure(event.object)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("default service accounts: following namespaces failed; retrying")
            await asyncio.sleep(0.5)
