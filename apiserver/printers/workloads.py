"""Rows for the controllers that own pods: deployments, replica sets, daemon sets, jobs.

They share a shape (counts of desired/ready pods, then the template's containers,
images and selector as ``-o wide`` columns), but each count comes from its own status
fields and each kind formats its selector slightly differently, exactly as Kubernetes
does: a Deployment prints the bare selector string (``""`` when it selects everything),
the others use ``FormatLabelSelector`` (``<none>``).

Fields that the real API server defaults on write (``spec.replicas`` to 1, a Job's
``completions``) are read with that default, so an object stored without defaulting
still prints what kubectl would show for it on a real cluster.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import docs
from .formatting import (
    INVALID,
    Cell,
    Obj,
    SelectorError,
    container_cells,
    dig,
    dig_int,
    dig_list,
    dig_map,
    dig_str,
    format_label_selector,
    format_labels,
    human_duration,
    label_selector_string,
    parse_time,
    since,
)
from .registry import AGE, CONTAINERS, IMAGES, NAME, Column, ResourceKey, register

_F = docs.FIELD_DOCS


def _selector_column(description: str) -> Column:
    return Column(name="Selector", type="string", priority=1, description=description)


def _replicas(obj: Obj) -> int:
    value = dig(obj, "spec", "replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _template_cells(obj: Obj, *path: str) -> list[Cell]:
    names, images = container_cells(dig_list(obj, *path, "spec", "containers"))
    return [names, images]


# --- deployments -------------------------------------------------------------------

DEPLOYMENT_COLUMNS = (
    NAME,
    Column(name="Ready", type="string", description="Number of the pod with ready state"),
    Column(name="Up-to-date", type="string", description=_F["apps.v1.DeploymentStatus.updatedReplicas"]),
    Column(name="Available", type="string", description=_F["apps.v1.DeploymentStatus.availableReplicas"]),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_column(_F["apps.v1.DeploymentSpec.selector"]),
)


def deployment_row(obj: Obj, *, now: datetime) -> list[Cell]:
    try:
        selector = label_selector_string(dig_map(obj, "spec", "selector"))
    except SelectorError:
        selector = INVALID
    return [
        dig_str(obj, "metadata", "name"),
        f"{dig_int(obj, 'status', 'readyReplicas')}/{_replicas(obj)}",
        dig_int(obj, "status", "updatedReplicas"),
        dig_int(obj, "status", "availableReplicas"),
        since(dig(obj, "metadata", "creationTimestamp"), now=now),
        *_template_cells(obj, "spec", "template"),
        selector,
    ]


# --- replica sets ------------------------------------------------------------------

REPLICASET_COLUMNS = (
    NAME,
    Column(name="Desired", type="integer", description=_F["apps.v1.ReplicaSetSpec.replicas"]),
    Column(name="Current", type="integer", description=_F["apps.v1.ReplicaSetStatus.replicas"]),
    Column(name="Ready", type="integer", description=_F["apps.v1.ReplicaSetStatus.readyReplicas"]),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_column(_F["apps.v1.ReplicaSetSpec.selector"]),
)


def replicaset_row(obj: Obj, *, now: datetime) -> list[Cell]:
    return [
        dig_str(obj, "metadata", "name"),
        _replicas(obj),
        dig_int(obj, "status", "replicas"),
        dig_int(obj, "status", "readyReplicas"),
        since(dig(obj, "metadata", "creationTimestamp"), now=now),
        *_template_cells(obj, "spec", "template"),
        format_label_selector(dig(obj, "spec", "selector")),
    ]


# --- daemon sets -------------------------------------------------------------------

_DS = "apps.v1.DaemonSetStatus."
DAEMONSET_COLUMNS = (
    NAME,
    Column(name="Desired", type="integer", description=_F[_DS + "desiredNumberScheduled"]),
    Column(name="Current", type="integer", description=_F[_DS + "currentNumberScheduled"]),
    Column(name="Ready", type="integer", description=_F[_DS + "numberReady"]),
    Column(name="Up-to-date", type="integer", description=_F[_DS + "updatedNumberScheduled"]),
    Column(name="Available", type="integer", description=_F[_DS + "numberAvailable"]),
    Column(name="Node Selector", type="string", description=_F["core.v1.PodSpec.nodeSelector"]),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_column(_F["apps.v1.DaemonSetSpec.selector"]),
)


def daemonset_row(obj: Obj, *, now: datetime) -> list[Cell]:
    counts = (
        "desiredNumberScheduled",
        "currentNumberScheduled",
        "numberReady",
        "updatedNumberScheduled",
        "numberAvailable",
    )
    return [
        dig_str(obj, "metadata", "name"),
        *(dig_int(obj, "status", field) for field in counts),
        format_labels(dig_map(obj, "spec", "template", "spec", "nodeSelector")),
        since(dig(obj, "metadata", "creationTimestamp"), now=now),
        *_template_cells(obj, "spec", "template"),
        format_label_selector(dig(obj, "spec", "selector")),
    ]


# --- jobs --------------------------------------------------------------------------

JOB_COLUMNS = (
    NAME,
    Column(name="Status", type="string", description="Status of the job."),
    Column(name="Completions", type="string", description=_F["batch.v1.JobStatus.succeeded"]),
    Column(name="Duration", type="string", description="Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    _selector_column(_F["batch.v1.JobSpec.selector"]),
)

# Checked in this order; the first condition type that is True names the status.
_JOB_STATES = (
    ("Complete", "Complete"),
    ("Failed", "Failed"),
    ("", "Terminating"),  # a deletion timestamp, checked in this place
    ("Suspended", "Suspended"),
    ("FailureTarget", "FailureTarget"),
    ("SuccessCriteriaMet", "SuccessCriteriaMet"),
)


def _job_condition(obj: Obj, condition_type: str) -> bool:
    # Only the first condition of a type counts (hasJobCondition).
    for condition in dig_list(obj, "status", "conditions"):
        if dig(condition, "type") == condition_type:
            return bool(dig(condition, "status") == "True")
    return False


def job_status(obj: Obj) -> str:
    for condition_type, word in _JOB_STATES:
        if not condition_type:
            if dig(obj, "metadata", "deletionTimestamp") is not None:
                return word
        elif _job_condition(obj, condition_type):
            return word
    return "Running"


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def job_completions(obj: Obj) -> str:
    succeeded = dig_int(obj, "status", "succeeded")
    completions = _optional_int(dig(obj, "spec", "completions"))
    parallelism = _optional_int(dig(obj, "spec", "parallelism"))
    if completions is None and parallelism is None:
        completions = 1  # what defaulting sets when neither is given
    if completions is not None:
        return f"{succeeded}/{completions}"
    if parallelism is not None and parallelism > 1:
        return f"{succeeded}/1 of {parallelism}"
    return f"{succeeded}/1"


def job_duration(obj: Obj, *, now: datetime) -> str:
    started = parse_time(dig(obj, "status", "startTime"))
    if started is None:
        return ""
    finished = parse_time(dig(obj, "status", "completionTime"))
    return human_duration((finished or now) - started)


def job_row(obj: Obj, *, now: datetime) -> list[Cell]:
    return [
        dig_str(obj, "metadata", "name"),
        job_status(obj),
        job_completions(obj),
        job_duration(obj, now=now),
        since(dig(obj, "metadata", "creationTimestamp"), now=now),
        *_template_cells(obj, "spec", "template"),
        format_label_selector(dig(obj, "spec", "selector")),
    ]


def install() -> None:
    register(ResourceKey(group="apps", resource="deployments"), DEPLOYMENT_COLUMNS, deployment_row)
    register(ResourceKey(group="apps", resource="replicasets"), REPLICASET_COLUMNS, replicaset_row)
    register(ResourceKey(group="apps", resource="daemonsets"), DAEMONSET_COLUMNS, daemonset_row)
    register(ResourceKey(group="batch", resource="jobs"), JOB_COLUMNS, job_row)
