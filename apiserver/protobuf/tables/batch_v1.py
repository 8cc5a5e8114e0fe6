"""Field numbers of batch/v1 Job and CronJob (``k8s.io/api/batch/v1/generated.proto``),
sent by ``kubectl create job|cronjob`` and ``create job --from=cronjob/NAME``.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, BOOL, I32, INT, MSG, PTR, REP, STR, Table

BATCH_V1: Table = {
    "Job": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "JobSpec"),
        3: ("status", MSG | ALWAYS, "JobStatus"),
    },
    "JobSpec": {
        1: ("parallelism", I32 | PTR), 2: ("completions", I32 | PTR), 3: ("activeDeadlineSeconds", INT | PTR),
        4: ("selector", MSG | PTR, "LabelSelector"), 5: ("manualSelector", BOOL | PTR),
        6: ("template", MSG | ALWAYS, "PodTemplateSpec"), 7: ("backoffLimit", I32 | PTR),
        8: ("ttlSecondsAfterFinished", I32 | PTR), 9: ("completionMode", STR | PTR),
        10: ("suspend", BOOL | PTR), 11: ("podFailurePolicy", MSG | PTR, "PodFailurePolicy"),
        12: ("backoffLimitPerIndex", I32 | PTR), 13: ("maxFailedIndexes", I32 | PTR),
        14: ("podReplacementPolicy", STR | PTR), 15: ("managedBy", STR | PTR),
        16: ("successPolicy", MSG | PTR, "SuccessPolicy"),
    },
    "PodFailurePolicy": {1: ("rules", MSG | REP | ALWAYS, "PodFailurePolicyRule")},
    "PodFailurePolicyRule": {
        1: ("action", STR | ALWAYS), 2: ("onExitCodes", MSG | PTR, "PodFailurePolicyOnExitCodesRequirement"),
        3: ("onPodConditions", MSG | REP, "PodFailurePolicyOnPodConditionsPattern"),
    },
    "PodFailurePolicyOnExitCodesRequirement": {
        1: ("containerName", STR | PTR), 2: ("operator", STR | ALWAYS), 3: ("values", I32 | REP | ALWAYS),
    },
    "PodFailurePolicyOnPodConditionsPattern": {1: ("type", STR | ALWAYS), 2: ("status", STR | ALWAYS)},
    "SuccessPolicy": {1: ("rules", MSG | REP | ALWAYS, "SuccessPolicyRule")},
    "SuccessPolicyRule": {1: ("succeededIndexes", STR | PTR), 2: ("succeededCount", I32 | PTR)},
    "JobStatus": {
        1: ("conditions", MSG | REP, "JobCondition"), 2: ("startTime", MSG | PTR, "Time"),
        3: ("completionTime", MSG | PTR, "Time"), 4: ("active", I32), 5: ("succeeded", I32),
        6: ("failed", I32), 7: ("completedIndexes", STR),
        8: ("uncountedTerminatedPods", MSG | PTR, "UncountedTerminatedPods"), 9: ("ready", I32 | PTR),
        10: ("failedIndexes", STR | PTR), 11: ("terminating", I32 | PTR),
    },
    "JobCondition": {
        1: ("type", STR | ALWAYS), 2: ("status", STR | ALWAYS), 3: ("lastProbeTime", MSG | ALWAYS, "Time"),
        4: ("lastTransitionTime", MSG | ALWAYS, "Time"), 5: ("reason", STR), 6: ("message", STR),
    },
    "UncountedTerminatedPods": {1: ("succeeded", STR | REP), 2: ("failed", STR | REP)},
    "CronJob": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "CronJobSpec"),
        3: ("status", MSG | ALWAYS, "CronJobStatus"),
    },
    "CronJobSpec": {
        1: ("schedule", STR | ALWAYS), 2: ("startingDeadlineSeconds", INT | PTR),
        3: ("concurrencyPolicy", STR), 4: ("suspend", BOOL | PTR),
        5: ("jobTemplate", MSG | ALWAYS, "JobTemplateSpec"), 6: ("successfulJobsHistoryLimit", I32 | PTR),
        7: ("failedJobsHistoryLimit", I32 | PTR), 8: ("timeZone", STR | PTR),
    },
    "JobTemplateSpec": {1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "JobSpec")},
    "CronJobStatus": {
        1: ("active", MSG | REP, "ObjectReference"), 4: ("lastScheduleTime", MSG | PTR, "Time"),
        5: ("lastSuccessfulTime", MSG | PTR, "Time"),
    },
}
