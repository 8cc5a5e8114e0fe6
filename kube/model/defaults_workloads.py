"""Defaults of workloads: Deployments, ReplicaSets, DaemonSets, StatefulSets,
ReplicationControllers, Jobs and CronJobs (``pkg/apis/{apps,batch,core}/v1``), plus
the selector a Job gets on create. Each also defaults its pod template."""

from __future__ import annotations

from kube.model.defaults_pod import claim_spec_defaults, template_defaults
from kube.model.fill import Obj, child, dicts, empty, existing, unset


def deployment_defaults(obj: Obj) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    unset(spec, "replicas", 1)
    strategy = child(spec, "strategy")
    if strategy is not None:
        empty(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = child(strategy, "rollingUpdate")
            if rolling is not None:
                unset(rolling, "maxUnavailable", "25%")
                unset(rolling, "maxSurge", "25%")
    unset(spec, "revisionHistoryLimit", 10)
    unset(spec, "progressDeadlineSeconds", 600)
    template_defaults(spec)


def replica_set_defaults(obj: Obj) -> None:
    spec = child(obj, "spec")
    if spec is not None:
        unset(spec, "replicas", 1)
        template_defaults(spec)


def replication_controller_defaults(obj: Obj) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    template = existing(spec, "template")
    meta = existing(template, "metadata") if template is not None else None
    labels = meta.get("labels") if meta is not None else None
    if isinstance(labels, dict):
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        own = child(obj, "metadata")
        if own is not None and not own.get("labels"):
            own["labels"] = dict(labels)
    unset(spec, "replicas", 1)
    template_defaults(spec)


def daemon_set_defaults(obj: Obj) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    strategy = child(spec, "updateStrategy")
    if strategy is not None:
        empty(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = child(strategy, "rollingUpdate")
            if rolling is not None:
                unset(rolling, "maxUnavailable", 1)
                unset(rolling, "maxSurge", 0)
    unset(spec, "revisionHistoryLimit", 10)
    template_defaults(spec)


def stateful_set_defaults(obj: Obj) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    empty(spec, "podManagementPolicy", "OrderedReady")
    strategy = child(spec, "updateStrategy")
    if strategy is not None:
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
            unset(strategy, "rollingUpdate", {})
        rolling = existing(strategy, "rollingUpdate")
        if strategy["type"] == "RollingUpdate" and rolling is not None:
            unset(rolling, "partition", 0)
    retention = child(spec, "persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        empty(retention, "whenDeleted", "Retain")
        empty(retention, "whenScaled", "Retain")
    unset(spec, "replicas", 1)
    unset(spec, "revisionHistoryLimit", 10)
    for claim in dicts(spec.get("volumeClaimTemplates")):
        claim_spec_defaults(existing(claim, "spec"))
        status = child(claim, "status")
        if status is not None:
            empty(status, "phase", "Pending")
    template_defaults(spec)


def _job_spec(spec: Obj) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    unset(spec, "parallelism", 1)
    # With a per-index backoff limit the global limit is effectively disabled.
    unset(spec, "backoffLimit", 2**31 - 1 if spec.get("backoffLimitPerIndex") is not None else 6)
    unset(spec, "completionMode", "NonIndexed")
    unset(spec, "suspend", False)
    policy = existing(spec, "podFailurePolicy")
    if policy is not None:
        for rule in dicts(policy.get("rules")):
            for pattern in dicts(rule.get("onPodConditions")):
                empty(pattern, "status", "True")
    unset(spec, "podReplacementPolicy", "Failed" if policy is not None else "TerminatingOrFailed")
    # Job templates get the generic PodSpec defaults, restartPolicy Always included;
    # validation then insists on OnFailure or Never, exactly as Kubernetes does.
    template_defaults(spec)


def job_defaults(obj: Obj) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    template = existing(spec, "template")
    meta = existing(template, "metadata") if template is not None else None
    labels = meta.get("labels") if meta is not None else None
    own = child(obj, "metadata")
    if isinstance(labels, dict) and own is not None and not own.get("labels"):
        own["labels"] = dict(labels)
    _job_spec(spec)


def cron_job_defaults(obj: Obj) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    empty(spec, "concurrencyPolicy", "Allow")
    unset(spec, "suspend", False)
    unset(spec, "successfulJobsHistoryLimit", 3)
    unset(spec, "failedJobsHistoryLimit", 1)
    # Only the pod template is defaulted here; the Job's own defaults are applied when
    # the CronJob controller creates each Job.
    job_template = existing(spec, "jobTemplate")
    template_defaults(existing(job_template, "spec") if job_template is not None else None)


def generate_job_selector(obj: Obj) -> None:
    """Label a job's pods with its name and uid and select them by uid, unless the user
    chose ``manualSelector: true``; as the Job strategy does on create. Needs
    ``metadata.uid`` (the API server assigns it before validation); without it the job
    is left alone and validation will ask for a selector."""
    spec = existing(obj, "spec")
    meta = existing(obj, "metadata")
    if spec is None or meta is None or spec.get("manualSelector") is True:
        return
    uid, name = meta.get("uid"), meta.get("name")
    template = existing(spec, "template")
    if not isinstance(uid, str) or not uid or template is None:
        return
    template_meta = child(template, "metadata")
    labels = child(template_meta, "labels") if template_meta is not None else None
    if labels is None:
        return
    copied = meta.get("labels") == labels or not meta.get("labels")
    # A label the user already set is kept: a conflict is then reported by validation.
    for key in ("batch.kubernetes.io/controller-uid", "controller-uid"):
        labels.setdefault(key, uid)
    if isinstance(name, str):
        for key in ("batch.kubernetes.io/job-name", "job-name"):
            labels.setdefault(key, name)
    selector = child(spec, "selector")
    match_labels = child(selector, "matchLabels") if selector is not None else None
    if match_labels is not None:
        match_labels.setdefault("batch.kubernetes.io/controller-uid", uid)
    if copied:
        # In Go the job's labels defaulted from the template are the same map, so they
        # show the generated labels too.
        meta["labels"] = dict(labels)
