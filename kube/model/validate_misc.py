"""Semantic rules of the smaller groups: coordination (Lease), scheduling
(PriorityClass), policy (PodDisruptionBudget) and RBAC roles and bindings."""

from __future__ import annotations

from typing import Any

from kube.errors import FieldError, forbidden, invalid, not_supported, required
from kube.labels import validate_label_selector
from kube.model.checks import Obj, dicts, go_quote, invalid_shown, obj, percent_or_int, text

# -- coordination.k8s.io/v1 -------------------------------------------------------------


def validate_lease(lease: Obj) -> list[FieldError]:
    spec = obj(lease.get("spec"))
    errors: list[FieldError] = []
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        errors.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if isinstance(transitions, int) and transitions < 0:
        errors.append(invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"))
    return errors


# -- scheduling.k8s.io/v1 -------------------------------------------------------------------

HIGHEST_USER_PRIORITY = 1_000_000_000
SYSTEM_PRIORITY_CLASSES = {"system-cluster-critical": 2_000_000_000, "system-node-critical": 2_000_001_000}


def validate_priority_class(priority_class: Obj) -> list[FieldError]:
    name = text(obj(priority_class.get("metadata")).get("name"))
    value = priority_class.get("value")
    errors: list[FieldError] = []
    if name.startswith("system-"):
        expected = SYSTEM_PRIORITY_CLASSES.get(name)
        problem = (
            f"{name} is not a known system priority class"
            if expected is None
            else f"value of {name} PriorityClass must be {expected}"
            if value != expected
            else ""
        )
        if problem:
            errors.append(
                forbidden(
                    "metadata.name",
                    "priority class names with 'system-' prefix are reserved for "
                    f"system use only. error: {problem}",
                )
            )
    elif isinstance(value, int) and value > HIGHEST_USER_PRIORITY:
        errors.append(
            forbidden("value", f"maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}")
        )
    policy = priority_class.get("preemptionPolicy")
    if isinstance(policy, str) and policy not in ("PreemptLowerPriority", "Never"):
        errors.append(not_supported("preemptionPolicy", policy, ["Never", "PreemptLowerPriority"]))
    return errors


def validate_priority_class_update(new: Obj, old: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    if new.get("value") != old.get("value"):
        errors.append(forbidden("value", "may not be changed in an update."))
    if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
        errors.append(invalid("preemptionPolicy", new.get("preemptionPolicy"), "field is immutable"))
    return errors


# -- policy/v1 --------------------------------------------------------------------------------


def validate_pod_disruption_budget(budget: Obj) -> list[FieldError]:
    spec = obj(budget.get("spec"))
    errors: list[FieldError] = []
    minimum, maximum = spec.get("minAvailable"), spec.get("maxUnavailable")
    if minimum is not None and maximum is not None:
        shown = f"policy.PodDisruptionBudgetSpec{{MinAvailable:{_intstr(minimum)}, MaxUnavailable:{_intstr(maximum)}}}"
        errors.append(invalid_shown("spec", shown, "minAvailable and maxUnavailable cannot be both set"))
    for key, value in (("minAvailable", minimum), ("maxUnavailable", maximum)):
        if value is not None:
            errors += percent_or_int(value, f"spec.{key}")
    selector = spec.get("selector")
    if isinstance(selector, dict):
        errors += validate_label_selector(selector, "spec.selector")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if isinstance(policy, str) and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        errors.append(
            not_supported("spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"])
        )
    return errors


def _intstr(value: Any) -> str:
    return go_quote(value) if isinstance(value, str) else str(value)


# -- rbac.authorization.k8s.io/v1 -------------------------------------------------------------

_RBAC_GROUP = "rbac.authorization.k8s.io"


def _rules(rules: Any, *, namespaced: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, rule in dicts(rules):
        at = f"rules[{index}]"
        if not rule.get("verbs"):
            errors.append(required(f"{at}.verbs", "verbs must contain at least one value"))
        urls = rule.get("nonResourceURLs")
        if urls:
            if namespaced:
                errors.append(
                    invalid(
                        f"{at}.nonResourceURLs", urls, "namespaced rules cannot apply to non-resource URLs"
                    )
                )
            if rule.get("apiGroups") or rule.get("resources"):
                errors.append(
                    invalid(
                        f"{at}.nonResourceURLs",
                        urls,
                        "rules cannot apply to both regular resources and non-resource URLs",
                    )
                )
            continue
        if not rule.get("apiGroups"):
            errors.append(required(f"{at}.apiGroups", "resource rules must supply at least one api group"))
        if not rule.get("resources"):
            errors.append(required(f"{at}.resources", "resource rules must supply at least one resource"))
    return errors


def validate_role(role: Obj) -> list[FieldError]:
    return _rules(role.get("rules"), namespaced=True)


def validate_cluster_role(role: Obj) -> list[FieldError]:
    return _rules(role.get("rules"), namespaced=False)


def _binding(binding: Obj, *, namespaced: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    ref = obj(binding.get("roleRef"))
    errors += _supported_value(ref.get("apiGroup"), "roleRef.apiGroup", [_RBAC_GROUP])
    errors += _supported_value(
        ref.get("kind"), "roleRef.kind", ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    )
    if ref.get("name") == "":
        errors.append(required("roleRef.name"))
    for index, subject in dicts(binding.get("subjects")):
        at = f"subjects[{index}]"
        kind = subject.get("kind")
        if not subject.get("name"):
            errors.append(required(f"{at}.name"))
        if kind == "ServiceAccount":
            if subject.get("apiGroup"):
                errors.append(not_supported(f"{at}.apiGroup", subject["apiGroup"], [""]))
            if not namespaced and not subject.get("namespace"):
                errors.append(required(f"{at}.namespace"))
        elif kind in ("User", "Group"):
            errors += _supported_value(subject.get("apiGroup"), f"{at}.apiGroup", [_RBAC_GROUP])
        else:
            errors.append(not_supported(f"{at}.kind", kind, ["ServiceAccount", "User", "Group"]))
    return errors


def _supported_value(value: Any, path: str, allowed: list[str]) -> list[FieldError]:
    return [] if value in allowed else [not_supported(path, value, allowed)]


def validate_role_binding(binding: Obj) -> list[FieldError]:
    return _binding(binding, namespaced=True)


def validate_cluster_role_binding(binding: Obj) -> list[FieldError]:
    return _binding(binding, namespaced=False)


def validate_binding_update(new: Obj, old: Obj) -> list[FieldError]:
    if obj(new.get("roleRef")) != obj(old.get("roleRef")):
        ref = obj(new.get("roleRef"))
        shown = (
            f"rbac.RoleRef{{APIGroup:{go_quote(text(ref.get('apiGroup')))}, Kind:{go_quote(text(ref.get('kind')))}, "
            f"Name:{go_quote(text(ref.get('name')))}}}"
        )
        return [invalid_shown("roleRef", shown, "cannot change roleRef")]
    return []
