"""Pods: graceful deletion, and binding a pod to a node.

**Graceful deletion.** A pod that runs on a node has processes that need time to stop,
so DELETE only marks it: ``deletionTimestamp`` = now + grace and
``deletionGracePeriodSeconds`` = grace, taken from ``gracePeriodSeconds`` of the
DeleteOptions or else ``spec.terminationGracePeriodSeconds`` (defaulted to 30). The
node's kubelet stops the containers and finishes with a DELETE of grace 0; a DELETE with
a shorter grace moves the deadline earlier. A pod that never reached a node, or whose
containers already ended (``Succeeded``/``Failed``), has nothing to stop and goes at
once (Kubernetes' ``podStrategy.CheckGracefulDelete``). The generic deletion code does
the marking; this strategy only decides the period. A period of 0 removes the pod in one
write: Kubernetes first stores the deletionTimestamp (grace 0) and then deletes, which
shows watchers one more MODIFIED event but no different outcome.

**Binding.** The scheduler's decision is a ``Binding`` POSTed to ``pods/<name>/binding``
(or, the older way, to ``bindings``). It sets ``spec.nodeName`` exactly once, inside
the compare-and-swap loop so two schedulers racing for one pod cannot both win, and
marks the pod ``PodScheduled=True``. A pod already bound, being deleted, or still gated
(``spec.schedulingGates``) answers 409 in Kubernetes' words. The write goes through a
strategy of its own: the pod's normal update rules forbid changing ``spec.nodeName``
and would restore the status, which is exactly what a binding must change.
"""

from __future__ import annotations

from typing import Any

from kube import meta as kmeta
from kube.errors import BadRequest, Conflict, Details, FieldError, Invalid, NotFound, not_supported, required
from kube.resources import ResourceInfo

from .. import strategies
from ..context import Context
from ..options import DeleteOptions
from ..store import ResourceStore
from ..strategy import Obj, Strategy
from ..subresources import Reply, SubresourceRequest

TERMINAL_PHASES = ("Succeeded", "Failed")
_SUCCESS_CREATED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


class PodStrategy(strategies.PodStrategy):
    supports_graceful_deletion = True

    def check_graceful_delete(self, *, ctx: Context, obj: Obj, options: DeleteOptions) -> int | None:
        """Seconds to wait for the kubelet, or None to delete now."""
        raw_spec = obj.get("spec")
        spec: Obj = raw_spec if isinstance(raw_spec, dict) else {}
        if options.grace_period_seconds is not None:
            period = options.grace_period_seconds
        else:
            default = spec.get("terminationGracePeriodSeconds")
            period = default if isinstance(default, int) and not isinstance(default, bool) else 0
        if not spec.get("nodeName"):
            period = 0  # never scheduled: no process to stop
        status = obj.get("status")
        if isinstance(status, dict) and status.get("phase") in TERMINAL_PHASES:
            period = 0  # its containers already ended
        return period if period > 0 else None


class BindingStrategy(Strategy):
    """The pod write a binding makes: server-decided fields only, so neither the pod's
    update validation nor its status reset applies (Kubernetes writes it to storage
    directly)."""

    def prepare_for_update(self, *, ctx: Context, obj: Obj, old: Obj) -> None:
        pass

    def validate_update(self, *, ctx: Context, obj: Obj, old: Obj) -> list[str]:
        return []


class _Refused(Exception):
    """Carries a Status out of the update loop unchanged (the store would rename a
    Conflict about ``pods/binding`` into one about ``pods``)."""

    def __init__(self, error: Conflict) -> None:
        super().__init__(error.message)
        self.error = error


def binding_conflict(*, name: str, err: str) -> Conflict:
    return Conflict(
        f'Operation cannot be fulfilled on pods/binding "{name}": {err}',
        details=Details(name=name, kind="pods/binding"),
    )


def set_condition(status: Obj, *, type_: str, value: str, now: str) -> None:
    """Kubernetes' ``UpdatePodCondition``: replace the condition, keeping its transition
    time when its status does not change."""
    conditions = status.get("conditions")
    if not isinstance(conditions, list):
        conditions = status["conditions"] = []
    condition: dict[str, Any] = {
        "type": type_,
        "status": value,
        "lastProbeTime": None,
        "lastTransitionTime": now,
    }
    for index, old in enumerate(conditions):
        if isinstance(old, dict) and old.get("type") == type_:
            if old.get("status") == value and old.get("lastTransitionTime"):
                condition["lastTransitionTime"] = old["lastTransitionTime"]
            conditions[index] = condition
            return
    conditions.append(condition)


