"""Where a pod may run: tolerations, node and pod affinity, topology spread.

These PodSpec rules mostly check label keys, operators and weights; they are apart
from the container rules because the scheduler's own code reads the same fields and
is easier to follow beside their validation.
"""

from __future__ import annotations

from typing import Any

from kube import names
from kube.errors import FieldError, duplicate, forbidden, invalid, not_supported, required
from kube.labels import validate_label_selector
from kube.model.checks import Obj, dicts, in_range, label_name, obj, supported, text

_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")


def validate_tolerations(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, toleration in dicts(value):
        at = f"{path}[{index}]"
        key, operator = text(toleration.get("key")), toleration.get("operator") or ""
        effect, value_ = toleration.get("effect") or "", text(toleration.get("value"))
        if key:
            errors += label_name(key, f"{at}.key")
        elif operator != "Exists":
            errors.append(
                invalid(
                    f"{at}.operator",
                    operator,
                    'operator must be Exists when `key` is empty, which means "match all values and all keys"',
                )
            )
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            errors.append(
                invalid(f"{at}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
            )
        if operator in ("Equal", ""):
            problems = names.is_valid_label_value(value_)
            if problems:
                errors.append(invalid(f"{at}.operator", value_, ";".join(problems)))
        elif operator == "Exists":
            if value_:
                errors.append(
                    invalid(f"{at}.operator", value_, "value must be empty when `operator` is 'Exists'")
                )
        else:
            errors.append(not_supported(f"{at}.operator", operator, ["Equal", "Exists"]))
        if effect:
            errors += supported(effect, f"{at}.effect", _TAINT_EFFECTS)
    return errors


def node_selector_requirements(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, req in dicts(value):
        at = f"{path}[{index}]"
        operator, values = req.get("operator"), req.get("values") or []
        errors += label_name(req.get("key"), f"{at}.key")
        if operator in ("In", "NotIn") and not values:
            errors.append(required(f"{at}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist") and values:
            errors.append(
                forbidden(
                    f"{at}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                )
            )
        elif operator in ("Gt", "Lt") and len(values) != 1:
            errors.append(
                required(f"{at}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'")
            )
        elif isinstance(operator, str) and operator and operator not in _NODE_OPERATORS:
            errors.append(invalid(f"{at}.operator", operator, "not a valid selector operator"))
    return errors


def _node_selector_term(term: Obj, path: str) -> list[FieldError]:
    return node_selector_requirements(term.get("matchExpressions"), f"{path}.matchExpressions") + (
        node_selector_requirements(term.get("matchFields"), f"{path}.matchFields")
    )


def validate_affinity(affinity: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    node = obj(affinity.get("nodeAffinity"))
    hard = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    if isinstance(hard, dict):
        at = f"{path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
        terms = hard.get("nodeSelectorTerms")
        if terms == []:
            errors.append(required(at, "must have at least one node selector term"))
        for index, term in dicts(terms):
            errors += _node_selector_term(term, f"{at}[{index}]")
    soft_path = f"{path}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"
    for index, term in dicts(node.get("preferredDuringSchedulingIgnoredDuringExecution")):
        errors += in_range(term.get("weight"), f"{soft_path}[{index}].weight", 1, 100)
        errors += _node_selector_term(obj(term.get("preference")), f"{soft_path}[{index}].preference")
    for kind in ("podAffinity", "podAntiAffinity"):
        section = obj(affinity.get(kind))
        hard_path = f"{path}.{kind}.requiredDuringSchedulingIgnoredDuringExecution"
        for index, term in dicts(section.get("requiredDuringSchedulingIgnoredDuringExecution")):
            errors += _pod_affinity_term(term, f"{hard_path}[{index}]")
        soft = f"{path}.{kind}.preferredDuringSchedulingIgnoredDuringExecution"
        for index, weighted in dicts(section.get("preferredDuringSchedulingIgnoredDuringExecution")):
            errors += in_range(weighted.get("weight"), f"{soft}[{index}].weight", 1, 100)
            errors += _pod_affinity_term(
                obj(weighted.get("podAffinityTerm")), f"{soft}[{index}].podAffinityTerm"
            )
    return errors


def _pod_affinity_term(term: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for key in ("labelSelector", "namespaceSelector"):
        selector = term.get(key)
        if isinstance(selector, dict):
            errors += validate_label_selector(selector, f"{path}.{key}")
    topology_key = term.get("topologyKey")
    if topology_key == "":
        errors.append(required(f"{path}.topologyKey", "can not be empty"))
    else:
        errors += label_name(topology_key, f"{path}.topologyKey")
    return errors


def validate_topology_spread(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for index, constraint in dicts(value):
        at = f"{path}[{index}]"
        skew = constraint.get("maxSkew")
        if isinstance(skew, int) and skew <= 0:
            errors.append(invalid(f"{at}.maxSkew", skew, "must be greater than zero"))
        topology_key = constraint.get("topologyKey")
        if topology_key == "":
            errors.append(required(f"{at}.topologyKey", "can not be empty"))
        else:
            errors += label_name(topology_key, f"{at}.topologyKey")
        when = constraint.get("whenUnsatisfiable")
        errors += supported(when, f"{at}.whenUnsatisfiable", ("DoNotSchedule", "ScheduleAnyway"))
        pair = (text(topology_key), text(when))
        if pair in seen:
            errors.append(duplicate(at, "{" + f"{pair[0]}, {pair[1]}" + "}"))
        seen.add(pair)
        min_domains = constraint.get("minDomains")
        if isinstance(min_domains, int):
            if min_domains <= 0:
                errors.append(invalid(f"{at}.minDomains", min_domains, "must be greater than 0"))
            elif when != "DoNotSchedule":
                errors.append(
                    invalid(
                        f"{at}.minDomains",
                        min_domains,
                        "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway",
                    )
                )
        for key in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
            errors += supported(constraint.get(key), f"{at}.{key}", ("Honor", "Ignore"))
        selector = constraint.get("labelSelector")
        if isinstance(selector, dict):
            errors += validate_label_selector(selector, f"{at}.labelSelector")
    return errors
