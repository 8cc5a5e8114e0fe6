"""PATCH bodies turned into the transform the store's update loop applies.

Each flavour (JSON patch, merge patch, strategic merge patch, server-side apply) is
applied by ``kube.patch`` to the object as currently stored, on every attempt of the
compare-and-swap loop, so two concurrent patches each see the other's result instead of
overwriting it. The patched object must still be the object the URL names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from apiserver import negotiation
from kube import patch as kpatch
from kube.errors import BadRequest, NotFound
from kube.resources import ResourceInfo

from . import objectmeta
from .context import Context
from .strategy import Obj, Strategy

Transform = Callable[[Obj | None], Awaitable[Obj]]


def transform(
    *, info: ResourceInfo, ctx: Context, strategy: Strategy, patch_type: str, patch: Any, force: bool
) -> Transform:
    """Check the patch's shape for its type and return the function that applies it."""
    if patch_type == negotiation.STRATEGIC_MERGE_PATCH and not strategy.supports_strategic_merge:
        raise negotiation.unsupported_patch_type(
            patch_type, allowed=(negotiation.JSON_PATCH, negotiation.MERGE_PATCH, negotiation.APPLY_PATCH)
        )
    if patch_type == negotiation.JSON_PATCH:
        if not isinstance(patch, list):
            raise BadRequest("a JSON patch must be a JSON array of operations")
    elif not isinstance(patch, dict):
        raise BadRequest(f"a {patch_type} patch must be a JSON object")
    applying = patch_type == negotiation.APPLY_PATCH

    # kube.patch never mutates its inputs, so ``current`` stays pristine for the no-op
    # comparison the update makes afterwards.
    async def apply(current: Obj | None) -> Obj:
        base = current or None
        if applying:
            new = kpatch.apply_patch(
                base,
                patch,
                manager=ctx.field_manager,
                force=force,
                group=info.group,
                version=info.version,
                kind=info.kind,
                subresource=ctx.subresource,
            )
        elif base is None:
            raise NotFound.of(resource=info.resource, group=info.group, name=ctx.name)
        elif patch_type == negotiation.JSON_PATCH:
            new = kpatch.json_patch(base, patch)
        elif patch_type == negotiation.MERGE_PATCH:
            new = kpatch.merge_patch(base, patch)
        else:
            new = kpatch.strategic_merge_patch(base, patch, group=info.group, version=info.version, kind=info.kind)
        new = objectmeta.check_kind(info=info, obj=new)
        objectmeta.match_name(obj=new, name=ctx.name)
        objectmeta.match_namespace(info=info, obj=new, namespace=ctx.namespace)
        return new

    return apply
