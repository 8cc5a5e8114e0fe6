"""The resources whose behaviour differs from the default strategy, and how.

Each entry mirrors a Kubernetes ``pkg/registry/<group>/<resource>/strategy.go`` (or its
storage's ``ReturnDeletedObject``), reduced to what differs. Resources not named here
get ``Strategy`` as is; resources that are not built in (custom resources) get
``CustomResourceStrategy``. Richer behaviour — pod graceful deletion, ClusterIP and
NodePort allocation, namespace termination — is added by subclassing these and
re-registering with ``register_strategy``.
"""

from __future__ import annotations

from typing import Any

from kube import meta as kmeta
from kube.errors import Invalid
from kube.resources import BUILTIN, ResourceInfo

from .context import Context
from .strategy import GCPolicy, Obj, StatusStrategy, Strategy

_NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
_KUBERNETES_FINALIZER = "kubernetes"


class PodStrategy(Strategy):
    tracks_generation = True
    return_deleted_object = True

    def prepare_for_create(self, *, ctx: Context, obj: Obj) -> None:
        super().prepare_for_create(ctx=ctx, obj=obj)
        obj["status"] = {"phase": "Pending"}


class NodeStrategy(Strategy):
    # The kubelet registers its Node with capacity and addresses already in status.
    reset_status_on_create = False


class ServiceStrategy(Strategy):
    allow_create_on_update = True
    return_deleted_object = True


class NamespaceStrategy(Strategy):
    return_deleted_object = True

    def prepare_for_create(self, *, ctx: Context, obj: Obj) -> None:
        super().prepare_for_create(ctx=ctx, obj=obj)
        obj["status"] = {"phase": "Active"}
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            spec = obj["spec"] = {}
        finalizers = spec.get("finalizers")
        if not isinstance(finalizers, list):
            finalizers = spec["finalizers"] = []
        if _KUBERNETES_FINALIZER not in finalizers:
            finalizers.append(_KUBERNETES_FINALIZER)
        _label_namespace_name(obj)

    def prepare_for_update(self, *, ctx: Context, obj: Obj, old: Obj) -> None:
        super().prepare_for_update(ctx=ctx, obj=obj, old=old)
        # spec.finalizers change only through /finalize.
        old_finalizers = (old.get("spec") or {}).get("finalizers")
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            spec = obj["spec"] = {}
        if old_finalizers is None:
            spec.pop("finalizers", None)
        else:
            spec["finalizers"] = old_finalizers
        _label_namespace_name(obj)

    def finalize_strategy(self) -> Strategy:
        return NamespaceFinalizeStrategy(self)


class NamespaceFinalizeStrategy(StatusStrategy):
    """``PUT /api/v1/namespaces/<name>/finalize``: only ``spec.finalizers`` changes."""

    def prepare_for_update(self, *, ctx: Context, obj: Obj, old: Obj) -> None:
        finalizers = (obj.get("spec") or {}).get("finalizers")
        super().prepare_for_update(ctx=ctx, obj=obj, old=old)
        spec = dict(old.get("spec") or {})
        if finalizers is None:
            spec.pop("finalizers", None)
        else:
            spec["finalizers"] = finalizers
        obj["spec"] = spec
        if "status" in old:
            obj["status"] = old["status"]
        else:
            obj.pop("status", None)


def _label_namespace_name(obj: Obj) -> None:
    # Kubernetes labels every namespace with its own name so selectors can pick namespaces.
    meta = obj["metadata"]
    labels = meta.get("labels")
    if not isinstance(labels, dict):
        labels = meta["labels"] = {}
    name = meta.get("name")
    if isinstance(name, str) and name:
        labels[_NAMESPACE_NAME_LABEL] = name


class DeploymentStrategy(Strategy):
    tracks_generation = True

    def generation_inputs(self, obj: Obj) -> Any:
        # Annotations bump it too: the deployment controller copies them to ReplicaSets.
        return (obj.get("spec"), (obj.get("metadata") or {}).get("annotations"))


class GenerationStrategy(Strategy):
    tracks_generation = True


class JobStrategy(Strategy):
    tracks_generation = True
    # batch/v1 Jobs orphan their pods unless the client asks otherwise.
    gc_policy = GCPolicy.ORPHAN


class CreateOnUpdateStrategy(Strategy):
    allow_create_on_update = True


class EventStrategy(Strategy):
    allow_create_on_update = True
    gc_policy = GCPolicy.UNSUPPORTED


class ReturnObjectStrategy(Strategy):
    return_deleted_object = True


class CustomResourceStrategy(Strategy):
    """Objects with no built-in schema: Kubernetes' customResourceStrategy. Every change
    outside metadata (and status, when it is a subresource) bumps the generation."""

    tracks_generation = True
    supports_strategic_merge = False

    def prepare_for_create(self, *, ctx: Context, obj: Obj) -> None:
        if self.has_status:
            obj.pop("status", None)
        obj["metadata"]["generation"] = 1

    def generation_inputs(self, obj: Obj) -> Any:
        skip = ("metadata", "status") if self.has_status else ("metadata",)
        return {k: v for k, v in obj.items() if k not in skip}

    # No schema to check the body against, but metadata follows the common rules.
    def validate(self, *, ctx: Context, obj: Obj) -> list[str]:
        errors = kmeta.validate_object_meta(obj.get("metadata"), namespaced=self.info.namespaced)
        if errors:
            raise Invalid.of(kind=self.info.kind, group=self.info.group, name=_name(obj), errors=errors)
        return []

    def validate_update(self, *, ctx: Context, obj: Obj, old: Obj) -> list[str]:
        errors = kmeta.validate_object_meta_update(obj.get("metadata"), old.get("metadata"))
        if errors:
            raise Invalid.of(kind=self.info.kind, group=self.info.group, name=_name(obj), errors=errors)
        return []


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


_BY_RESOURCE: dict[tuple[str, str], type[Strategy]] = {
    ("", "pods"): PodStrategy,
    ("", "nodes"): NodeStrategy,
    ("", "services"): ServiceStrategy,
    ("", "namespaces"): NamespaceStrategy,
    ("", "endpoints"): CreateOnUpdateStrategy,
    ("", "events"): EventStrategy,
    ("", "serviceaccounts"): ReturnObjectStrategy,
    ("", "resourcequotas"): ReturnObjectStrategy,
    ("apps", "deployments"): DeploymentStrategy,
    ("apps", "replicasets"): GenerationStrategy,
    ("apps", "daemonsets"): GenerationStrategy,
    ("apps", "statefulsets"): GenerationStrategy,
    ("batch", "jobs"): JobStrategy,
    ("batch", "cronjobs"): GenerationStrategy,
    ("policy", "poddisruptionbudgets"): GenerationStrategy,
    ("coordination.k8s.io", "leases"): CreateOnUpdateStrategy,
    ("apiextensions.k8s.io", "customresourcedefinitions"): GenerationStrategy,
}

_BUILTIN_RESOURCES = frozenset((info.group, info.resource) for info in BUILTIN)


def register_strategy(*, group: str, resource: str, strategy: type[Strategy]) -> None:
    """Replace the strategy class of a resource (before the API server builds its stores)."""
    _BY_RESOURCE[(group, resource)] = strategy


def strategy_for(info: ResourceInfo) -> Strategy:
    cls = _BY_RESOURCE.get((info.group, info.resource))
    if cls is None:
        cls = Strategy if (info.group, info.resource) in _BUILTIN_RESOURCES else CustomResourceStrategy
    return cls(info)
