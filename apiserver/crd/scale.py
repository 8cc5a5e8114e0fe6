"""The ``scale`` subresource of a custom resource (``kubectl scale widget w --replicas=3``).

A CRD version with ``subresources.scale`` names where its objects keep the desired
replicas (``specReplicasPath``), the observed ones (``statusReplicasPath``) and
optionally a label selector as a string (``labelSelectorPath``). ``/scale`` shows the
object as an ``autoscaling/v1`` Scale built from those paths, and a write of a Scale
(PUT, or a merge/JSON/strategic patch of the Scale, as kubectl sends) sets only the
spec path of the object — through the object's own update path, so its schema and
CEL rules still apply and concurrent writers are compare-and-swapped as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apiserver import negotiation
from apiserver.registry import Reply, SubresourceRequest
from apiserver.registry.store import Transform, copy_obj
from apiserver.registry.subresources import ASGIResponse
from kube import crd as kcrd
from kube import patch as kpatch
from kube.errors import BadRequest, Conflict, Invalid, MethodNotAllowed, NotFound, invalid
from kube.resources import ResourceInfo

Obj = dict[str, Any]
SCALE_API_VERSION = "autoscaling/v1"


def scale_of(obj: Obj, scale: kcrd.Scale) -> Obj:
    meta = obj.get("metadata") or {}
    spec_replicas = kcrd.get_path(obj, scale.spec_replicas_path)
    status_replicas = kcrd.get_path(obj, scale.status_replicas_path)
    status: Obj = {"replicas": status_replicas if isinstance(status_replicas, int) else 0}
    if scale.label_selector_path:
        selector = kcrd.get_path(obj, scale.label_selector_path)
        if isinstance(selector, str) and selector:
            status["selector"] = selector
    out_meta = {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta}
    return {
        "kind": "Scale",
        "apiVersion": SCALE_API_VERSION,
        "metadata": out_meta,
        "spec": {"replicas": spec_replicas} if isinstance(spec_replicas, int) else {},
        "status": status,
    }


def _replicas(scale: Any, name: str) -> tuple[int, str]:
    """The replicas a written Scale asks for, and its resourceVersion ("" if unset)."""
    if not isinstance(scale, dict):
        raise BadRequest("the body of a scale request must be an autoscaling/v1 Scale object")
    if scale.get("kind") not in (None, "Scale") or scale.get("apiVersion") not in (None, SCALE_API_VERSION):
        raise BadRequest(f'{scale.get("kind")} in version "{scale.get("apiVersion")}" cannot be handled as a Scale')
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        raise Invalid.of(kind="Scale", group="autoscaling", name=name,
                         errors=[invalid("spec.replicas", replicas, "must be an integer")])
    if replicas < 0:
        raise Invalid.of(kind="Scale", group="autoscaling", name=name,
                         errors=[invalid("spec.replicas", replicas, "must be greater than or equal to 0")])
    return replicas, str((scale.get("metadata") or {}).get("resourceVersion") or "")


class ScaleHandler:
    """``/scale`` of every served version of one CRD; ``scale_of`` reads the paths of
    the version currently served (they may change with the CRD)."""

    verbs = frozenset({"get", "update", "patch"})

    def __init__(self, *, spec: Callable[[str], kcrd.Scale | None]) -> None:
        self._spec = spec

    async def __call__(self, request: SubresourceRequest) -> Reply | ASGIResponse:
        store, ctx = request.parent, request.ctx
        spec = self._spec(store.info.version)
        if spec is None:
            raise NotFound("the server could not find the requested resource")
        if request.verb == "get":
            return Reply(body=scale_of(await store.get(ctx), spec))
        if request.verb == "update":
            wanted = _replicas(request.object(), ctx.name)
            transform = self._transform(spec, info=store.info, name=ctx.name, replicas_of=lambda _current: wanted)
        elif request.verb == "patch":
            patch_type, patch = request.patch_type, request.patch()
            if patch_type == negotiation.APPLY_PATCH:
                raise negotiation.unsupported_patch_type(
                    patch_type, allowed=(negotiation.JSON_PATCH, negotiation.MERGE_PATCH,
                                         negotiation.STRATEGIC_MERGE_PATCH))

            def patched(current: Obj) -> tuple[int, str]:
                before = scale_of(current, spec)
                if patch_type == negotiation.JSON_PATCH:
                    after = kpatch.json_patch(before, patch)
                elif patch_type == negotiation.MERGE_PATCH:
                    after = kpatch.merge_patch(before, patch)
                else:
                    after = kpatch.strategic_merge_patch(before, patch, group="autoscaling", version="v1", kind="Scale")
                return _replicas(after, ctx.name)

            transform = self._transform(spec, info=store.info, name=ctx.name, replicas_of=patched)
        else:
            raise MethodNotAllowed()
        obj, _ = await store.guaranteed_update(ctx, transform)
        return Reply(body=scale_of(obj, spec))

    @staticmethod
    def _transform(
        spec: kcrd.Scale, *, info: ResourceInfo, name: str, replicas_of: Callable[[Obj], tuple[int, str]]
    ) -> Transform:
        async def transform(current: Obj | None) -> Obj:
            if not current:
                raise NotFound("the server could not find the requested resource")
            replicas, resource_version = replicas_of(current)
            current_rv = str(current["metadata"].get("resourceVersion") or "")
            if resource_version and resource_version != current_rv:
                raise Conflict.of(resource=info.resource, group=info.group, name=name)
            new = copy_obj(current)
            kcrd.set_path(new, spec.spec_replicas_path, replicas)
            return new

        return transform
