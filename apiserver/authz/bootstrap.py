"""Put the bootstrap RBAC policy in place at every start, reconciled as Kubernetes does.

kube-apiserver's RBAC post-start hook reconciles each default role and binding rather
than only creating missing ones, so that an upgrade adds new permissions to roles a
cluster already has, while an operator's own additions survive:

- a missing role or binding is created;
- an existing one annotated ``rbac.authorization.kubernetes.io/autoupdate: "false"``
  is left alone (the operator took it over);
- otherwise missing labels and annotations are added, missing rules appended (rules
  the role already covers are not duplicated; extra rules are kept), missing
  aggregation selectors and binding subjects added, and a binding whose ``roleRef``
  changed is deleted and recreated (``roleRef`` is immutable).

Running it twice changes nothing the second time.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from apiserver.registry import DeleteOptions
from kube.errors import AlreadyExists, Conflict, NotFound

from . import policy
from .internal import internal_context, rbac_store
from .rules import compile_rules, uncovered

logger = logging.getLogger(__name__)
MANAGER = "kube-apiserver"
Obj = dict[str, Any]


def _merged_meta(current: Obj, expected: Obj) -> Obj:
    meta = dict(current["metadata"])
    for field in ("labels", "annotations"):
        merged = {**(expected["metadata"].get(field) or {}), **(meta.get(field) or {})}
        if merged:
            meta[field] = merged
    return meta


def reconcile_role(current: Obj, expected: Obj) -> Obj | None:
    """The role to store, or None when ``current`` needs nothing."""
    if (current["metadata"].get("annotations") or {}).get(policy.AUTOUPDATE) == "false":
        return None
    out = {**current, "metadata": _merged_meta(current, expected)}
    rules = list(current.get("rules") or [])
    if "aggregationRule" in expected:
        # Aggregated roles' rules belong to the aggregator; only the selectors are ours.
        selectors = list((current.get("aggregationRule") or {}).get("clusterRoleSelectors") or [])
        for selector in expected["aggregationRule"]["clusterRoleSelectors"]:
            if selector not in selectors:
                selectors.append(selector)
        out["aggregationRule"] = {"clusterRoleSelectors": selectors}
    else:
        have = compile_rules(rules)
        for rule in expected.get("rules") or ():
            if uncovered(have, compile_rules([rule])):
                rules.append(rule)
        out["rules"] = rules
    return None if out == current else out


def reconcile_binding(current: Obj, expected: Obj) -> Obj | None:
    if (current["metadata"].get("annotations") or {}).get(policy.AUTOUPDATE) == "false":
        return None
    subjects = list(current.get("subjects") or [])
    for subject in expected.get("subjects") or ():
        if subject not in subjects:
            subjects.append(subject)
    out = {**current, "metadata": _merged_meta(current, expected), "subjects": subjects}
    return None if out == current else out


async def _ensure(api: Any, resource: str, expected: Obj, *, binding: bool) -> str | None:
    """Create or reconcile one object; returns what was done, for the log."""
    store = rbac_store(api, resource)
    name = expected["metadata"]["name"]
    ctx = internal_context(store, name=name, manager=MANAGER)
    try:
        await store.create(ctx, _copy(expected))
        return f"created {resource}/{name}"
    except AlreadyExists:
        pass
    try:
        current = await store.get(ctx)
    except NotFound:
        return None  # deleted meanwhile; the next start recreates it
    if binding and current.get("roleRef") != expected.get("roleRef"):
        if (current["metadata"].get("annotations") or {}).get(policy.AUTOUPDATE) == "false":
            return None
        await store.delete(ctx, options=DeleteOptions())
        await store.create(internal_context(store, name=name, manager=MANAGER), _copy(expected))
        return f"recreated {resource}/{name} (roleRef changed)"
    reconcile = reconcile_binding if binding else reconcile_role
    if reconcile(current, expected) is None:
        return None

    async def transform(now: Obj | None) -> Obj:
        if now is None:
            raise NotFound.of(resource=resource, group=policy.GROUP, name=name)
        return reconcile(now, expected) or now

    try:
        await store.guaranteed_update(ctx, transform)
    except (NotFound, Conflict):
        return None
    return f"reconciled {resource}/{name}"


def _copy(obj: Obj) -> Obj:
    copied: Obj = orjson.loads(orjson.dumps(obj))
    return copied


async def reconcile_policy(api: Any) -> list[str]:
    """Ensure every bootstrap ClusterRole and ClusterRoleBinding; returns what changed."""
    done: list[str] = []
    for role in policy.cluster_roles():
        outcome = await _ensure(api, "clusterroles", role, binding=False)
        if outcome:
            done.append(outcome)
    for binding in policy.cluster_role_bindings():
        outcome = await _ensure(api, "clusterrolebindings", binding, binding=True)
        if outcome:
            done.append(outcome)
    if done:
        logger.info("RBAC bootstrap: %d change(s), e.g. %s", len(done), done[0])
    return done
