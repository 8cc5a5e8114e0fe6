"""Semantic rules of batch/v1 Jobs and CronJobs.

A Job's pods run to completion, so its template's restartPolicy must be OnFailure or
Never. Because generic PodSpec defaulting turns an unset policy into Always, Kubernetes
answers both cases with ``Required value: valid values: "OnFailure", "Never"``.
Unless ``manualSelector`` is true the selector is generated from the job's uid on
create (see ``defaults.generate_job_selector``) and checked here to be that one.
"""

from __future__ import annotations

from typing import Any

from kube.errors import FieldError, forbidden, invalid, not_supported, required
from kube.labels import validate_label_selector
from kube.model.checks import Obj, go_selector, immutable, immutable_shown, invalid_shown, non_negative, obj
from kube.model.validate_apps import selector_matches_template
from kube.model.validate_pod import validate_pod_template
from kube.names import is_dns1123_label

_UID_LABEL = "batch.kubernetes.io/controller-uid"
_NAME_LABEL = "batch.kubernetes.io/job-name"
_MAX_INDEXED_PARALLELISM = 100_000


def _job_spec(spec: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for key in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ):
        errors += non_negative(spec.get(key), f"{path}.{key}")
    mode = spec.get("completionMode")
    if isinstance(mode, str) and mode not in ("NonIndexed", "Indexed"):
        errors.append(not_supported(f"{path}.completionMode", mode, ["NonIndexed", "Indexed"]))
    if mode == "Indexed":
        if spec.get("completions") is None:
            errors.append(required(f"{path}.completions", "when completion mode is Indexed"))
        parallelism = spec.get("parallelism")
        if isinstance(parallelism, int) and parallelism > _MAX_INDEXED_PARALLELISM:
            errors.append(
                invalid(
                    f"{path}.parallelism",
                    parallelism,
                    f"must be less than or equal to {_MAX_INDEXED_PARALLELISM} when completion mode is Indexed",
                )
            )
    elif spec.get("backoffLimitPerIndex") is not None:
        errors.append(forbidden(f"{path}.backoffLimitPerIndex", "requires indexed completion mode"))
    replacement = spec.get("podReplacementPolicy")
    if isinstance(replacement, str):
        if replacement not in ("TerminatingOrFailed", "Failed"):
            errors.append(
                not_supported(f"{path}.podReplacementPolicy", replacement, ["TerminatingOrFailed", "Failed"])
            )
        elif spec.get("podFailurePolicy") is not None and replacement != "Failed":
            errors.append(not_supported(f"{path}.podReplacementPolicy", replacement, ["Failed"]))
    template = spec.get("template")
    if isinstance(template, dict):
        errors += validate_pod_template(template, f"{path}.template")
        policy = obj(template.get("spec")).get("restartPolicy")
        at = f"{path}.template.spec.restartPolicy"
        if policy in ("Always", ""):
            errors.append(required(at, 'valid values: "OnFailure", "Never"'))
        elif isinstance(policy, str) and policy not in ("OnFailure", "Never"):
            errors.append(not_supported(at, policy, ["OnFailure", "Never"]))
        elif spec.get("podFailurePolicy") is not None and policy != "Never":
            errors.append(invalid(at, policy, 'only "Never" is supported when podFailurePolicy is specified'))
    return errors


def validate_job(job: Obj) -> list[FieldError]:
    meta, spec = obj(job.get("metadata")), obj(job.get("spec"))
    generated = spec.get("manualSelector") is not True
    if generated and not meta.get("uid"):
        # The selector is generated from the uid, which the API server assigns first.
        errors = [required("metadata.uid")]
    else:
        errors = _generated_selector(meta, spec) if generated else []
    errors += _job_spec(spec, "spec")
    selector = spec.get("selector")
    if selector is None and not (generated and not meta.get("uid")):
        errors.append(required("spec.selector"))
    elif isinstance(selector, dict):
        errors += validate_label_selector(selector, "spec.selector")
    template = spec.get("template")
    if isinstance(template, dict):
        errors += selector_matches_template(selector, template, "spec.template")
    completions, name = spec.get("completions"), meta.get("name")
    if spec.get("completionMode") == "Indexed" and isinstance(completions, int) and completions > 0 and name:
        hostname = f"{name}-{completions - 1}"
        if is_dns1123_label(hostname):
            errors.append(
                invalid(
                    "metadata.name", name, f"will not able to create pod with invalid DNS label: {hostname}"
                )
            )
    return errors


