"""Small pieces several plugins share: score normalization and argument reading."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from scheduler.framework.interfaces import MAX_NODE_SCORE


def default_normalize_score(scores: list[int], *, reverse: bool, max_priority: int = MAX_NODE_SCORE) -> None:
    """Kubernetes' ``helper.DefaultNormalizeScore``: scale so the best node gets
    ``max_priority`` (integer division); with ``reverse`` the fewest points win."""
    highest = max(scores, default=0)
    if highest == 0:
        if reverse:
            scores[:] = [max_priority] * len(scores)
        return
    for i, score in enumerate(scores):
        value = max_priority * score // highest
        scores[i] = max_priority - value if reverse else value


def int_arg(
    args: Mapping[str, Any], key: str, default: int, *, low: int | None = None, high: int | None = None
) -> int:
    value = args.get(key, default)
    if value is None:
        value = default
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key}: Invalid value: {value!r}: must be an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{key}: Invalid value: {value}: not in valid range [{low}-{high}]")
    return value


class NodeMemo:
    """Per-node results of one plugin, remembered by (pod signature, node generation).

    A node's generation changes with every change to the node or its pods, so a result
    keyed by it can never be stale; pods with the same request (a Deployment's replicas)
    share a signature. Between two cycles only the node the previous pod went to
    changes, so for a stream of similar pods nearly every per-node computation becomes
    one dictionary lookup — the idea behind Kubernetes' opportunistic batching of pods
    with equal signatures. Memory is bounded: a table is dropped when it grows past
    ``limit`` entries, and the oldest signature when there are too many.
    """

    enabled = True

    def __init__(self, *, limit: int = 50_000, signatures: int = 64) -> None:
        self.limit = limit
        self.signatures = signatures
        self._tables: dict[Any, dict[int, Any]] = {}

    def table(self, signature: Any) -> dict[int, Any]:
        table = self._tables.get(signature)
        if table is None or len(table) > self.limit:
            if table is None and len(self._tables) >= self.signatures:
                self._tables.pop(next(iter(self._tables)))
            table = self._tables[signature] = {}
        return table

    def lookup(self, signature: Any, nodes: Sequence[Any]) -> tuple[dict[int, Any], list[Any]]:
        """The table to record new results in, and the remembered result per node
        (MISSING where there is none). With memoization off, an unshared table and
        every node MISSING, so callers run one code path either way."""
        if not NodeMemo.enabled:
            return {}, [MISSING] * len(nodes)
        table = self.table(signature)
        return table, remembered(table, nodes)

    def clear(self) -> None:
        self._tables.clear()


_GENERATION = operator.attrgetter("generation")
MISSING: Any = object()
"""What :func:`remembered` answers for a node with no remembered result."""


def remembered(table: dict[int, Any], nodes: Sequence[Any]) -> list[Any]:
    """The remembered result for each node (by generation), MISSING where there is none;
    the lookups run in C (``map``), which is the point."""
    return list(map(table.get, map(_GENERATION, nodes), itertools.repeat(MISSING, len(nodes))))


class _AllTraits:
    """Every trait present: the safe answer when there is no snapshot to ask."""

    unschedulable = tainted = with_prefer_no_schedule = with_images = 1


def traits(handle: Any) -> Any:
    """The snapshot's :class:`~scheduler.internal.snapshot.NodeTraits` (never stale: the
    cache keeps the counts with each copied node)."""
    snapshot = handle.snapshot() if handle is not None else None
    return getattr(snapshot, "traits", None) or _AllTraits
