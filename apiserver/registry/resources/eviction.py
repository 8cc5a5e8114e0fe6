"""``POST pods/<name>/eviction``: delete a pod only if its disruption budget allows it.

``kubectl drain`` evicts rather than deletes so that draining a node never takes down
more replicas of an application than its PodDisruptionBudget allows. The steps are
Kubernetes' ``EvictionREST.Create``:

1. A pod that is not running — Pending, Succeeded, Failed, or already being deleted —
   disrupts nothing, so it is deleted without looking at budgets (with its
   resourceVersion as precondition, so a pod that started running meanwhile is
   reconsidered; conflicts are retried).
2. Otherwise the budgets in the pod's namespace that select it are found. None: delete.
   More than one: refused — Kubernetes answers 500 with "This pod has more than one
   PodDisruptionBudget, which the eviction subresource does not support."; kubesim
   answers that message as **409 Conflict**, since it is the cluster's state, not the
   server, that is at fault, and no client retries it blindly.
3. With one budget, one disruption is spent (``pdb.spend``, a compare-and-swap on the
   budget's status), or the eviction is refused with 429 TooManyRequests and a
   ``DisruptionBudget`` cause, which kubectl drain retries every 5 s.
4. The pod is deleted with the eviction's DeleteOptions: gracefully, as any DELETE.

The answer is a ``Status`` of success (201). ``dryRun`` runs every check and writes
nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kube.errors import BadRequest, Cause, Conflict, Details, NotFound
from kube.resources import ResourceInfo

from ..context import Context
from ..options import DeleteOptions, ListOptions, PropagationPolicy
from ..store import ResourceStore
from ..strategy import Obj
from ..subresources import Reply, SubresourceRequest
from . import pdb

RETRIES = 20
RETRY_DELAY = 0.05
EVICTION_VERSIONS = (None, "policy/v1", "policy/v1beta1")
_SUCCESS_CREATED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
MORE_THAN_ONE = (
    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
)


def _typed(options: Obj, key: str, kind: type, what: str) -> Any:
    value = options.get(key)
    if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise BadRequest(f"Eviction.deleteOptions.{key} must be {what}")
    return value


def read_delete_options(body: Obj, *, request_dry_run: bool) -> DeleteOptions:
    """``Eviction.deleteOptions`` checked; the request's ``dryRun`` must agree with it."""
    raw = body.get("deleteOptions")
    if raw is None:
        return DeleteOptions(dry_run=request_dry_run)
    if not isinstance(raw, dict):
        raise BadRequest("Eviction.deleteOptions must be a DeleteOptions object")
    pre = _typed(raw, "preconditions", dict, "an object") or {}
    dry_run_values = _typed(raw, "dryRun", list, "a list of strings") or []
    if any(v != "All" for v in dry_run_values):
        raise BadRequest(
            f'Eviction.deleteOptions.dryRun: Unsupported value: {dry_run_values}: supported values: "All"'
        )
    body_dry_run = bool(dry_run_values)
    if dry_run_values and request_dry_run != body_dry_run:
        raise BadRequest(
            "Non-matching dry-run options in request and content: "
            f"{['All'] if request_dry_run else []} and {dry_run_values}"
        )
    policy_text = _typed(raw, "propagationPolicy", str, "a string")
    try:
        policy = PropagationPolicy(policy_text) if policy_text else None
    except ValueError:
        raise BadRequest(
            f'Eviction.deleteOptions.propagationPolicy: Unsupported value: "{policy_text}"'
        ) from None
    return DeleteOptions(
        grace_period_seconds=_typed(raw, "gracePeriodSeconds", int, "an integer"),
        propagation_policy=policy,
        orphan_dependents=_typed(raw, "orphanDependents", bool, "a boolean"),
        precondition_uid=_typed(pre, "uid", str, "a string"),
        precondition_resource_version=_typed(pre, "resourceVersion", str, "a string"),
        dry_run=request_dry_run or body_dry_run,
    )


def _with_resource_version(options: DeleteOptions, resource_version: str | None) -> DeleteOptions:
    return DeleteOptions(
        grace_period_seconds=options.grace_period_seconds,
        propagation_policy=options.propagation_policy,
        orphan_dependents=options.orphan_dependents,
        precondition_uid=options.precondition_uid,
        precondition_resource_version=resource_version,
        dry_run=options.dry_run,
    )


