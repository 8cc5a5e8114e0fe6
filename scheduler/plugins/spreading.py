"""Topology spread constraints, parsed for PodTopologySpread, and the default selector.

A constraint counts the pods matching its selector in each *domain* (the nodes sharing
one value of ``topologyKey``) and bounds how uneven the counts may get (``maxSkew``).
Which nodes count is set by the inclusion policies: by default nodes the pod's own
node affinity/selector excludes are left out (``nodeAffinityPolicy: Honor``) and taints
are ignored (``nodeTaintsPolicy: Ignore``).

Pods without constraints of their own get the cluster defaults (hostname maxSkew 3,
zone maxSkew 5, both ScheduleAnyway), applied to "pods of the same workload": the
selector is built from the Services, ReplicationControllers, ReplicaSets and
StatefulSets selecting the pod (Kubernetes' ``helper.DefaultSelector``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kube.errors import StatusError
from kube.informers import NAMESPACE_INDEX
from kube.labels import Operator, Requirement, Selector, from_label_selector
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.nodeselector import RequiredNodeAffinity
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.taints import do_not_schedule, find_untolerated

HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
DO_NOT_SCHEDULE = "DoNotSchedule"
SCHEDULE_ANYWAY = "ScheduleAnyway"
HONOR = "Honor"
IGNORE = "Ignore"

SYSTEM_DEFAULT_CONSTRAINTS: list[dict[str, Any]] = [
    {"topologyKey": HOSTNAME, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 3},
    {"topologyKey": ZONE, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 5},
]


class Constraint:
    __slots__ = (
        "max_skew",
        "min_domains",
        "node_affinity_policy",
        "node_taints_policy",
        "selector",
        "topology_key",
    )

    def __init__(
        self,
        *,
        max_skew: int,
        topology_key: str,
        selector: Selector,
        min_domains: int = 1,
        node_affinity_policy: str = HONOR,
        node_taints_policy: str = IGNORE,
    ) -> None:
        self.max_skew = max_skew
        self.topology_key = topology_key
        self.selector = selector
        self.min_domains = min_domains
        self.node_affinity_policy = node_affinity_policy
        self.node_taints_policy = node_taints_policy

    def includes(self, pod: PodInfo, node: NodeInfo, required: RequiredNodeAffinity) -> bool:
        """Whether ``node`` counts for this constraint under its inclusion policies."""
        if self.node_affinity_policy == HONOR and not required.matches(node.name, node.labels):
            return False
        if self.node_taints_policy == HONOR and find_untolerated(
            node.taints, pod.tolerations, do_not_schedule
        ):
            return False
        return True


def parse_constraints(raw: Iterable[Any], labels: Mapping[str, str], action: str) -> list[Constraint]:
    """The constraints with ``whenUnsatisfiable == action``; raises StatusError for a bad selector."""
    out = []
    for c in raw:
        if not isinstance(c, dict) or c.get("whenUnsatisfiable") != action:
            continue
        selector = from_label_selector(c.get("labelSelector"))
        keys = [k for k in c.get("matchLabelKeys") or [] if k in labels]
        if keys and not selector.is_nothing:
            # matchLabelKeys: spread only among pods sharing these label values (e.g. one rollout).
            extra = [Requirement.new(k, Operator.IN, [labels[k]]) for k in keys]
            selector = Selector.of([*selector.requirements, *extra])
        out.append(
            Constraint(
                max_skew=int(c.get("maxSkew") or 1),
                topology_key=str(c.get("topologyKey") or ""),
                selector=selector,
                min_domains=int(c.get("minDomains") or 1),
                node_affinity_policy=str(c.get("nodeAffinityPolicy") or HONOR),
                node_taints_policy=str(c.get("nodeTaintsPolicy") or IGNORE),
            )
        )
    return out


def node_has_all_keys(node: NodeInfo, constraints: Sequence[Constraint]) -> bool:
    labels = node.labels
    return all(c.topology_key in labels for c in constraints)


def count_matching(pods: Iterable[PodInfo], selector: Selector, namespace: str) -> int:
    """Pods of ``namespace`` matching ``selector``; terminating pods do not count."""
    if selector.empty:
        return 0
    return sum(1 for p in pods if p.namespace == namespace and not p.deleting and selector.matches(p.labels))


def _selects(selector: Any, pod: PodInfo) -> bool:
    return bool(selector) and all(pod.labels.get(k) == v for k, v in selector.items())


def default_selector(pod: PodInfo, lister: Any) -> Selector:
    """The union of the selectors of the workloads and services selecting ``pod``."""
    labels: dict[str, str] = {}
    requirements: list[Requirement] = []
    for resource in ("services", "replicationcontrollers"):
        store = lister(resource)
        if store is None:
            continue
        for obj in store.by_index(NAMESPACE_INDEX, pod.namespace):
            selector = (obj.get("spec") or {}).get("selector")
            if isinstance(selector, dict) and _selects(selector, pod):
                labels.update(selector)
    for resource in ("replicasets", "statefulsets"):
        store = lister(resource)
        if store is None:
            continue
        for obj in store.by_index(NAMESPACE_INDEX, pod.namespace):
            try:
                selector = from_label_selector((obj.get("spec") or {}).get("selector"))
            except StatusError:
                continue
            if not selector.empty and not selector.is_nothing and selector.matches(pod.labels):
                requirements.extend(selector.requirements)
    if not labels and not requirements:
        return Selector.everything()
    reqs = [Requirement(k, Operator.EQUALS, (v,)) for k, v in labels.items()]
    return Selector.of([*reqs, *requirements])
