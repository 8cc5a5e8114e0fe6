"""``…/deployments/<name>/scale`` and ``…/replicasets/<name>/scale`` as autoscaling/v1 Scale.

``kubectl scale`` and the HorizontalPodAutoscaler change a workload's size without
knowing its kind, through one small shape: ``spec.replicas`` to set, ``status.replicas``
and ``status.selector`` (a label-selector string) to read. As Kubernetes' ``ScaleREST``,
every read builds the Scale from the parent; every write reads the parent, turns it into
its Scale, applies the request to that (a PUT replaces it, a PATCH patches it), checks
the result, and writes only ``spec.replicas`` back — inside the parent's
compare-and-swap loop and through the parent's own strategy, so the resourceVersion a
client sends is a precondition (409 when stale), the parent's ``generation`` goes up,
and its status is untouched.

Server-side apply to ``/scale`` is not supported (415): it would need the managedFields
translation between parent and Scale that Kubernetes' ScaleHandler does.
"""

from __future__ import annotations

from typing import Any

from apiserver import negotiation
from kube import labels
from kube import patch as kpatch
from kube.errors import BadRequest, Conflict, Details, Invalid, NotFound, StatusError, invalid

from ..context import Context
from ..store import ResourceStore, copy_obj
from ..strategy import Obj
from ..subresources import Reply, SubresourceRequest

SCALE_API_VERSION = "autoscaling/v1"
_PATCH_TYPES = (negotiation.JSON_PATCH, negotiation.MERGE_PATCH, negotiation.STRATEGIC_MERGE_PATCH)
_INT32_MAX = 2**31 - 1


def scale_of(parent: Obj) -> Obj:
    """The Scale of a Deployment or ReplicaSet (``scaleFromDeployment``)."""
    meta = parent.get("metadata") or {}
    spec = parent.get("spec") or {}
    status = parent.get("status") or {}
    selector_spec = spec.get("selector")
    try:
        selector = str(labels.from_label_selector(selector_spec if isinstance(selector_spec, dict) else None))
    except StatusError as err:
        raise BadRequest(err.message) from None
    scale_meta = {
        k: meta[k]
        for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if meta.get(k)
    }
    scale_spec: dict[str, Any] = {}
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas:
        scale_spec["replicas"] = replicas  # omitempty: 0 is left out, as Kubernetes encodes it
    scale_status: dict[str, Any] = {"replicas": status.get("replicas") or 0}
    if selector:
        scale_status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": SCALE_API_VERSION,
        "metadata": scale_meta,
        "spec": scale_spec,
        "status": scale_status,
    }


def _undecodable(detail: str) -> BadRequest:
    return BadRequest(f'Scale in version "v1" cannot be handled as a Scale: {detail}')


def check_scale(scale: Any, *, ctx: Context) -> tuple[int, Obj]:
    """(replicas, metadata) of a Scale a client sent or a patch produced."""
    if not isinstance(scale, dict):
        raise _undecodable("the object provided is unrecognized (must be of type Scale)")
    if scale.get("kind") not in (None, "Scale") or scale.get("apiVersion") not in (None, SCALE_API_VERSION):
        raise _undecodable(
            f'no kind "{scale.get("kind")}" is registered for version "{scale.get("apiVersion")}"'
        )
    meta = scale.get("metadata")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise _undecodable("json: cannot unmarshal into Go struct field Scale.metadata of type v1.ObjectMeta")
    spec = scale.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise _undecodable("json: cannot unmarshal into Go struct field Scale.spec of type v1.ScaleSpec")
    replicas = spec.get("replicas", 0)
    if replicas is None:
        replicas = 0
    if not isinstance(replicas, int) or isinstance(replicas, bool) or abs(replicas) > _INT32_MAX:
        raise _undecodable(
            "json: cannot unmarshal into Go struct field ScaleSpec.spec.replicas of type int32"
        )
    name = meta.get("name")
    if name and name != ctx.name:
        raise BadRequest(f"the name of the object ({name}) does not match the name on the URL ({ctx.name})")
    if meta.get("namespace") not in (None, "", ctx.namespace):
        raise BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if replicas < 0:
        raise Invalid.of(
            kind="Scale",
            group="autoscaling",
            name=ctx.name,
            errors=[invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
        )
    return replicas, meta


class _Refused(Exception):
    """Carries a Status out of the update loop as it is (the store would rewrite a
    Conflict naming ``deployments/scale``)."""

    def __init__(self, error: StatusError) -> None:
        super().__init__(error.message)
        self.error = error


class ScaleHandler:
    verbs = frozenset({"get", "update", "patch"})

    async def __call__(self, request: SubresourceRequest) -> Reply:
        store, ctx = request.parent, request.ctx
        if request.verb == "get":
            return Reply(body=scale_of(await store.get(ctx)))
        if request.verb == "update":
            sent = request.object()

            def new_scale(old: Obj) -> Any:
                return copy_obj(sent) if isinstance(sent, dict) else sent

        else:
            patch_type = request.patch_type
            if patch_type not in _PATCH_TYPES:
                raise negotiation.unsupported_patch_type(request.content_type, allowed=_PATCH_TYPES)
            patch = request.patch()
            new_scale = _patcher(patch_type, patch)
        return Reply(body=scale_of(await self._write(store, ctx, new_scale)))

    async def _write(self, store: ResourceStore, ctx: Context, new_scale: Any) -> Obj:
        info = store.info

        async def transform(current: Obj | None) -> Obj:
            if not current:
                raise NotFound.of(resource=info.resource, group=info.group, name=ctx.name)
            replicas, meta = check_scale(new_scale(scale_of(current)), ctx=ctx)
            parent = copy_obj(current)
            uid = meta.get("uid")
            if uid and uid != parent["metadata"].get("uid"):
                raise _Refused(
                    Conflict(
                        f'Operation cannot be fulfilled on {info.resource}/scale.{info.group} "{ctx.name}": '
                        f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                        f"{parent['metadata'].get('uid')}",
                        details=Details(name=ctx.name, group=info.group, kind=f"{info.resource}/scale"),
                    )
                )
            parent.setdefault("spec", {})["replicas"] = replicas
            sent_rv = meta.get("resourceVersion")
            if sent_rv:
                parent["metadata"]["resourceVersion"] = str(sent_rv)  # a precondition, checked by the store
            else:
                parent["metadata"].pop("resourceVersion", None)
            return parent

        try:
            obj, _ = await store.guaranteed_update(ctx, transform)
        except _Refused as refused:
            raise refused.error from None
        return obj


def _patcher(patch_type: str, patch: Any) -> Any:
    if patch_type == negotiation.JSON_PATCH:
        if not isinstance(patch, list):
            raise BadRequest("a JSON patch must be a JSON array of operations")
    elif not isinstance(patch, dict):
        raise BadRequest(f"a {patch_type} patch must be a JSON object")

    def apply(old: Obj) -> Any:
        if patch_type == negotiation.JSON_PATCH:
            return kpatch.json_patch(old, patch)
        if patch_type == negotiation.MERGE_PATCH:
            return kpatch.merge_patch(old, patch)
        return kpatch.strategic_merge_patch(old, patch, group="autoscaling", version="v1", kind="Scale")

    return apply