def can_ignore_budgets(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(pod["metadata"].get("deletionTimestamp"))


def _must_pin_version(pod: Obj) -> bool:
    # A Pending pod could become ready between our read and the delete.
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


class EvictionHandler:
    verbs = frozenset({"create"})

    def __init__(self, *, pdb_info: ResourceInfo) -> None:
        self.pdb_info = pdb_info

    async def __call__(self, request: SubresourceRequest) -> Reply:
        body = request.object()
        if not isinstance(body, dict):
            raise BadRequest("the object provided is unrecognized (must be of type Eviction)")
        if body.get("kind") not in (None, "Eviction") or body.get("apiVersion") not in EVICTION_VERSIONS:
            raise BadRequest(f"not a Eviction object: {body.get('apiVersion')}, Kind={body.get('kind')}")
        raw_meta = body.get("metadata")
        meta: Obj = raw_meta if isinstance(raw_meta, dict) else {}
        ctx, pods = request.ctx, request.parent
        if meta.get("name") != ctx.name:
            raise BadRequest("name in URL does not match name in Eviction object")
        options = read_delete_options(body, request_dry_run=ctx.dry_run)
        ctx.dry_run = options.dry_run
        pod = await self._delete_if_not_running(pods, ctx, options)
        if pod is not None:
            await self._evict_running(request, pods, ctx, pod, options)
        return Reply(body=dict(_SUCCESS_CREATED), status=201)

    async def _delete_if_not_running(
        self, pods: ResourceStore, ctx: Context, options: DeleteOptions
    ) -> Obj | None:
        """Delete a pod that disrupts nothing; returns the pod when budgets must decide."""
        retry = options.precondition_resource_version is None
        for attempt in range(RETRIES):
            pod = await pods.get(ctx)
            if not can_ignore_budgets(pod):
                return pod
            pinned = options
            if _must_pin_version(pod) and options.precondition_resource_version is None:
                pinned = _with_resource_version(options, pod["metadata"].get("resourceVersion"))
            try:
                await pods.delete(ctx, options=pinned)
            except Conflict:
                if not retry or attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(RETRY_DELAY)
                continue
            return None
        raise AssertionError("unreachable")

    async def _evict_running(
        self, request: SubresourceRequest, pods: ResourceStore, ctx: Context, pod: Obj, options: DeleteOptions
    ) -> None:
        budgets = request.api.store_for(self.pdb_info)
        scope = ctx.child(info=budgets.info, namespace=ctx.namespace, name="")
        listed = await budgets.list(scope, options=ListOptions())
        covering = pdb.matching(listed.items, pod)
        if len(covering) > 1:
            raise Conflict(
                MORE_THAN_ONE,
                details=Details(
                    name=ctx.name,
                    kind="pods",
                    causes=(Cause(reason=pdb.DISRUPTION_BUDGET_CAUSE, message=MORE_THAN_ONE),),
                ),
            )
        delete_options = options
        pinned = False
        if covering:
            budget = covering[0]
            name = budget["metadata"]["name"]
            if pdb.unready_pod_is_spare(budget, pod):
                # Nothing to spend, but the pod must still be unready when it goes.
                pinned = options.precondition_resource_version is None
                if pinned:
                    delete_options = _with_resource_version(options, pod["metadata"].get("resourceVersion"))
            else:
                await self._spend(
                    budgets,
                    ctx.child(info=budgets.info, namespace=ctx.namespace, name=name, subresource="status"),
                    pod_name=ctx.name,
                )
        try:
            await pods.delete(ctx, options=delete_options)
        except Conflict:
            if pinned:
                raise pdb.still_processing(covering[0]["metadata"]["name"]) from None
            raise

    async def _spend(self, budgets: ResourceStore, ctx: Context, *, pod_name: str) -> None:
        dry_run = ctx.dry_run

        async def transform(current: Obj | None) -> Obj:
            if not current:  # deleted since it was listed
                raise NotFound.of(resource=budgets.info.resource, group=budgets.info.group, name=ctx.name)
            return pdb.spend(current, pod_name=pod_name, dry_run=dry_run)

        await budgets.guaranteed_update(ctx, transform, strategy=budgets.strategy.status_strategy())
