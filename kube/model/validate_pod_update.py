"""What may change in a running pod: almost nothing.

A pod is a record of containers the kubelet is running, so Kubernetes lets an update
touch only container images, a shorter ``activeDeadlineSeconds``, additional
tolerations, removed scheduling gates and one grace-period corner case. Like
``ValidatePodUpdate``, the check copies those allowed changes from the old spec into
the new one and then insists that the two specs are equal, answering otherwise with::

    spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,...

followed by a short list of what differs (Kubernetes prints a Go struct diff there).
Equality is Go's: an absent field equals its zero value (``false``, ``0``, ``""``,
an empty list or map), because the Go structs cannot tell them apart.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from kube.errors import FieldError, forbidden, invalid
from kube.model.checks import INT32_MAX, Obj, dicts, obj

UPDATABLE_FIELDS = ",".join(
    (
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    )
)
_DIFF_LINES = 20


def validate_pod_update(new: Obj, old: Obj) -> list[FieldError]:
    new_spec, old_spec = obj(new.get("spec")), obj(old.get("spec"))
    errors: list[FieldError] = []
    for key in ("containers", "initContainers"):
        if len(_list(new_spec.get(key))) != len(_list(old_spec.get(key))):
            errors.append(forbidden(f"spec.{key}", "pod updates may not add or remove containers"))
            return errors
    deadline_errors = _deadline(new_spec.get("activeDeadlineSeconds"), old_spec.get("activeDeadlineSeconds"))
    if deadline_errors:
        return errors + deadline_errors
    errors += _only_added_tolerations(new_spec.get("tolerations"), old_spec.get("tolerations"))
    errors += _only_deleted_gates(new_spec.get("schedulingGates"), old_spec.get("schedulingGates"))
    munged = _munge(new_spec, old_spec)
    before, after = go_zero_stripped(old_spec), go_zero_stripped(munged)
    if before != after:
        diff = "\n".join(_diff(before, after, "spec")[:_DIFF_LINES])
        errors.append(
            forbidden("spec", f"pod updates may not change fields other than {UPDATABLE_FIELDS}\n{diff}")
        )
    return errors


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _deadline(new: Any, old: Any) -> list[FieldError]:
    path = "spec.activeDeadlineSeconds"
    if isinstance(new, int):
        if not 0 <= new <= INT32_MAX:
            return [invalid(path, new, f"must be between 0 and {INT32_MAX}, inclusive")]
        if isinstance(old, int) and old < new:
            return [invalid(path, new, "must be less than or equal to previous value")]
    elif old is not None:
        return [invalid(path, None, "must not update from a positive integer to nil value")]
    return []


def _only_added_tolerations(new: Any, old: Any) -> list[FieldError]:
    candidates = [{k: v for k, v in t.items() if k != "tolerationSeconds"} for _, t in dicts(new)]
    for _, toleration in dicts(old):
        wanted = go_zero_stripped({k: v for k, v in toleration.items() if k != "tolerationSeconds"})
        if not any(go_zero_stripped(c) == wanted for c in candidates):
            return [
                forbidden(
                    "spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"
                )
            ]
    return []


def _only_deleted_gates(new: Any, old: Any) -> list[FieldError]:
    old_names = {g.get("name") for _, g in dicts(old)}
    return [
        forbidden(
            f"spec.schedulingGates[{index}].name",
            f"only deletion is allowed, but found new scheduling gate '{gate.get('name')}'",
        )
        for index, gate in dicts(new)
        if gate.get("name") not in old_names
    ]


def _munge(new_spec: Obj, old_spec: Obj) -> Obj:
    """The new spec with every allowed change undone (taken from the old spec)."""
    munged = copy.deepcopy(new_spec)
    for key in ("containers", "initContainers"):
        old_containers = _list(old_spec.get(key))
        for index, container in dicts(munged.get(key)):
            old_container = old_containers[index]
            if isinstance(old_container, dict):
                container["image"] = old_container.get("image")
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        munged[key] = old_spec.get(key)
    old_grace, new_grace = (
        old_spec.get("terminationGracePeriodSeconds"),
        munged.get("terminationGracePeriodSeconds"),
    )
    if isinstance(old_grace, int) and old_grace < 0 and new_grace == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    return munged


def go_zero_stripped(value: Any) -> Any:
    """``value`` with every Go zero value removed, so that comparing two results is
    ``apiequality.Semantic.DeepEqual`` on the decoded structs."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            stripped = go_zero_stripped(item)
            if not _is_zero(stripped):
                out[key] = stripped
        return out
    if isinstance(value, list):
        return [go_zero_stripped(item) for item in value]
    return value


def _is_zero(value: Any) -> bool:
    return (
        value is None
        or value is False
        or value == ""
        or value == []
        or value == {}
        or (type(value) is int and value == 0)
    )


def _diff(before: Any, after: Any, path: str) -> list[str]:
    """``-``/``+`` lines for each leaf that differs, with its field path."""
    if isinstance(before, dict) and isinstance(after, dict):
        lines: list[str] = []
        for key in sorted(set(before) | set(after)):
            lines += _diff(before.get(key), after.get(key), f"{path}.{key}")
        return lines
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        lines = []
        for index, (old_item, new_item) in enumerate(zip(before, after, strict=True)):
            lines += _diff(old_item, new_item, f"{path}[{index}]")
        return lines
    if before == after:
        return []
    lines = []
    if before is not None:
        lines.append(f"- \t{path}: {_show(before)}")
    if after is not None:
        lines.append(f"+ \t{path}: {_show(after)}")
    return lines


def _show(value: Any) -> str:
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # integers beyond 64 bits
        text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
