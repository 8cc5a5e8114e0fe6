"""PodDisruptionBudgets as the eviction subresource reads and spends them.

An eviction may take a pod away only if the budget covering it still allows a
disruption. The budget's ``status`` (``disruptionsAllowed``, ``currentHealthy``,
``desiredHealthy``, ``observedGeneration``) is computed by the disruption controller;
the eviction only checks it and spends one disruption, recording the pod in
``status.disruptedPods`` so the controller does not count it as healthy while it goes
(Kubernetes' ``checkAndDecrement``).

kubesim has no disruption controller yet: a budget's status is whatever was last
written to its ``/status``. A budget whose status was never written (or whose
``observedGeneration`` is behind its ``generation``) therefore refuses every eviction
with 429, as a real cluster does while its controller has not caught up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kube import labels
from kube import meta as kmeta
from kube.errors import Cause, Details, Forbidden, StatusError, TooManyRequests

from ..store import copy_obj
from ..strategy import Obj

DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"
MAX_DISRUPTED_PODS = 2000
"""More unconfirmed evictions than this means the controller is far behind: refuse."""
VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


def too_many_requests(*, message: str, retry_after: int) -> TooManyRequests:
    return TooManyRequests(
        VIOLATION,
        details=Details(
            causes=(Cause(reason=DISRUPTION_BUDGET_CAUSE, message=message),), retry_after_seconds=retry_after
        ),
    )


def still_processing(name: str) -> TooManyRequests:
    return too_many_requests(
        message=f"The disruption budget {name} is still being processed by the server.", retry_after=10
    )


def matching(budgets: list[Obj], pod: Obj) -> list[Obj]:
    """The budgets whose selector selects the pod. A missing or empty selector selects
    nothing here (not everything), and an unparsable one is skipped, as in Kubernetes."""
    pod_labels = (pod.get("metadata") or {}).get("labels") or {}
    found = []
    for budget in budgets:
        selector_spec = (budget.get("spec") or {}).get("selector")
        try:
            selector = labels.from_label_selector(selector_spec if isinstance(selector_spec, dict) else None)
        except StatusError:
            continue
        if selector.empty or not selector.matches(pod_labels):
            continue
        found.append(budget)
    return found


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def pod_is_ready(pod: Obj) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def unready_pod_is_spare(budget: Obj, pod: Obj) -> bool:
    """An unready pod does not count towards healthy: when the budget is met without
    it, evicting it spends nothing."""
    status = budget.get("status") or {}
    desired = _int(status.get("desiredHealthy"))
    return not pod_is_ready(pod) and _int(status.get("currentHealthy")) >= desired and desired > 0


def _set_disruption_allowed(status: Obj) -> None:
    allowed = _int(status.get("disruptionsAllowed")) > 0
    value, reason = ("True", "SufficientPods") if allowed else ("False", "InsufficientPods")
    conditions = status.get("conditions")
    if not isinstance(conditions, list):
        conditions = status["conditions"] = []
    condition = {
        "type": "DisruptionAllowed",
        "status": value,
        "reason": reason,
        "message": "",
        "observedGeneration": _int(status.get("observedGeneration")),
        "lastTransitionTime": kmeta.now(),
    }
    for index, old in enumerate(conditions):
        if isinstance(old, dict) and old.get("type") == "DisruptionAllowed":
            if old.get("status") == value and old.get("lastTransitionTime"):
                condition["lastTransitionTime"] = old["lastTransitionTime"]
            conditions[index] = condition
            return
    conditions.append(condition)


def spend(current: Obj, *, pod_name: str, dry_run: bool) -> Obj:
    """The budget with one disruption spent on ``pod_name``; raises 429 (or 403) when it
    allows none. Computed from the stored budget on every compare-and-swap attempt."""
    budget = copy_obj(current)
    name = budget["metadata"].get("name", "")
    status = budget.get("status")
    if not isinstance(status, dict):
        status = budget["status"] = {}
    if _int(status.get("observedGeneration")) < _int(budget["metadata"].get("generation")):
        raise still_processing(name)
    allowed = _int(status.get("disruptionsAllowed"))
    if allowed < 0:
        raise Forbidden.of(
            resource="poddisruptionbudget",
            group="policy",
            name=name,
            err="pdb disruptions allowed is negative",
        )
    disrupted = status.get("disruptedPods")
    if isinstance(disrupted, dict) and len(disrupted) > MAX_DISRUPTED_PODS:
        raise Forbidden.of(
            resource="poddisruptionbudget",
            group="policy",
            name=name,
            err="DisruptedPods map too big - too many evictions not confirmed by PDB controller",
        )
    if allowed == 0:
        desired, healthy = _int(status.get("desiredHealthy")), _int(status.get("currentHealthy"))
        raise too_many_requests(
            message=f"The disruption budget {name} needs {desired} healthy pods and has {healthy} currently",
            retry_after=0,
        )
    status["disruptionsAllowed"] = allowed - 1
    if allowed - 1 == 0:
        _set_disruption_allowed(status)
    if not dry_run:
        if not isinstance(disrupted, dict):
            disrupted = status["disruptedPods"] = {}
        disrupted[pod_name] = kmeta.format_time(dt.datetime.now(dt.UTC))
    return budget
