"""Resource amounts as plain integers, and what a pod asks for.

The Filter/Score hot path compares requests with allocatable thousands of times per pod,
so quantities are parsed once — when a pod or node enters the scheduler — into integer
milli-CPU and bytes (Kubernetes' ``framework.Resource``), never into Decimals per node.

:func:`pod_requests` follows component-helpers' ``PodRequests``: containers run together
(sum), classic init containers run one at a time before them (max), sidecars — init
containers with ``restartPolicy: Always`` — keep running alongside everything after
them (they add to the sum and to every later init container), and the pod overhead of
its RuntimeClass is added on top. Scoring uses the "non-zero" variant, where a
container that names no CPU or memory request counts as 100m / 200Mi, so that
best-effort pods do not all pile onto one node.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from kube.quantity import Quantity, QuantityError

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"

DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
NON_ZERO_DEFAULTS: Mapping[str, int] = {CPU: DEFAULT_MILLI_CPU_REQUEST, MEMORY: DEFAULT_MEMORY_REQUEST}

Obj = dict[str, Any]


@functools.lru_cache(maxsize=8192)
def _amount(text: str | int | float, milli: bool) -> int:
    try:
        q = Quantity(text)
    except (QuantityError, TypeError):
        return 0  # the API server validates quantities; a bad one asks for nothing
    return q.milli_value() if milli else q.value()


def amount(name: str, value: Any) -> int:
    """One quantity as the scheduler counts it: milli-units for CPU, units otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return 0
    return _amount(value, name == CPU)


def is_scalar_resource(name: str) -> bool:
    """Extended resources (``example.com/gpu``), hugepages and attachable volumes."""
    return "/" in name or name.startswith(("hugepages-", "attachable-volumes-"))


