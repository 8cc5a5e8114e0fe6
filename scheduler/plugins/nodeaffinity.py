"""NodeAffinity: ``nodeSelector`` and required node affinity filter; preferred node
affinity scores.

Filter rejects a node that does not match as UnschedulableAndUnresolvable (evicting pods
cannot change a node's labels). When every required term pins ``metadata.name``,
PreFilter narrows the candidates to those nodes before any Filter runs. Score is the sum
of the weights of the preferred terms a node matches, scaled so the best node gets 100.
``addedAffinity`` in the plugin args applies to every pod of the profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scheduler.framework.cycle_state import CycleState
from scheduler.framework.events import NODE, ActionType, ClusterEvent, ClusterEventWithHint, QueueingHint
from scheduler.framework.interfaces import PreFilterExtensions, PreFilterResult
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.nodeselector import (
    NodeSelector,
    NodeSelectorTerm,
    PreferredTerm,
    RequiredNodeAffinity,
    preferred_terms,
)
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Status

from .helpers import default_normalize_score

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
ERR_REASON_CONFLICT = "pod affinity terms conflict"
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME


class NodeAffinity:
    name = NAME

    def __init__(self, args: dict[str, Any]) -> None:
        added = args.get("addedAffinity") or {}
        required = added.get("requiredDuringSchedulingIgnoredDuringExecution")
        self.added_required = NodeSelector(required) if required is not None else None
        self.added_preferred = [
            PreferredTerm(int(t.get("weight") or 0), NodeSelectorTerm(t.get("preference") or {}))
            for t in added.get("preferredDuringSchedulingIgnoredDuringExecution") or []
            if int(t.get("weight") or 0)
        ]

    # --- filtering ----------------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        required = RequiredNodeAffinity(pod.pod)
        if required.empty and self.added_required is None:
            return None, Status.skip()
        state.write(_PRE_FILTER_KEY, required)
        if required.node_selector is None:
            return None, None
        names: set[str] | None = None
        for term in required.node_selector.terms:
            term_names: set[str] | None = None
            for want_in, values in term.fields:
                if want_in:
                    term_names = set(values) if term_names is None else term_names & values
            if term_names is None:
                return None, None  # this term does not pin names; terms are ORed
            names = term_names if names is None else names | term_names
        if names is not None and not names:
            return None, Status.unresolvable(ERR_REASON_CONFLICT)
        return (PreFilterResult(names), None) if names else (None, None)

    def pre_filter_extensions(self) -> PreFilterExtensions | None:
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if self.added_required is not None and not self.added_required.matches(node.name, node.labels):
            return Status.unresolvable(ERR_REASON_ENFORCED)
        required: RequiredNodeAffinity | None = state.get(_PRE_FILTER_KEY)
        if required is None:
            required = RequiredNodeAffinity(pod.pod)
        if not required.matches(node.name, node.labels):
            return Status.unresolvable(ERR_REASON_POD)
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(NODE, ActionType.ADD | ActionType.UPDATE_NODE_LABEL), self._node_matches
            )
        ]

    def _node_matches(self, pod: PodInfo, old: Any, new: Any) -> QueueingHint:
        if not isinstance(new, dict):
            return QueueingHint.QUEUE
        info = NodeInfo(new)
        if self.added_required is not None and not self.added_required.matches(info.name, info.labels):
            return QueueingHint.SKIP
        ok = RequiredNodeAffinity(pod.pod).matches(info.name, info.labels)
        return QueueingHint.QUEUE if ok else QueueingHint.SKIP

    # --- scoring ------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        terms = [*self.added_preferred, *preferred_terms(pod.pod)]
        if not terms:
            return Status.skip()
        state.write(_PRE_SCORE_KEY, terms)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        terms: list[PreferredTerm] | None = state.get(_PRE_SCORE_KEY)
        if terms is None:
            terms = [*self.added_preferred, *preferred_terms(pod.pod)]
        return sum(t.weight for t in terms if t.term.matches(node.name, node.labels))

    def normalize_score(
        self, state: CycleState, pod: PodInfo, scores: list[int], nodes: Sequence[NodeInfo]
    ) -> Status | None:
        default_normalize_score(scores, reverse=False)
        return None


def new(args: dict[str, Any], handle: Any) -> NodeAffinity:
    return NodeAffinity(args)
