"""How full a node would be with the pod on it, scored three ways (shared by
NodeResourcesFit's scoring strategies and NodeResourcesBalancedAllocation).

For each configured resource the scorer sees (requested incl. this pod, allocatable).
CPU and memory count the "non-zero" requests for Fit's strategies (a pod without
requests still takes 100m/200Mi in the score) and the real requests for
BalancedAllocation, as in Kubernetes' ``resourceAllocationScorer``. A resource the node
does not have (allocatable 0) is left out; an extended resource the pod does not ask
for is left out too, so GPU nodes are not penalised for pods that need no GPU.

All arithmetic is on integers and divides as Go does (truncating toward zero).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from scheduler.framework.interfaces import MAX_NODE_SCORE
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.resources import CPU, MEMORY, is_scalar_resource

MAX_CUSTOM_PRIORITY_SCORE = 10
MAX_UTILIZATION = 100


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    name: str
    weight: int


DEFAULT_RESOURCES = (ResourceSpec(CPU, 1), ResourceSpec(MEMORY, 1))


def parse_resources(raw: Any, path: str) -> tuple[ResourceSpec, ...]:
    if raw is None:
        return DEFAULT_RESOURCES
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("name"):
            raise ValueError(f"{path}[{i}].name: Required value")
        weight = item.get("weight", 1)
        if not isinstance(weight, int) or not 1 <= weight <= 100:
            raise ValueError(
                f"{path}[{i}].weight: Invalid value: {weight!r}: resource weight of {item['name']} should be in the range [1-100]"
            )
        out.append(ResourceSpec(str(item["name"]), weight))
    return tuple(out)


def go_div(a: int, b: int) -> int:
    """Integer division truncating toward zero, as Go's ``/``."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def pod_request(pod: PodInfo, name: str, *, use_requested: bool) -> int:
    if name == CPU:
        return pod.requests.milli_cpu if use_requested else pod.non_zero_cpu
    if name == MEMORY:
        return pod.requests.memory if use_requested else pod.non_zero_memory
    return pod.requests.get(name)


def allocatable_and_requested(
    node: NodeInfo, name: str, pod_amount: int, *, use_requested: bool
) -> tuple[int, int]:
    """(allocatable, requested incl. the pod); (0, 0) means "leave this resource out"."""
    if name == CPU:
        used = node.requested.milli_cpu if use_requested else node.non_zero_cpu
        return node.allocatable.milli_cpu, used + pod_amount
    if name == MEMORY:
        used = node.requested.memory if use_requested else node.non_zero_memory
        return node.allocatable.memory, used + pod_amount
    if is_scalar_resource(name) and pod_amount == 0:
        return 0, 0
    return node.allocatable.get(name), node.requested.get(name) + pod_amount


Scorer = Callable[[Sequence[int], Sequence[int]], int]
"""(requested per resource, allocatable per resource) → score; allocatable 0 = skipped."""


def least_requested_score(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def most_requested_score(requested: int, capacity: int) -> int:
    if capacity == 0:
        return 0
    # Pods without requests count the defaults, so "requested" may pass capacity.
    return min(requested, capacity) * MAX_NODE_SCORE // capacity


def _weighted(resources: Sequence[ResourceSpec], per_resource: Callable[[int, int], int]) -> Scorer:
    """The weighted mean of ``per_resource`` over the resources a node has (Kubernetes'
    resourceAllocationScorer with the Least/MostAllocated per-resource scores)."""
    weights = [r.weight for r in resources]

    def score(requested: Sequence[int], allocatable: Sequence[int]) -> int:
        total = weight_sum = 0
        for req, alloc, weight in zip(requested, allocatable, weights, strict=True):
            if alloc == 0:
                continue
            total += per_resource(req, alloc) * weight
            weight_sum += weight
        return total // weight_sum if weight_sum else 0

    return score


def least_allocated(resources: Sequence[ResourceSpec]) -> Scorer:
    return _weighted(resources, least_requested_score)


def most_allocated(resources: Sequence[ResourceSpec]) -> Scorer:
    return _weighted(resources, most_requested_score)


def broken_linear(shape: Sequence[tuple[int, int]]) -> Callable[[int], int]:
    """``helper.BuildBrokenLinearFunction``: straight lines between (utilization, score) points."""

    def f(p: int) -> int:
        for i, (util, score) in enumerate(shape):
            if p <= util:
                if i == 0:
                    return score
                prev_util, prev_score = shape[i - 1]
                return prev_score + go_div((score - prev_score) * (p - prev_util), util - prev_util)
        return shape[-1][1]

    return f


def parse_shape(raw: Any) -> list[tuple[int, int]]:
    points = raw if raw else [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]
    shape: list[tuple[int, int]] = []
    for i, p in enumerate(points):
        util, score = int(p.get("utilization", 0)), int(p.get("score", 0))
        if not 0 <= util <= MAX_UTILIZATION:
            raise ValueError(f"shape[{i}].utilization: Invalid value: {util}: not in valid range [0-100]")
        if not 0 <= score <= MAX_CUSTOM_PRIORITY_SCORE:
            raise ValueError(f"shape[{i}].score: Invalid value: {score}: not in valid range [0-10]")
        if shape and util <= shape[-1][0]:
            raise ValueError(
                f"shape[{i}].utilization: Invalid value: {util}: utilization values must be sorted in increasing order"
            )
        shape.append((util, score * (MAX_NODE_SCORE // MAX_CUSTOM_PRIORITY_SCORE)))
    return shape


def requested_to_capacity_ratio(
    resources: Sequence[ResourceSpec], shape: Sequence[tuple[int, int]]
) -> Scorer:
    weights = [r.weight for r in resources]
    raw = broken_linear(shape)

    def resource_score(requested: int, capacity: int) -> int:
        if capacity == 0 or requested > capacity:
            return raw(MAX_UTILIZATION)
        return raw(requested * MAX_UTILIZATION // capacity)

    def score(requested: Sequence[int], allocatable: Sequence[int]) -> int:
        total = weight_sum = 0
        for req, alloc, weight in zip(requested, allocatable, weights, strict=True):
            if alloc == 0:
                continue
            s = resource_score(req, alloc)
            if s > 0:
                total += s * weight
                weight_sum += weight
        return math.floor(total / weight_sum + 0.5) if weight_sum else 0

    return score


def balanced(requested: Sequence[int], allocatable: Sequence[int]) -> int:
    """(1 − standard deviation of the requested/allocatable fractions) × 100."""
    fractions = [min(req / alloc, 1.0) for req, alloc in zip(requested, allocatable, strict=True) if alloc]
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    else:
        std = 0.0
    return int((1 - std) * MAX_NODE_SCORE)


def score_nodes(
    nodes: Sequence[NodeInfo],
    resources: Sequence[ResourceSpec],
    pod_amounts: Sequence[int],
    scorer: Scorer,
    *,
    use_requested: bool,
) -> list[int]:
    out = []
    for node in nodes:
        requested = []
        allocatable = []
        for spec, amount in zip(resources, pod_amounts, strict=True):
            alloc, req = allocatable_and_requested(node, spec.name, amount, use_requested=use_requested)
            allocatable.append(alloc)
            requested.append(req if alloc else 0)
        out.append(scorer(requested, allocatable))
    return out