class Resource:
    """Integer amounts: milli-CPU, bytes of memory and ephemeral storage, a pod count,
    and scalar (extended) resources by name."""

    __slots__ = ("allowed_pods", "ephemeral_storage", "memory", "milli_cpu", "scalar")

    def __init__(
        self,
        *,
        milli_cpu: int = 0,
        memory: int = 0,
        ephemeral_storage: int = 0,
        allowed_pods: int = 0,
        scalar: dict[str, int] | None = None,
    ) -> None:
        self.milli_cpu = milli_cpu
        self.memory = memory
        self.ephemeral_storage = ephemeral_storage
        self.allowed_pods = allowed_pods
        self.scalar: dict[str, int] = scalar if scalar is not None else {}

    @classmethod
    def from_amounts(cls, amounts: Mapping[str, int]) -> Resource:
        out = cls()
        for name, value in amounts.items():
            out.set(name, value)
        return out

    @classmethod
    def from_list(cls, resource_list: Mapping[str, Any] | None) -> Resource:
        """A ResourceList (``{"cpu": "2", "memory": "4Gi", "pods": "110"}``)."""
        out = cls()
        for name, value in (resource_list or {}).items():
            out.set(name, amount(name, value))
        return out

    def get(self, name: str) -> int:
        if name == CPU:
            return self.milli_cpu
        if name == MEMORY:
            return self.memory
        if name == EPHEMERAL_STORAGE:
            return self.ephemeral_storage
        if name == PODS:
            return self.allowed_pods
        return self.scalar.get(name, 0)

    def set(self, name: str, value: int) -> None:
        if name == CPU:
            self.milli_cpu = value
        elif name == MEMORY:
            self.memory = value
        elif name == EPHEMERAL_STORAGE:
            self.ephemeral_storage = value
        elif name == PODS:
            self.allowed_pods = value
        elif is_scalar_resource(name):
            self.scalar[name] = value

    def add(self, other: Resource, sign: int = 1) -> None:
        self.milli_cpu += sign * other.milli_cpu
        self.memory += sign * other.memory
        self.ephemeral_storage += sign * other.ephemeral_storage
        self.allowed_pods += sign * other.allowed_pods
        for name, value in other.scalar.items():
            self.scalar[name] = self.scalar.get(name, 0) + sign * value

    def clone(self) -> Resource:
        return Resource(
            milli_cpu=self.milli_cpu,
            memory=self.memory,
            ephemeral_storage=self.ephemeral_storage,
            allowed_pods=self.allowed_pods,
            scalar=dict(self.scalar),
        )

    def is_zero(self) -> bool:
        return not (self.milli_cpu or self.memory or self.ephemeral_storage or any(self.scalar.values()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resource):
            return NotImplemented
        return (
            self.milli_cpu == other.milli_cpu
            and self.memory == other.memory
            and self.ephemeral_storage == other.ephemeral_storage
            and self.allowed_pods == other.allowed_pods
            and {k: v for k, v in self.scalar.items() if v} == {k: v for k, v in other.scalar.items() if v}
        )

    def __repr__(self) -> str:
        extra = f", scalar={self.scalar}" if self.scalar else ""
        return (
            f"Resource(cpu={self.milli_cpu}m, memory={self.memory}, "
            f"ephemeral={self.ephemeral_storage}, pods={self.allowed_pods}{extra})"
        )


def _container_amounts(container: Obj, defaults: Mapping[str, int] | None) -> dict[str, int]:
    requests = (container.get("resources") or {}).get("requests") or {}
    out = {name: amount(name, value) for name, value in requests.items()}
    if defaults:
        for name, value in defaults.items():
            if name not in requests:
                out[name] = value
    return out


def _add_into(total: dict[str, int], more: Mapping[str, int]) -> None:
    for name, value in more.items():
        total[name] = total.get(name, 0) + value


def _max_into(total: dict[str, int], other: Mapping[str, int]) -> None:
    for name, value in other.items():
        if value > total.get(name, 0):
            total[name] = value


def pod_requests(pod: Obj, *, non_missing: Mapping[str, int] | None = None) -> dict[str, int]:
    """What the pod needs on a node, by resource name (CPU in milli-units).

    ``non_missing`` gives the amount a container counts for a resource it does not
    name (the scoring defaults); None counts missing requests as zero.
    """
    spec: Obj = pod.get("spec") or {}
    total: dict[str, int] = {}
    for container in spec.get("containers") or []:
        _add_into(total, _container_amounts(container, non_missing))
    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for container in spec.get("initContainers") or []:
        amounts = _container_amounts(container, non_missing)
        if container.get("restartPolicy") == "Always":
            # A sidecar keeps running: it adds to the pod's steady state, and every
            # init container after it runs next to all the sidecars started so far.
            _add_into(total, amounts)
            _add_into(sidecars, amounts)
            amounts = dict(sidecars)
        else:
            amounts = dict(amounts)
            _add_into(amounts, sidecars)
        _max_into(init_peak, amounts)
    _max_into(total, init_peak)
    pod_level = (spec.get("resources") or {}).get("requests") or {}
    for name in (CPU, MEMORY):
        if name in pod_level:
            # Pod-level resources (KEP 2837) replace the per-container sum for cpu/memory.
            total[name] = amount(name, pod_level[name])
    for name, value in (spec.get("overhead") or {}).items():
        total[name] = total.get(name, 0) + amount(name, value)
    return total


def requests_and_non_zero(pod: Obj) -> tuple[dict[str, int], int, int]:
    """(``pod_requests(pod)``, non-zero CPU, non-zero memory) in one pass over the
    containers when the pod has no init containers, overhead or pod-level resources —
    the common case, parsed for every pod the scheduler sees."""
    spec: Obj = pod.get("spec") or {}
    if spec.get("initContainers") or spec.get("overhead") or (spec.get("resources") or {}).get("requests"):
        non_zero = pod_requests(pod, non_missing=NON_ZERO_DEFAULTS)
        return pod_requests(pod), non_zero.get(CPU, 0), non_zero.get(MEMORY, 0)
    total: dict[str, int] = {}
    nz_cpu = nz_mem = 0
    for container in spec.get("containers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        for name, value in requests.items():
            total[name] = total.get(name, 0) + amount(name, value)
        nz_cpu += amount(CPU, requests[CPU]) if CPU in requests else DEFAULT_MILLI_CPU_REQUEST
        nz_mem += amount(MEMORY, requests[MEMORY]) if MEMORY in requests else DEFAULT_MEMORY_REQUEST
    return total, nz_cpu, nz_mem
