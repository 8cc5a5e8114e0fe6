"""Semantic rules of apps/v1 workloads: Deployments, ReplicaSets, DaemonSets and
StatefulSets. They share one idea — a selector that must pick the pods their template
makes — so the selector/template check lives here and batch/v1 reuses it."""

from __future__ import annotations

from typing import Any

from kube.errors import BadRequest, FieldError, FieldErrorType, forbidden, invalid, not_supported, required
from kube.labels import from_label_selector, validate_label_selector
from kube.model.checks import (
    Obj,
    go_intstr,
    go_map,
    go_quote,
    go_selector,
    immutable_shown,
    invalid_shown,
    non_negative,
    obj,
    percent_or_int,
    percent_value,
)
from kube.model.validate_pod import validate_pod_template


def selector_matches_template(selector: Any, template: Obj, path: str) -> list[FieldError]:
    """The selector must select the template's labels (an empty selector is reported
    separately, and an invalid one by the label-selector rules)."""
    if not isinstance(selector, dict):
        return []
    try:
        parsed = from_label_selector(selector)
    except BadRequest:
        return []
    labels = obj(template.get("metadata")).get("labels")
    if parsed.empty or parsed.matches(labels if isinstance(labels, dict) else {}):
        return []
    return [
        invalid_shown(
            f"{path}.metadata.labels", go_map(labels), "`selector` does not match template `labels`"
        )
    ]


def _selector(spec: Obj, kind: str) -> list[FieldError]:
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        return []  # a missing selector is reported as "Required value"
    errors = validate_label_selector(selector, "spec.selector")
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        errors.append(
            invalid_shown("spec.selector", go_selector(selector), f"empty selector is invalid for {kind}")
        )
    return errors


def _template(spec: Obj, *, owner: str) -> list[FieldError]:
    template = spec.get("template")
    if not isinstance(template, dict):
        return []
    errors = selector_matches_template(spec.get("selector"), template, "spec.template")
    errors += validate_pod_template(template, "spec.template")
    pod_spec = obj(template.get("spec"))
    policy = pod_spec.get("restartPolicy")
    if isinstance(policy, str) and policy and policy != "Always":
        errors.append(not_supported("spec.template.spec.restartPolicy", policy, ["Always"]))
    deadline = pod_spec.get("activeDeadlineSeconds")
    if deadline is not None:
        errors.append(
            invalid(
                "spec.template.spec.activeDeadlineSeconds",
                deadline,
                f"activeDeadlineSeconds in {owner} is not Supported",
            )
        )
    return errors


