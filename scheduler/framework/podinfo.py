"""A pod as the scheduler reads it: parsed once, read many times.

Every scheduling attempt asks the same questions of a pod — its total request, its host
ports, its tolerations, its (anti-)affinity terms — and a node full of pods answers them
for each of its pods. :class:`PodInfo` computes the answers once, when the pod enters
the queue or the cache, so plugins never walk the pod's JSON per node (Kubernetes'
``framework.PodInfo``). :class:`QueuedPodInfo` adds what the queue tracks about an
unscheduled pod across attempts.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from kube.errors import StatusError
from kube.labels import Operator, Requirement, Selector, from_label_selector

from .resources import Resource, requests_and_non_zero
from .taints import Toleration, parse_tolerations

Obj = dict[str, Any]
DEFAULT_SCHEDULER_NAME = "default-scheduler"


class AffinityTerm:
    """A pod (anti-)affinity term: which pods (namespaces × label selector) in which
    topology (nodes sharing the value of ``topology_key``)."""

    __slots__ = ("namespace_selector", "namespaces", "selector", "topology_key", "weight")

    def __init__(
        self,
        *,
        namespaces: frozenset[str],
        selector: Selector,
        topology_key: str,
        namespace_selector: Selector | None,
        weight: int = 0,
    ) -> None:
        self.namespaces = namespaces
        self.selector = selector
        self.topology_key = topology_key
        self.namespace_selector = namespace_selector
        self.weight = weight

    def matches(self, pod: PodInfo, namespace_labels: Mapping[str, str] | None) -> bool:
        """Whether ``pod`` is one of the pods this term is about."""
        if pod.namespace not in self.namespaces and not (
            self.namespace_selector is not None and self.namespace_selector.matches(namespace_labels or {})
        ):
            return False
        return self.selector.matches(pod.labels)


def _affinity_term(pod_ns: str, labels: Mapping[str, str], raw: Obj, weight: int = 0) -> AffinityTerm:
    selector = from_label_selector(raw.get("labelSelector"))
    extra: list[Requirement] = []
    # matchLabelKeys / mismatchLabelKeys (KEP 3633): the incoming pod's own label values.
    for key in raw.get("matchLabelKeys") or []:
        if key in labels:
            extra.append(Requirement.new(key, Operator.IN, [labels[key]]))
    for key in raw.get("mismatchLabelKeys") or []:
        if key in labels:
            extra.append(Requirement.new(key, Operator.NOT_IN, [labels[key]]))
    if extra and not selector.is_nothing:
        selector = Selector.of([*selector.requirements, *extra])
    namespaces = [str(n) for n in raw.get("namespaces") or []]
    ns_selector_raw = raw.get("namespaceSelector")
    if not namespaces and ns_selector_raw is None:
        namespaces = [pod_ns]
    ns_selector = from_label_selector(ns_selector_raw) if ns_selector_raw is not None else None
    return AffinityTerm(
        namespaces=frozenset(namespaces),
        selector=selector,
        topology_key=str(raw.get("topologyKey") or ""),
        namespace_selector=ns_selector,
        weight=weight,
    )


def normalized_image_name(name: str) -> str:
    """Kubernetes' ``normalizedImageName``: an image without tag or digest means ``:latest``."""
    if name.rfind(":") <= name.rfind("/") and "@" not in name:
        return name + ":latest"
    return name


