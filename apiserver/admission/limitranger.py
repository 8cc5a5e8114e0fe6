"""LimitRanger: default container resources, and enforce a namespace's LimitRanges.

For each new pod, every LimitRange of its namespace applies, as in Kubernetes:

- ``type: Container`` items give defaults: a container without a limit for a
  resource gets ``default``, one without a request gets ``defaultRequest`` (an item's
  missing ``default`` is its ``max``, a missing ``defaultRequest`` its ``default`` or
  ``min``). A limit the user set becomes the request first, as pod defaulting does in
  Kubernetes before LimitRanger sees the pod.
- ``min`` and ``max`` bound each container's request and limit, and
  ``maxLimitRequestRatio`` bounds limit ÷ request; ``type: Pod`` items bound the pod's
  total (the sum of its containers, or its largest init container if larger).

Every violated constraint is reported at once (one message each), in Kubernetes' words ("maximum cpu usage per
Container is 1, but limit is 2"). Pods only (claims are not served); updates are not
checked, since container resources cannot change after creation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from apiserver.registry import Context
from apiserver.registry.admission import Operation
from kube.quantity import Quantity, QuantityError

from .chain import Base, Obj, as_dict, as_list, forbidden
from .lookup import cached_list, store_of

_CONTAINER_KEYS = ("containers", "initContainers")


def _q(value: Any) -> Quantity | None:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            return Quantity(value)
        except (QuantityError, ValueError, TypeError):
            return None
    return None


def _item_defaults(item: Obj) -> tuple[Obj, Obj]:
    """(default limits, default requests) of a Container item, with Kubernetes' fallbacks."""
    default = dict(as_dict(item.get("default")))
    request = dict(as_dict(item.get("defaultRequest")))
    for source, target in ((as_dict(item.get("max")), default), (default, request), (as_dict(item.get("min")), request)):
        for name, quantity in source.items():
            target.setdefault(name, quantity)
    return default, request


def apply_defaults(pod: Obj, items: list[Obj]) -> None:
    spec = as_dict(pod.get("spec"))
    for item in items:
        if item.get("type") != "Container":
            continue
        default_limits, default_requests = _item_defaults(item)
        for key in _CONTAINER_KEYS:
            for container in as_list(spec.get(key)):
                if not isinstance(container, dict):
                    continue
                resources = container.get("resources")
                if resources is None:
                    resources = container["resources"] = {}
                if not isinstance(resources, dict):
                    continue
                raw_limits, raw_requests = resources.get("limits"), resources.get("requests")
                limits: Obj = raw_limits if isinstance(raw_limits, dict) else {}
                requests: Obj = raw_requests if isinstance(raw_requests, dict) else {}
                for name, quantity in limits.items():
                    requests.setdefault(name, quantity)
                for name, quantity in default_limits.items():
                    limits.setdefault(name, quantity)
                for name, quantity in default_requests.items():
                    requests.setdefault(name, quantity)
                if limits:
                    resources["limits"] = limits
                if requests:
                    resources["requests"] = requests


