"""Subresources of the fake API that controllers use: ``scale``, ``binding``, ``eviction``.

``scale`` shows an object as an ``autoscaling/v1`` Scale — Deployments and ReplicaSets
from ``spec.replicas``, custom resources from their CRD's replica paths — and writing a
Scale changes only the replicas. ``binding`` sets a pod's node (what a scheduler
posts); ``eviction`` deletes a pod (without PodDisruptionBudget checks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kube import crd as kcrd
from kube import labels as klabels
from kube import patch as kpatch
from kube.errors import BadRequest, Conflict, Invalid, MethodNotAllowed, NotFound, invalid

if TYPE_CHECKING:
    from .api import FakeAPI
    from .kinds import Kind

Obj = dict[str, Any]
_BUILTIN_SCALE = frozenset({("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets")})


def _paths(kind: Kind) -> kcrd.Scale:
    if kind.custom is not None and kind.custom.scale is not None:
        return kind.custom.scale
    if (kind.info.group, kind.info.resource) in _BUILTIN_SCALE:
        return kcrd.Scale(spec_replicas_path=".spec.replicas", status_replicas_path=".status.replicas")
    raise NotFound("the server could not find the requested resource")


def scale_of(kind: Kind, obj: Obj) -> Obj:
    paths = _paths(kind)
    meta = obj["metadata"]
    spec_replicas = kcrd.get_path(obj, paths.spec_replicas_path)
    status_replicas = kcrd.get_path(obj, paths.status_replicas_path)
    status: Obj = {"replicas": status_replicas if isinstance(status_replicas, int) else 0}
    if paths.label_selector_path:
        selector = kcrd.get_path(obj, paths.label_selector_path)
        if isinstance(selector, str) and selector:
            status["selector"] = selector
    elif isinstance((obj.get("spec") or {}).get("selector"), dict):
        status["selector"] = str(klabels.from_label_selector(obj["spec"]["selector"]))
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": spec_replicas} if isinstance(spec_replicas, int) else {},
        "status": status,
    }


def _set_replicas(api: FakeAPI, kind: Kind, scale: Any, *, name: str, namespace: str, dry_run: bool,
                  field_manager: str) -> Obj:
    if not isinstance(scale, dict):
        raise BadRequest("the body of a scale request must be an autoscaling/v1 Scale object")
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise Invalid.of(kind="Scale", group="autoscaling", name=name,
                         errors=[invalid("spec.replicas", replicas, "must be greater than or equal to 0")])
    current = api.get(kind.info, name=name, namespace=namespace)
    sent = (scale.get("metadata") or {}).get("resourceVersion")
    if sent and sent != current["metadata"].get("resourceVersion"):
        raise Conflict.of(resource=kind.info.resource, group=kind.info.group, name=name)
    new = api.get(kind.info, name=name, namespace=namespace)
    kcrd.set_path(new, _paths(kind).spec_replicas_path, replicas)
    stored = api.write(kind, new, current, subresource="scale", dry_run=dry_run, field_manager=field_manager)
    return scale_of(kind, stored)


def update_scale(api: FakeAPI, kind: Kind, scale: Obj, *, namespace: str, dry_run: bool, field_manager: str) -> Obj:
    name = (scale.get("metadata") or {}).get("name") or ""
    return _set_replicas(api, kind, scale, name=name, namespace=namespace, dry_run=dry_run,
                         field_manager=field_manager)


def patch_scale(api: FakeAPI, kind: Kind, *, name: str, namespace: str, patch: Any, patch_type: str, dry_run: bool,
                field_manager: str) -> Obj:
    before = scale_of(kind, api.get(kind.info, name=name, namespace=namespace))
    if patch_type == "json":
        after = kpatch.json_patch(before, patch)
    elif patch_type == "merge":
        after = kpatch.merge_patch(before, patch)
    elif patch_type == "strategic":
        after = kpatch.strategic_merge_patch(before, patch, group="autoscaling", version="v1", kind="Scale")
    else:
        raise MethodNotAllowed("apply patches of /scale are not supported")
    return _set_replicas(api, kind, after, name=name, namespace=namespace, dry_run=dry_run,
                         field_manager=field_manager)


def post(api: FakeAPI, kind: Kind, *, name: str, namespace: str, subresource: str, body: Obj) -> Obj:
    if (kind.info.group, kind.info.resource) != ("", "pods"):
        raise NotFound("the server could not find the requested resource")
    if subresource == "binding":
        node = ((body.get("target") or {}).get("name")) or ""
        current = api.get(kind.info, name=name, namespace=namespace)
        if current.get("spec", {}).get("nodeName"):
            raise Conflict.of(resource="pods", name=name,
                              err=f"pod {name} is already assigned to node \"{current['spec']['nodeName']}\"")
        # As the binding REST storage: set the node directly, outside the pod's update rules.
        current["spec"]["nodeName"] = node
        api.store.put(api.key(kind, namespace=namespace, name=name), current)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    if subresource == "eviction":
        api.delete(kind.info, name=name, namespace=namespace)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    raise NotFound("the server could not find the requested resource")
