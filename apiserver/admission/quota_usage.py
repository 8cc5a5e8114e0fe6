"""What an object counts against a ResourceQuota, as Kubernetes' quota evaluators say.

- A pod that has not finished (phase not Succeeded/Failed) counts ``pods`` and
  ``count/pods`` once, and its requests and limits under ``requests.<r>``/``<r>`` and
  ``limits.<r>`` (cpu, memory, ephemeral-storage, and extended resources as
  ``requests.<name>``). The pod's total is the sum of its containers, or its largest
  init container when that is larger, plus its declared overhead.
- Any other object counts ``count/<resource>[.<group>]`` once, and the classic names
  (``services``, ``secrets``, ``configmaps``, ``persistentvolumeclaims``,
  ``replicationcontrollers``, ``resourcequotas``); a Service also counts
  ``services.nodeports`` and ``services.loadbalancers``.
- Quota scopes (``Terminating``, ``NotTerminating``, ``BestEffort``, ``NotBestEffort``
  and the ``PriorityClass`` scope selector) narrow a quota to some pods; a scoped quota
  counts no other kind.
"""

from __future__ import annotations

from typing import Any

from kube.quantity import Quantity, QuantityError

from .chain import as_dict, as_list

Obj = dict[str, Any]
Usage = dict[str, Quantity]

_COMPUTE = ("cpu", "memory", "ephemeral-storage")
_LEGACY_COUNTS = frozenset(
    {"services", "secrets", "configmaps", "persistentvolumeclaims", "replicationcontrollers", "resourcequotas"}
)
_ONE = Quantity(1)


def quantity(value: Any) -> Quantity | None:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        try:
            return Quantity(value)
        except (QuantityError, ValueError, TypeError):
            return None
    return None


def parse_list(raw: Any) -> Usage:
    out: Usage = {}
    for name, value in as_dict(raw).items():
        q = quantity(value)
        if q is not None:
            out[str(name)] = q
    return out


def format_list(usage: Usage) -> dict[str, str]:
    return {name: str(q) for name, q in sorted(usage.items())}


def add(total: Usage, more: Usage, *, sign: int = 1) -> Usage:
    out = dict(total)
    for name, q in more.items():
        current = out.get(name, Quantity(0))
        out[name] = current + q if sign > 0 else current - q
    return out


def count_name(resource: str, group: str) -> str:
    return f"count/{resource}.{group}" if group else f"count/{resource}"


def is_terminal(pod: Obj) -> bool:
    return as_dict(pod.get("status")).get("phase") in ("Succeeded", "Failed")


def _container_usage(container: Obj) -> tuple[Usage, Usage]:
    resources = as_dict(container.get("resources"))
    return parse_list(resources.get("requests")), parse_list(resources.get("limits"))


def pod_totals(pod: Obj) -> tuple[Usage, Usage]:
    spec = as_dict(pod.get("spec"))
    requests: Usage = {}
    limits: Usage = {}
    for container in as_list(spec.get("containers")):
        r, lim = _container_usage(as_dict(container))
        requests, limits = add(requests, r), add(limits, lim)
    for container in as_list(spec.get("initContainers")):
        r, lim = _container_usage(as_dict(container))
        for target, values in ((requests, r), (limits, lim)):
            for name, q in values.items():
                if name not in target or q > target[name]:
                    target[name] = q
    overhead = parse_list(spec.get("overhead"))
    return add(requests, overhead), add(limits, overhead)


def pod_usage(pod: Obj) -> Usage:
    if is_terminal(pod):
        return {}
    usage: Usage = {"pods": _ONE, "count/pods": _ONE}
    requests, limits = pod_totals(pod)
    for name, q in requests.items():
        usage[f"requests.{name}"] = q
        if name in _COMPUTE:
            usage[name] = q
    for name, q in limits.items():
        usage[f"limits.{name}"] = q
    return usage


def object_usage(*, resource: str, group: str, obj: Obj) -> Usage:
    if group == "" and resource == "pods":
        return pod_usage(obj)
    usage: Usage = {count_name(resource, group): _ONE}
    if group == "" and resource in _LEGACY_COUNTS:
        usage[resource] = _ONE
    if group == "" and resource == "services":
        spec = as_dict(obj.get("spec"))
        kind = spec.get("type")
        if kind in ("NodePort", "LoadBalancer"):
            usage["services.nodeports"] = Quantity(len(as_list(spec.get("ports"))))
        if kind == "LoadBalancer":
            usage["services.loadbalancers"] = _ONE
    return usage


def best_effort(pod: Obj) -> bool:
    for key in ("containers", "initContainers"):
        for container in as_list(as_dict(pod.get("spec")).get(key)):
            requests, limits = _container_usage(as_dict(container))
            if any(name in ("cpu", "memory") for name in (*requests, *limits)):
                return False
    return True


def _scope_matches(scope: str, operator: str, values: list[Any], pod: Obj) -> bool:
    spec = as_dict(pod.get("spec"))
    if scope == "Terminating":
        return spec.get("activeDeadlineSeconds") is not None
    if scope == "NotTerminating":
        return spec.get("activeDeadlineSeconds") is None
    if scope == "BestEffort":
        return best_effort(pod)
    if scope == "NotBestEffort":
        return not best_effort(pod)
    if scope == "PriorityClass":
        name = spec.get("priorityClassName") or ""
        if operator == "In":
            return name in values
        if operator == "NotIn":
            return name not in values
        if operator == "Exists":
            return bool(name)
        if operator == "DoesNotExist":
            return not name
    return False


def quota_matches(quota: Obj, *, resource: str, group: str, obj: Obj) -> bool:
    """Whether a quota's scopes select ``obj`` (an unscoped quota selects everything)."""
    spec = as_dict(quota.get("spec"))
    scopes: list[tuple[str, str, list[Any]]] = [(s, "Exists", []) for s in as_list(spec.get("scopes")) if isinstance(s, str)]
    for expr in as_list(as_dict(spec.get("scopeSelector")).get("matchExpressions")):
        expr = as_dict(expr)
        scopes.append((str(expr.get("scopeName") or ""), str(expr.get("operator") or ""), as_list(expr.get("values"))))
    if not scopes:
        return True
    if not (group == "" and resource == "pods"):
        return False
    return all(_scope_matches(scope, op, values, obj) for scope, op, values in scopes)


def missing_constraints(pod: Obj, hard: Usage) -> list[str]:
    """A quota limiting cpu/memory requests or limits requires every container to say
    them (otherwise usage could not be accounted): ``limits.cpu for: app``."""
    wanted = [r for r in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory") if r in hard]
    missing: list[str] = []
    for resource in wanted:
        section, _, name = resource.rpartition(".")
        section = section or "requests"
        lacking = []
        for key in ("containers", "initContainers"):
            for container in as_list(as_dict(pod.get("spec")).get(key)):
                container = as_dict(container)
                values = as_dict(as_dict(container.get("resources")).get(section))
                if name not in values:
                    lacking.append(str(container.get("name") or ""))
        if lacking:
            missing.append(f"{resource} for: {','.join(lacking)}")
    return missing