def _check(errors: list[str], *, kind: str, item: Obj, requests: dict[str, Quantity], limits: dict[str, Quantity]) -> None:
    for name, raw in as_dict(item.get("min")).items():
        bound = _q(raw)
        if bound is None:
            continue
        request, limit = requests.get(name), limits.get(name)
        if request is None:
            errors.append(f"minimum {name} usage per {kind} is {bound}.  No request is specified")
        elif request < bound:
            errors.append(f"minimum {name} usage per {kind} is {bound}, but request is {request}")
        elif limit is not None and limit < bound:
            errors.append(f"minimum {name} usage per {kind} is {bound}, but limit is {limit}")
    for name, raw in as_dict(item.get("max")).items():
        bound = _q(raw)
        if bound is None:
            continue
        request, limit = requests.get(name), limits.get(name)
        if limit is None:
            errors.append(f"maximum {name} usage per {kind} is {bound}.  No limit is specified")
        elif limit > bound:
            errors.append(f"maximum {name} usage per {kind} is {bound}, but limit is {limit}")
        elif request is not None and request > bound:
            errors.append(f"maximum {name} usage per {kind} is {bound}, but request is {request}")
    for name, raw in as_dict(item.get("maxLimitRequestRatio")).items():
        bound = _q(raw)
        if bound is None:
            continue
        request, limit = requests.get(name), limits.get(name)
        if limit is None:
            errors.append(f"{name} max limit to request ratio per {kind} is {bound}, but no limit is specified")
        elif request is None or request.is_zero():
            errors.append(
                f"{name} max limit to request ratio per {kind} is {bound}, but no request is specified or request is 0"
            )
        else:
            ratio = limit.as_decimal() / request.as_decimal()
            if ratio > bound.as_decimal():
                errors.append(
                    f"{name} max limit to request ratio per {kind} is {bound}, but provided ratio is {_ratio(ratio)}"
                )


def _ratio(value: Decimal) -> str:
    return f"{float(value):f}"


def _container_resources(container: Obj) -> tuple[dict[str, Quantity], dict[str, Quantity]]:
    resources = as_dict(container.get("resources"))
    out: list[dict[str, Quantity]] = []
    for key in ("requests", "limits"):
        parsed = {}
        for name, raw in as_dict(resources.get(key)).items():
            q = _q(raw)
            if q is not None:
                parsed[name] = q
        out.append(parsed)
    return out[0], out[1]


def _pod_totals(spec: Obj) -> tuple[dict[str, Quantity], dict[str, Quantity]]:
    totals: list[dict[str, Quantity]] = [{}, {}]
    for container in as_list(spec.get("containers")):
        for total, values in zip(totals, _container_resources(as_dict(container)), strict=True):
            for name, q in values.items():
                total[name] = total[name] + q if name in total else q
    for container in as_list(spec.get("initContainers")):
        for total, values in zip(totals, _container_resources(as_dict(container)), strict=True):
            for name, q in values.items():
                if name not in total or q > total[name]:
                    total[name] = q
    return totals[0], totals[1]


def violations(pod: Obj, items: list[Obj]) -> list[str]:
    spec = as_dict(pod.get("spec"))
    errors: list[str] = []
    for item in items:
        kind = item.get("type")
        if kind == "Container":
            for key in _CONTAINER_KEYS:
                for container in as_list(spec.get(key)):
                    requests, limits = _container_resources(as_dict(container))
                    _check(errors, kind="Container", item=item, requests=requests, limits=limits)
        elif kind == "Pod":
            requests, limits = _pod_totals(spec)
            _check(errors, kind="Pod", item=item, requests=requests, limits=limits)
    return list(dict.fromkeys(errors))


class LimitRanger(Base):
    name: ClassVar[str] = "LimitRanger"
    resources: ClassVar[frozenset[tuple[str, str]]] = frozenset({("", "pods")})

    def _items(self, namespace: str) -> list[Obj]:
        items: list[Obj] = []
        for limit_range in cached_list(store_of(self.api, group="", resource="limitranges"), namespace=namespace):
            items.extend(as_dict(i) for i in as_list(as_dict(limit_range.get("spec")).get("limits")))
        return items

    async def mutate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        if operation is not Operation.CREATE or ctx.subresource or not isinstance(obj, dict):
            return
        if not isinstance(obj.get("spec"), dict):
            return
        items = self._items(ctx.namespace or str(as_dict(obj.get("metadata")).get("namespace") or ""))
        if items:
            apply_defaults(obj, items)

    async def validate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        if operation is not Operation.CREATE or ctx.subresource or not isinstance(obj, dict):
            return
        items = self._items(ctx.namespace or str(as_dict(obj.get("metadata")).get("namespace") or ""))
        errors = violations(obj, items) if items else []
        if errors:
            raise forbidden(ctx, obj, errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
