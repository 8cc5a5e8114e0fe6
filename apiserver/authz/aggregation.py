"""Aggregated ClusterRoles: keep each one's rules the union of the roles it selects.

In Kubernetes this is the clusterrole-aggregation controller, a client of the API
server. Here it runs inside the API server, driven by the clusterroles watch cache:
whenever any ClusterRole changes, every role with an ``aggregationRule`` is recomputed
(sorted by name, each selected role's rules appended unless already present, as the
controller does) and written back if it differs. Writing the rules, rather than
evaluating aggregation at authorization time, keeps what ``kubectl get clusterrole
admin -o yaml`` shows equal to what is enforced, and lets aggregation chain (``view``
→ ``edit`` → ``admin``): each write is itself a change that triggers the next pass
until nothing differs.

Selecting roles by label means whoever may label a ClusterRole may extend ``edit``;
that is why creating or changing an ``aggregationRule`` needs cluster-admin authority
(see ``escalation.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from apiserver.background import BackgroundLoop
from kube import labels as klabels
from kube.errors import Conflict, NotFound, StatusError

from .internal import internal_context, rbac_store

logger = logging.getLogger(__name__)
Obj = dict[str, Any]


def aggregated_rules(role: Obj, roles: list[Obj]) -> list[Obj] | None:
    """The rules ``role`` should hold, or None when it does not aggregate."""
    rule_spec = role.get("aggregationRule")
    if not isinstance(rule_spec, dict):
        return None
    selectors = []
    for raw in rule_spec.get("clusterRoleSelectors") or ():
        try:
            selectors.append(klabels.from_label_selector(raw))
        except StatusError:
            continue  # validation refuses these on write; an old one selects nothing
    name = role["metadata"]["name"]
    out: list[Obj] = []
    for other in sorted(roles, key=lambda r: r["metadata"]["name"]):
        if other["metadata"]["name"] == name:
            continue
        other_labels = other["metadata"].get("labels") or {}
        if not any(s.matches(other_labels) for s in selectors):
            continue
        for rule in other.get("rules") or ():
            if rule not in out:
                out.append(rule)
    return out


async def aggregate_once(api: Any) -> int:
    """One pass over every aggregated ClusterRole; returns how many were rewritten.
    Reads storage-fresh objects (the caches may lag a write made a moment ago)."""
    store = rbac_store(api, "clusterroles")
    listed = await store.storage.list(store.prefix())
    roles = list(listed.items)
    written = 0
    for role in roles:
        wanted = aggregated_rules(role, roles)
        if wanted is None or (role.get("rules") or []) == wanted:
            continue
        name = role["metadata"]["name"]

        async def transform(current: Obj | None, wanted: list[Obj] = wanted) -> Obj:
            if current is None:
                raise NotFound.of(resource="clusterroles", group="rbac.authorization.k8s.io", name="")
            return {**current, "rules": wanted}

        try:
            await store.guaranteed_update(internal_context(store, name=name, manager="clusterrole-aggregator"), transform)
            written += 1
        except (NotFound, Conflict):
            continue  # deleted or changed meanwhile: the next pass sees it
    return written


class AggregationUpdater(BackgroundLoop):
    """Re-aggregates whenever the clusterroles cache moves; one pass at a time."""

    task_name = "clusterrole-aggregation"

    def __init__(self, api: Any, *, settle: float = 0.05) -> None:
        self._api = api
        self._settle = settle
        super().__init__()

    async def converge(self, *, passes: int = 5) -> None:
        """Aggregate until nothing changes (chains like view → edit → admin need a pass each)."""
        for _ in range(passes):
            if not await aggregate_once(self._api):
                return

    async def _run(self) -> None:
        cacher = rbac_store(self._api, "clusterroles").cacher
        assert cacher is not None  # every stored resource has one
        while True:
            try:
                async with cacher.watch(revision=cacher.revision) as watcher:
                    async for _ in watcher:
                        while watcher.pending:  # a burst of changes is one pass
                            await anext(watcher)
                        await self.converge()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("clusterrole aggregation failed; retrying")
            await asyncio.sleep(self._settle)  # the watch ended (cache relist or stop)
