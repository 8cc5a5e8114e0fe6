"""InterPodAffinity: place pods near (affinity) or away from (anti-affinity) other pods.

Filter, for required terms:
- the pod's affinity: every term needs a matching pod in the node's domain — except
  for the first pod of a group that matches its own terms, which may go anywhere the
  topology labels exist (otherwise such a group could never start); unresolvable;
- the pod's anti-affinity: no matching pod may be in the node's domain;
- existing pods' anti-affinity: no pod already placed may have a term matching this pod
  in the node's domain (symmetry).
PreFilter counts matches per (topologyKey, value) once, so Filter costs lookups, and
the counts follow the preemption dry-run through AddPod/RemovePod.

Score, for preferred terms (both directions, and existing pods' required affinity with
``hardPodAffinityWeight``): a weight per domain, summed per node, scaled min..max to 0..100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scheduler.framework.cycle_state import CycleState
from scheduler.framework.events import ASSIGNED_POD, NODE, ActionType, ClusterEvent, ClusterEventWithHint
from scheduler.framework.interfaces import MAX_NODE_SCORE, PreFilterExtensions, PreFilterResult
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import AffinityTerm, PodInfo
from scheduler.framework.status import Status

from .helpers import int_arg

NAME = "InterPodAffinity"
ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME

Counts = dict[tuple[str, str], int]


def _bump(counts: Counts, key: str, value: str, delta: int) -> None:
    n = counts.get((key, value), 0) + delta
    if n:
        counts[(key, value)] = n
    else:
        counts.pop((key, value), None)


class _Terms:
    """The incoming pod's terms with namespace selectors resolved to namespace names."""

    __slots__ = ("affinity", "anti_affinity", "namespace_labels", "preferred", "preferred_anti")

    def __init__(self, pod: PodInfo, namespaces: Any) -> None:
        self.namespace_labels = _namespace_labels(namespaces, pod.namespace)
        self.affinity = [_resolve(t, namespaces) for t in pod.required_affinity_terms]
        self.anti_affinity = [_resolve(t, namespaces) for t in pod.required_anti_affinity_terms]
        self.preferred = [_resolve(t, namespaces) for t in pod.preferred_affinity_terms]
        self.preferred_anti = [_resolve(t, namespaces) for t in pod.preferred_anti_affinity_terms]


def _namespace_labels(namespaces: Any, name: str) -> Mapping[str, str]:
    obj = namespaces.get_by_key(name) if namespaces is not None else None
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def _resolve(term: AffinityTerm, namespaces: Any) -> AffinityTerm:
    if term.namespace_selector is None:
        return term
    names = set(term.namespaces)
    if namespaces is not None:
        for ns in namespaces.list():
            meta = ns.get("metadata") or {}
            if term.namespace_selector.matches(meta.get("labels") or {}):
                names.add(str(meta.get("name")))
    return AffinityTerm(
        namespaces=frozenset(names), selector=term.selector, topology_key=term.topology_key,
        namespace_selector=None, weight=term.weight,
    )  # fmt: skip


def _matches_all(pod: PodInfo, terms: Sequence[AffinityTerm]) -> bool:
    return bool(terms) and all(t.matches(pod, None) for t in terms)


class _FilterState:
    __slots__ = ("affinity", "anti_affinity", "existing_anti_affinity", "terms")

    def __init__(self, terms: _Terms) -> None:
        self.terms = terms
        self.existing_anti_affinity: Counts = {}
        self.affinity: Counts = {}
        self.anti_affinity: Counts = {}

    def update_with_pod(self, pod: PodInfo, other: PodInfo, node: NodeInfo, delta: int) -> None:
        labels = node.labels
        for term in other.required_anti_affinity_terms:
            if term.topology_key in labels and term.matches(pod, self.terms.namespace_labels):
                _bump(self.existing_anti_affinity, term.topology_key, labels[term.topology_key], delta)
        if _matches_all(other, self.terms.affinity):
            for term in self.terms.affinity:
                if term.topology_key in labels:
                    _bump(self.affinity, term.topology_key, labels[term.topology_key], delta)
        for term in self.terms.anti_affinity:
            if term.topology_key in labels and term.matches(other, None):
                _bump(self.anti_affinity, term.topology_key, labels[term.topology_key], delta)

    def clone(self) -> _FilterState:
        out = _FilterState(self.terms)
        out.existing_anti_affinity = dict(self.existing_anti_affinity)
        out.affinity = dict(self.affinity)
        out.anti_affinity = dict(self.anti_affinity)
        return out