def _counts(spec: Obj, *keys: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for key in keys:
        errors += non_negative(spec.get(key), f"spec.{key}")
    return errors


def _unsupported_strategy(path: str, kind: str, strategy: Obj, allowed: list[str]) -> FieldError:
    rolling = "nil" if strategy.get("rollingUpdate") is None else "{...}"
    shown = f"apps.{kind}{{Type:{go_quote(str(strategy.get('type') or ''))}, RollingUpdate:{rolling}}}"
    detail = "supported values: " + ", ".join(go_quote(v) for v in allowed)
    return FieldError(type=FieldErrorType.NOT_SUPPORTED, field=path, detail=f"{shown}: {detail}")


def validate_deployment(deployment: Obj) -> list[FieldError]:
    spec = obj(deployment.get("spec"))
    errors = _counts(spec, "replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds")
    errors += _selector(spec, "deployment")
    errors += _template(spec, owner="ReplicaSet")
    strategy = obj(spec.get("strategy"))
    kind, rolling = strategy.get("type"), strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            errors.append(
                forbidden(
                    "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"
                )
            )
    elif kind == "RollingUpdate":
        if isinstance(rolling, dict):
            errors += _rolling_deployment(rolling, "spec.strategy.rollingUpdate")
    elif kind is not None:
        errors.append(
            _unsupported_strategy(
                "spec.strategy", "DeploymentStrategy", strategy, ["Recreate", "RollingUpdate"]
            )
        )
    deadline, ready = spec.get("progressDeadlineSeconds"), spec.get("minReadySeconds") or 0
    if isinstance(deadline, int) and isinstance(ready, int) and deadline <= ready:
        errors.append(
            invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")
        )
    return errors


def _amount(value: Any) -> int:
    percent = percent_value(value)
    if percent is not None:
        return percent
    return value if isinstance(value, int) else 0


def _rolling_deployment(rolling: Obj, path: str) -> list[FieldError]:
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errors = percent_or_int(unavailable, f"{path}.maxUnavailable")
    errors += percent_or_int(surge, f"{path}.maxSurge", at_most_100=False)
    if _amount(unavailable) == 0 and _amount(surge) == 0:
        errors.append(
            invalid_shown(
                f"{path}.maxUnavailable", go_intstr(unavailable), "may not be 0 when `maxSurge` is 0"
            )
        )
    return errors


def validate_replica_set(replica_set: Obj) -> list[FieldError]:
    spec = obj(replica_set.get("spec"))
    errors = _counts(spec, "replicas", "minReadySeconds")
    # Kubernetes' message really says "deployment" for replica sets too.
    errors += _selector(spec, "deployment")
    return errors + _template(spec, owner="ReplicaSet")


def validate_daemon_set(daemon_set: Obj) -> list[FieldError]:
    spec = obj(daemon_set.get("spec"))
    errors = _selector(spec, "daemonset")
    errors += _template(spec, owner="DaemonSet")
    errors += _counts(spec, "minReadySeconds", "templateGeneration", "revisionHistoryLimit")
    strategy = obj(spec.get("updateStrategy"))
    kind, rolling = strategy.get("type"), strategy.get("rollingUpdate")
    if kind == "RollingUpdate":
        if isinstance(rolling, dict):
            errors += _rolling_daemon_set(rolling, "spec.updateStrategy.rollingUpdate")
        else:
            errors.append(required("spec.updateStrategy.rollingUpdate"))
    elif kind not in (None, "OnDelete"):
        errors.append(
            _unsupported_strategy(
                "spec.updateStrategy", "DaemonSetUpdateStrategy", strategy, ["RollingUpdate", "OnDelete"]
            )
        )
    return errors


def _rolling_daemon_set(rolling: Obj, path: str) -> list[FieldError]:
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errors = percent_or_int(unavailable, f"{path}.maxUnavailable") + percent_or_int(surge, f"{path}.maxSurge")
    has_unavailable, has_surge = _amount(unavailable) != 0, _amount(surge) != 0
    if has_unavailable and has_surge:
        errors.append(
            invalid_shown(
                f"{path}.maxSurge", go_intstr(surge), "may not be set when maxUnavailable is non-zero"
            )
        )
    elif not has_unavailable and not has_surge:
        errors.append(required(f"{path}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return errors


def validate_stateful_set(stateful_set: Obj) -> list[FieldError]:
    spec = obj(stateful_set.get("spec"))
    errors = _counts(spec, "replicas", "minReadySeconds", "revisionHistoryLimit")
    policy = spec.get("podManagementPolicy")
    if isinstance(policy, str) and policy not in ("OrderedReady", "Parallel"):
        errors.append(not_supported("spec.podManagementPolicy", policy, ["OrderedReady", "Parallel"]))
    errors += _selector(spec, "statefulset")
    return errors + _template(spec, owner="StatefulSet")


def validate_selector_update(new: Obj, old: Obj) -> list[FieldError]:
    """apps/v1 workloads may never change their selector."""
    before, after = obj(old.get("spec")).get("selector"), obj(new.get("spec")).get("selector")
    if (before or None) != (after or None):
        return [immutable_shown("spec.selector", go_selector(after))]
    return []


_STATEFUL_SET_MUTABLE = (
    "replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds",
)  # fmt: skip


def validate_stateful_set_update(new: Obj, old: Obj) -> list[FieldError]:
    new_spec, old_spec = obj(new.get("spec")), obj(old.get("spec"))
    rest_new = {k: v for k, v in new_spec.items() if k not in _STATEFUL_SET_MUTABLE and v is not None}
    rest_old = {k: v for k, v in old_spec.items() if k not in _STATEFUL_SET_MUTABLE and v is not None}
    if rest_new != rest_old:
        return [
            forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                "'minReadySeconds' are forbidden",
            )
        ]
    return []
