"""Field numbers of apps/v1 Deployment (``k8s.io/api/apps/v1/generated.proto``).

``kubectl create deployment`` sends one with an empty status; the status messages are
here too so that a Deployment read from another cluster decodes whole.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, BOOL, I32, INT, MSG, NULL, PTR, REP, STR, Table

APPS_V1: Table = {
    "Deployment": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "DeploymentSpec"),
        3: ("status", MSG | ALWAYS, "DeploymentStatus"),
    },
    "DeploymentSpec": {
        1: ("replicas", I32 | PTR), 2: ("selector", MSG | NULL, "LabelSelector"),
        3: ("template", MSG | ALWAYS, "PodTemplateSpec"), 4: ("strategy", MSG | ALWAYS, "DeploymentStrategy"),
        5: ("minReadySeconds", I32), 6: ("revisionHistoryLimit", I32 | PTR), 7: ("paused", BOOL),
        9: ("progressDeadlineSeconds", I32 | PTR),
    },
    "DeploymentStrategy": {1: ("type", STR), 2: ("rollingUpdate", MSG | PTR, "RollingUpdateDeployment")},
    "RollingUpdateDeployment": {
        1: ("maxUnavailable", MSG | PTR, "IntOrString"), 2: ("maxSurge", MSG | PTR, "IntOrString"),
    },
    "DeploymentStatus": {
        1: ("observedGeneration", INT), 2: ("replicas", I32), 3: ("updatedReplicas", I32),
        4: ("availableReplicas", I32), 5: ("unavailableReplicas", I32),
        6: ("conditions", MSG | REP, "DeploymentCondition"), 7: ("readyReplicas", I32),
        8: ("collisionCount", I32 | PTR), 9: ("terminatingReplicas", I32 | PTR),
    },
    "DeploymentCondition": {
        1: ("type", STR | ALWAYS), 2: ("status", STR | ALWAYS), 4: ("reason", STR), 5: ("message", STR),
        6: ("lastUpdateTime", MSG | ALWAYS, "Time"), 7: ("lastTransitionTime", MSG | ALWAYS, "Time"),
    },
}
