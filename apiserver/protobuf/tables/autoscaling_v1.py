"""Field numbers of autoscaling/v1 HorizontalPodAutoscaler
(``k8s.io/api/autoscaling/v1/generated.proto``): ``kubectl autoscale`` sends this
version up to 1.32 and autoscaling/v2 from 1.33.

Its messages share their names with autoscaling/v2's but not their fields, so they are
registered under package-qualified names; CrossVersionObjectReference is the same
message in both versions and comes from ``autoscaling_v2.py``.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, I32, INT, MSG, PTR, Table

AUTOSCALING_V1: Table = {
    "autoscaling.v1.HorizontalPodAutoscaler": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"),
        2: ("spec", MSG | ALWAYS, "autoscaling.v1.HorizontalPodAutoscalerSpec"),
        3: ("status", MSG | ALWAYS, "autoscaling.v1.HorizontalPodAutoscalerStatus"),
    },
    "autoscaling.v1.HorizontalPodAutoscalerSpec": {
        1: ("scaleTargetRef", MSG | ALWAYS, "CrossVersionObjectReference"), 2: ("minReplicas", I32 | PTR),
        3: ("maxReplicas", I32 | ALWAYS), 4: ("targetCPUUtilizationPercentage", I32 | PTR),
    },
    "autoscaling.v1.HorizontalPodAutoscalerStatus": {
        1: ("observedGeneration", INT | PTR), 2: ("lastScaleTime", MSG | PTR, "Time"),
        3: ("currentReplicas", I32 | ALWAYS), 4: ("desiredReplicas", I32 | ALWAYS),
        5: ("currentCPUUtilizationPercentage", I32 | PTR),
    },
}