def _generated_selector(meta: Obj, spec: Obj) -> list[FieldError]:
    if not isinstance(spec.get("selector"), dict):
        return []
    uid, name = meta.get("uid"), meta.get("name")
    labels = obj(obj(obj(spec.get("template")).get("metadata")).get("labels"))
    errors: list[FieldError] = []
    for key, expected in ((_UID_LABEL, uid), (_NAME_LABEL, name)):
        at = f"spec.template.metadata.labels[{key}]"
        if key not in labels:
            errors.append(required(at, f"must be '{expected}'"))
        elif labels[key] != expected:
            errors.append(invalid(at, labels[key], f"must be '{expected}'"))
    match_labels = obj(spec["selector"].get("matchLabels"))
    if match_labels.get(_UID_LABEL) != uid:
        errors.append(
            invalid_shown("spec.selector", go_selector(spec["selector"]), "`selector` not auto-generated")
        )
    return errors


_IMMUTABLE_SPEC = (
    "completionMode",
    "podFailurePolicy",
    "backoffLimitPerIndex",
    "managedBy",
    "successPolicy",
    "podReplacementPolicy",
)
# A suspended job that never started may still move its pods elsewhere.
_SCHEDULING_DIRECTIVES = ("nodeSelector", "affinity", "tolerations", "schedulingGates")


def validate_job_update(new: Obj, old: Obj) -> list[FieldError]:
    new_spec, old_spec = obj(new.get("spec")), obj(old.get("spec"))
    errors: list[FieldError] = []
    if new_spec.get("completions") != old_spec.get("completions") and not _elastic(new_spec, old_spec):
        errors.append(immutable("spec.completions", new_spec.get("completions")))
    if (new_spec.get("selector") or None) != (old_spec.get("selector") or None):
        errors.append(immutable_shown("spec.selector", go_selector(new_spec.get("selector"))))
    new_template, old_template = obj(new_spec.get("template")), obj(old_spec.get("template"))
    if _template_key(new_template, old_spec, old) != _template_key(old_template, old_spec, old):
        errors.append(immutable_shown("spec.template", "core.PodTemplateSpec{...}"))
    for key in _IMMUTABLE_SPEC:
        if new_spec.get(key) != old_spec.get(key):
            value = new_spec.get(key)
            errors.append(
                immutable(f"spec.{key}", value)
                if not isinstance(value, dict)
                else immutable_shown(f"spec.{key}", f"batch.{key[0].upper()}{key[1:]}{{...}}")
            )
    return errors


def _elastic(new_spec: Obj, old_spec: Obj) -> bool:
    # Indexed jobs may scale when completions follow parallelism.
    return (
        new_spec.get("completionMode") == "Indexed"
        and new_spec.get("completions") == new_spec.get("parallelism")
        and old_spec.get("completions") == old_spec.get("parallelism")
    )


def _template_key(template: Obj, old_spec: Obj, old: Obj) -> Any:
    never_started = old_spec.get("suspend") is True and not obj(old.get("status")).get("startTime")
    if not never_started:
        return template
    meta = {k: v for k, v in obj(template.get("metadata")).items() if k not in ("labels", "annotations")}
    spec = {k: v for k, v in obj(template.get("spec")).items() if k not in _SCHEDULING_DIRECTIVES}
    return {"metadata": meta, "spec": spec}


def validate_cron_job(cron_job: Obj) -> list[FieldError]:
    spec = obj(cron_job.get("spec"))
    errors: list[FieldError] = []
    policy = spec.get("concurrencyPolicy")
    if isinstance(policy, str) and policy not in ("Allow", "Forbid", "Replace"):
        errors.append(not_supported("spec.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"]))
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        errors += non_negative(spec.get(key), f"spec.{key}")
    schedule = spec.get("schedule")
    if isinstance(schedule, str):
        fields = schedule.split()
        if fields and fields[0].startswith(("TZ=", "CRON_TZ=")):
            fields = fields[1:]
        if not (fields and fields[0].startswith("@")) and len(fields) != 5:
            # Only the shape is checked here, with the cron parser's own message.
            detail = f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
            errors.append(invalid("spec.schedule", schedule, detail))
    job_spec = obj(obj(spec.get("jobTemplate")).get("spec"))
    if job_spec.get("manualSelector") is True:
        errors.append(not_supported("spec.jobTemplate.spec.manualSelector", True, ["nil", "false"]))
    errors += _job_spec(job_spec, "spec.jobTemplate.spec")
    return errors