class InterPodAffinity:
    name = NAME

    def __init__(self, args: dict[str, Any], handle: Any) -> None:
        self.handle = handle
        self.hard_pod_affinity_weight = int_arg(args, "hardPodAffinityWeight", 1, low=0, high=100)
        self.ignore_preferred_terms_of_existing_pods = bool(args.get("ignorePreferredTermsOfExistingPods"))

    # --- filtering ----------------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        snapshot = self.handle.snapshot()
        with_anti = snapshot.have_pods_with_required_anti_affinity
        if not pod.required_affinity_terms and not pod.required_anti_affinity_terms and not with_anti:
            return None, Status.skip()
        if pod.parse_error:
            return None, Status.unresolvable(pod.parse_error)
        s = _FilterState(_Terms(pod, self.handle.lister("namespaces")))
        ns_labels = s.terms.namespace_labels
        for node in with_anti:
            labels = node.labels
            for existing in node.pods_with_required_anti_affinity:
                for term in existing.required_anti_affinity_terms:
                    if term.topology_key in labels and term.matches(pod, ns_labels):
                        _bump(s.existing_anti_affinity, term.topology_key, labels[term.topology_key], 1)
        if s.terms.affinity or s.terms.anti_affinity:
            for node in snapshot.node_info_list:
                labels = node.labels
                for existing in node.pods:
                    if _matches_all(existing, s.terms.affinity):
                        for term in s.terms.affinity:
                            if term.topology_key in labels:
                                _bump(s.affinity, term.topology_key, labels[term.topology_key], 1)
                    for term in s.terms.anti_affinity:
                        if term.topology_key in labels and term.matches(existing, None):
                            _bump(s.anti_affinity, term.topology_key, labels[term.topology_key], 1)
        state.write(_PRE_FILTER_KEY, s)
        return None, None

    def pre_filter_extensions(self) -> PreFilterExtensions | None:
        return self

    def add_pod(self, state: CycleState, pod: PodInfo, pod_to_add: PodInfo, node: NodeInfo) -> Status | None:
        s: _FilterState | None = state.get(_PRE_FILTER_KEY)
        if s is not None:
            s.update_with_pod(pod, pod_to_add, node, 1)
        return None

    def remove_pod(
        self, state: CycleState, pod: PodInfo, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status | None:
        s: _FilterState | None = state.get(_PRE_FILTER_KEY)
        if s is not None:
            s.update_with_pod(pod, pod_to_remove, node, -1)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s: _FilterState | None = state.get(_PRE_FILTER_KEY)
        if s is None:
            return Status.as_error(f"reading {_PRE_FILTER_KEY!r} from cycleState: not found")
        labels = node.labels
        if s.terms.affinity:
            exists = True
            for term in s.terms.affinity:
                value = labels.get(term.topology_key)
                if value is None:
                    return Status.unresolvable(ERR_REASON_AFFINITY)  # every topology label must exist
                if s.affinity.get((term.topology_key, value), 0) <= 0:
                    exists = False
            # The first pod of a self-affine group: nothing matches anywhere yet.
            if not exists and not (not s.affinity and _matches_all(pod, s.terms.affinity)):
                return Status.unresolvable(ERR_REASON_AFFINITY)
        for term in s.terms.anti_affinity:
            value = labels.get(term.topology_key)
            if value is not None and s.anti_affinity.get((term.topology_key, value), 0) > 0:
                return Status.unschedulable(ERR_REASON_ANTI_AFFINITY)
        if s.existing_anti_affinity:
            counts = s.existing_anti_affinity
            if any(counts.get(pair, 0) > 0 for pair in labels.items()):
                return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY)
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(ASSIGNED_POD, ActionType.ADD | ActionType.DELETE | ActionType.UPDATE_POD_LABEL)
            ),
            ClusterEventWithHint(ClusterEvent(NODE, ActionType.ADD | ActionType.UPDATE_NODE_LABEL)),
        ]

    # --- scoring ------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        if not nodes:
            return Status.skip()
        has_constraints = bool(pod.preferred_affinity_terms or pod.preferred_anti_affinity_terms)
        if self.ignore_preferred_terms_of_existing_pods and not has_constraints:
            return Status.skip()
        snapshot = self.handle.snapshot()
        candidates = snapshot.node_info_list if has_constraints else snapshot.have_pods_with_affinity
        if not has_constraints and not candidates:
            return Status.skip()
        terms = _Terms(pod, self.handle.lister("namespaces"))
        scores: dict[str, dict[str, int]] = {}

        def process(term: AffinityTerm, weight: int, target: PodInfo, ns: Mapping[str, str] | None,
                    labels: Mapping[str, str], sign: int) -> None:  # fmt: skip
            value = labels.get(term.topology_key)
            if value is not None and term.matches(target, ns):
                per_key = scores.setdefault(term.topology_key, {})
                per_key[value] = per_key.get(value, 0) + weight * sign

        ns_labels = terms.namespace_labels
        for node in candidates:
            labels = node.labels
            if not labels:
                continue
            for existing in node.pods if has_constraints else node.pods_with_affinity:
                for t in terms.preferred:
                    process(t, t.weight, existing, None, labels, 1)
                for t in terms.preferred_anti:
                    process(t, t.weight, existing, None, labels, -1)
                if self.hard_pod_affinity_weight > 0:
                    for t in existing.required_affinity_terms:
                        process(t, self.hard_pod_affinity_weight, pod, ns_labels, labels, 1)
                for t in existing.preferred_affinity_terms:
                    process(t, t.weight, pod, ns_labels, labels, 1)
                for t in existing.preferred_anti_affinity_terms:
                    process(t, t.weight, pod, ns_labels, labels, -1)
        if not scores:
            return Status.skip()
        state.write(_PRE_SCORE_KEY, scores)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        scores: dict[str, dict[str, int]] = state.read(_PRE_SCORE_KEY)
        total = 0
        for key, per_value in scores.items():
            value = node.labels.get(key)
            if value is not None:
                total += per_value.get(value, 0)
        return total

    def normalize_score(
        self, state: CycleState, pod: PodInfo, scores: list[int], nodes: Sequence[NodeInfo]
    ) -> Status | None:
        if not state.get(_PRE_SCORE_KEY) or not scores:
            return None
        low, high = min(scores), max(scores)
        diff = high - low
        for i, score in enumerate(scores):
            scores[i] = int(MAX_NODE_SCORE * ((score - low) / diff)) if diff > 0 else 0
        return None


def new(args: dict[str, Any], handle: Any) -> InterPodAffinity:
    return InterPodAffinity(args, handle)