def _binding_errors(target: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    target = target if isinstance(target, dict) else {}
    kind = target.get("kind")
    if kind not in (None, "", "Node"):
        errors.append(not_supported("target.kind", kind, ["Node", "<empty>"]))
    if not isinstance(target.get("name"), str) or not target.get("name"):
        errors.append(required("target.name"))
    return errors


def read_binding(body: Any, *, namespace: str) -> tuple[str, Obj]:
    """(pod name, Binding) from a request body, checked as Kubernetes checks it."""
    if not isinstance(body, dict):
        raise BadRequest("the object provided is unrecognized (must be of type Binding)")
    if body.get("kind") not in (None, "Binding") or body.get("apiVersion") not in (None, "v1"):
        raise BadRequest(f"not a Binding object: {body.get('apiVersion')}, Kind={body.get('kind')}")
    raw_meta = body.get("metadata")
    meta: Obj = raw_meta if isinstance(raw_meta, dict) else {}
    if meta.get("namespace") not in (None, "", namespace):
        raise BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    raw_name = meta.get("name")
    name = raw_name if isinstance(raw_name, str) else ""
    errors = _binding_errors(body.get("target"))
    if errors:
        raise Invalid.of(kind="Binding", name=name, errors=errors)
    return name, body


async def bind(*, pods: ResourceStore, ctx: Context, binding: Obj) -> Obj:
    """Assign the pod ``ctx`` names to ``binding.target.name``; returns the pod."""
    meta = binding.get("metadata") or {}
    node: str = binding["target"]["name"]
    want_uid, want_rv = meta.get("uid"), meta.get("resourceVersion")
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    name = ctx.name

    async def assign(current: Obj | None) -> Obj:
        if not current:
            raise NotFound.of(resource="pods", name=name)
        # Copy only what the binding changes (metadata, spec, status and its conditions):
        # the store compares the result with ``current``, so neither may share a changed
        # level, but the containers and the rest can be shared — a deep copy of the
        # whole pod cost more than the rest of the transform.
        pod = dict(current)
        pod_meta = pod["metadata"] = dict(current.get("metadata") or {})
        if want_uid and want_uid != pod_meta.get("uid"):
            raise _Refused(
                Conflict.of(
                    resource="pods",
                    name=name,
                    err=f"Precondition failed: UID in precondition: {want_uid}, "
                    f"UID in object meta: {pod_meta.get('uid')}",
                )
            )
        if want_rv and str(want_rv) != str(pod_meta.get("resourceVersion")):
            raise _Refused(Conflict.of(resource="pods", name=name))
        spec = pod["spec"] = dict(current.get("spec") or {})
        if pod_meta.get("deletionTimestamp"):
            raise _Refused(
                binding_conflict(name=name, err=f"pod {name} is being deleted, cannot be assigned to a host")
            )
        if spec.get("nodeName"):
            raise _Refused(
                binding_conflict(
                    name=name, err=f'pod {name} is already assigned to node "{spec["nodeName"]}"'
                )
            )
        if spec.get("schedulingGates"):
            raise _Refused(binding_conflict(name=name, err=f"pod {name} has non-empty .spec.schedulingGates"))
        spec["nodeName"] = node
        if annotations:
            pod_meta["annotations"] = {**(pod_meta.get("annotations") or {}), **annotations}
        old_status = current.get("status")
        status = pod["status"] = dict(old_status) if isinstance(old_status, dict) else {}
        if isinstance(status.get("conditions"), list):
            status["conditions"] = list(status["conditions"])  # set_condition replaces an item
        set_condition(status, type_="PodScheduled", value="True", now=kmeta.now())
        return pod

    try:
        pod, _ = await pods.guaranteed_update(
            ctx, assign, strategy=BindingStrategy(pods.info), track_managed_fields=False
        )
    except _Refused as refused:
        raise refused.error from None
    return pod


class BindingHandler:
    """``POST pods/<name>/binding`` and ``POST bindings``: both answer a Status (201)."""

    verbs = frozenset({"create"})

    def __init__(self, *, pods_info: ResourceInfo, named_by_url: bool) -> None:
        self.pods_info = pods_info
        self.named_by_url = named_by_url
        """True for ``pods/<name>/binding``: the URL names the pod and the body must agree."""

    async def __call__(self, request: SubresourceRequest) -> Reply:
        ctx = request.ctx
        name, binding = read_binding(request.object(), namespace=ctx.namespace)
        if self.named_by_url and name != ctx.name:
            raise BadRequest("name in URL does not match name in Binding object")
        if not name:
            raise Invalid.of(
                kind="Binding",
                name="",
                errors=[required("metadata.name", "name or generateName is required")],
            )
        pods = request.api.store_for(self.pods_info)
        child = ctx.child(info=pods.info, namespace=ctx.namespace, name=name, subresource="binding")
        await bind(pods=pods, ctx=child, binding=binding)
        return Reply(body=dict(_SUCCESS_CREATED), status=201)