class PodInfo:
    __slots__ = (
        "_images",
        "_tolerations",
        "deleting",
        "has_affinity",
        "has_required_anti_affinity",
        "host_ports",
        "key",
        "labels",
        "name",
        "namespace",
        "node_name",
        "non_zero_cpu",
        "non_zero_memory",
        "parse_error",
        "pod",
        "preferred_affinity_terms",
        "preferred_anti_affinity_terms",
        "priority",
        "requests",
        "required_affinity_terms",
        "required_anti_affinity_terms",
        "scheduler_name",
        "start_time",
        "uid",
    )

    def __init__(self, pod: Obj, *, priority: int | None = None) -> None:
        self.pod = pod
        meta: Obj = pod.get("metadata") or {}
        spec: Obj = pod.get("spec") or {}
        status: Obj = pod.get("status") or {}
        self.uid = str(meta.get("uid") or "")
        self.namespace = str(meta.get("namespace") or "")
        self.name = str(meta.get("name") or "")
        self.key = f"{self.namespace}/{self.name}"
        self.labels: dict[str, str] = meta.get("labels") or {}
        self.node_name = str(spec.get("nodeName") or "")
        self.scheduler_name = str(spec.get("schedulerName") or DEFAULT_SCHEDULER_NAME)
        self.priority = int(spec.get("priority") or 0) if priority is None else priority
        self.deleting = meta.get("deletionTimestamp") is not None
        self.start_time = str(status.get("startTime") or meta.get("creationTimestamp") or "")

        requests, self.non_zero_cpu, self.non_zero_memory = requests_and_non_zero(pod)
        self.requests = Resource.from_amounts(requests)

        ports: list[tuple[str, str, int]] = []
        for container in itertools.chain(spec.get("initContainers") or [], spec.get("containers") or []):
            for port in container.get("ports") or []:
                host_port = int(port.get("hostPort") or 0)
                if host_port > 0:
                    ports.append(
                        (str(port.get("hostIP") or "0.0.0.0"), str(port.get("protocol") or "TCP"), host_port)
                    )
        self.host_ports = ports
        # Parsed on first use: only the pod being scheduled needs them, not every pod
        # already on a node.
        self._images: list[str] | None = None
        self._tolerations: tuple[Toleration, ...] | None = None

        self.parse_error = ""
        self.required_affinity_terms: list[AffinityTerm] = []
        self.required_anti_affinity_terms: list[AffinityTerm] = []
        self.preferred_affinity_terms: list[AffinityTerm] = []
        self.preferred_anti_affinity_terms: list[AffinityTerm] = []
        affinity: Obj = spec.get("affinity") or {}
        if affinity.get("podAffinity") or affinity.get("podAntiAffinity"):
            self._parse_affinity(affinity)
        self.has_affinity = bool(
            self.required_affinity_terms
            or self.required_anti_affinity_terms
            or self.preferred_affinity_terms
            or self.preferred_anti_affinity_terms
        )
        self.has_required_anti_affinity = bool(self.required_anti_affinity_terms)

    @property
    def tolerations(self) -> tuple[Toleration, ...]:
        if self._tolerations is None:
            self._tolerations = parse_tolerations((self.pod.get("spec") or {}).get("tolerations"))
        return self._tolerations

    @property
    def images(self) -> list[str]:
        if self._images is None:
            spec = self.pod.get("spec") or {}
            containers = itertools.chain(spec.get("initContainers") or [], spec.get("containers") or [])
            self._images = [normalized_image_name(str(c["image"])) for c in containers if c.get("image")]
        return self._images

    def with_node(self, node_name: str) -> PodInfo:
        """A copy bound to ``node_name`` (the *assumed* pod), sharing everything parsed."""
        out = PodInfo.__new__(PodInfo)
        for slot in PodInfo.__slots__:
            object.__setattr__(out, slot, getattr(self, slot))
        spec = dict(self.pod.get("spec") or {})
        spec["nodeName"] = node_name
        out.pod = {**self.pod, "spec": spec}
        out.node_name = node_name
        return out

    def confirmed(self, pod: Obj, *, priority: int) -> PodInfo | None:
        """This assumed pod's parse reused for ``pod``, the bound version the informer
        delivered, when the binding changed nothing parsed (the spec but for the node
        name we assumed, and the labels); None when it must be parsed anew."""
        meta: Obj = pod.get("metadata") or {}
        if pod.get("spec") != self.pod.get("spec") or (meta.get("labels") or {}) != self.labels:
            return None
        out = PodInfo.__new__(PodInfo)
        for slot in PodInfo.__slots__:
            object.__setattr__(out, slot, getattr(self, slot))
        status: Obj = pod.get("status") or {}
        out.pod = pod
        out.priority = priority
        out.deleting = meta.get("deletionTimestamp") is not None
        out.start_time = str(status.get("startTime") or meta.get("creationTimestamp") or "")
        return out

    def _parse_affinity(self, affinity: Obj) -> None:
        ns, labels = self.namespace, self.labels
        required = "requiredDuringSchedulingIgnoredDuringExecution"
        preferred = "preferredDuringSchedulingIgnoredDuringExecution"
        try:
            pa: Obj = affinity.get("podAffinity") or {}
            paa: Obj = affinity.get("podAntiAffinity") or {}
            self.required_affinity_terms = [_affinity_term(ns, labels, t) for t in pa.get(required) or []]
            self.required_anti_affinity_terms = [
                _affinity_term(ns, labels, t) for t in paa.get(required) or []
            ]
            self.preferred_affinity_terms = [
                _affinity_term(ns, labels, w.get("podAffinityTerm") or {}, int(w.get("weight") or 0))
                for w in pa.get(preferred) or []
            ]
            self.preferred_anti_affinity_terms = [
                _affinity_term(ns, labels, w.get("podAffinityTerm") or {}, int(w.get("weight") or 0))
                for w in paa.get(preferred) or []
            ]
        except StatusError as err:
            # The API server does not validate every selector in these terms; a pod with
            # an unparsable one cannot be placed and says why (InterPodAffinity PreFilter).
            self.parse_error = f"parsing pod: {err}"

    def __repr__(self) -> str:
        return f"PodInfo({self.key})"


def pod_priority(pod: Obj) -> int:
    return int((pod.get("spec") or {}).get("priority") or 0)


class QueuedPodInfo:
    """An unscheduled pod and its history in the scheduling queue."""

    __slots__ = (
        "attempts",
        "backoff_expiration",
        "initial_attempt_timestamp",
        "pod_info",
        "timestamp",
        "unschedulable_plugins",
    )

    def __init__(self, pod_info: PodInfo, *, timestamp: float) -> None:
        self.pod_info = pod_info
        self.timestamp = timestamp
        """When the pod was (last) added to the queue; PrioritySort breaks ties by it."""
        self.attempts = 0
        self.initial_attempt_timestamp: float | None = None
        self.unschedulable_plugins: set[str] = set()
        """Plugins that rejected the pod last time: only events they care about requeue it."""
        self.backoff_expiration = 0.0

    @property
    def pod(self) -> Obj:
        return self.pod_info.pod

    @property
    def key(self) -> str:
        return self.pod_info.key

    def __repr__(self) -> str:
        return f"QueuedPodInfo({self.pod_info.key}, attempts={self.attempts})"
