"""Field numbers of policy/v1 PodDisruptionBudget and Eviction
(``k8s.io/api/policy/v1/generated.proto``).

``kubectl create poddisruptionbudget`` sends the first; kubectl's ``drain`` still posts
evictions as JSON, but any client-go program with the protobuf content type sends
them this way.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, I32, INT, MAP, MSG, PTR, REP, STR, Table

POLICY_V1: Table = {
    "PodDisruptionBudget": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "PodDisruptionBudgetSpec"),
        3: ("status", MSG | ALWAYS, "PodDisruptionBudgetStatus"),
    },
    "PodDisruptionBudgetSpec": {
        1: ("minAvailable", MSG | PTR, "IntOrString"), 2: ("selector", MSG | PTR, "LabelSelector"),
        3: ("maxUnavailable", MSG | PTR, "IntOrString"), 4: ("unhealthyPodEvictionPolicy", STR | PTR),
    },
    "PodDisruptionBudgetStatus": {
        1: ("observedGeneration", INT), 2: ("disruptedPods", MAP | MSG, "Time"),
        3: ("disruptionsAllowed", I32 | ALWAYS), 4: ("currentHealthy", I32 | ALWAYS),
        5: ("desiredHealthy", I32 | ALWAYS), 6: ("expectedPods", I32 | ALWAYS),
        7: ("conditions", MSG | REP, "Condition"),
    },
    "Eviction": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("deleteOptions", MSG | PTR, "DeleteOptions"),
    },
}
