"""Field numbers of autoscaling/v2 HorizontalPodAutoscaler
(``k8s.io/api/autoscaling/v2/generated.proto``), which ``kubectl autoscale`` creates.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, I32, INT, MSG, PTR, REP, STR, Table

AUTOSCALING_V2: Table = {
    "HorizontalPodAutoscaler": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "HorizontalPodAutoscalerSpec"),
        3: ("status", MSG | ALWAYS, "HorizontalPodAutoscalerStatus"),
    },
    "HorizontalPodAutoscalerSpec": {
        1: ("scaleTargetRef", MSG | ALWAYS, "CrossVersionObjectReference"), 2: ("minReplicas", I32 | PTR),
        3: ("maxReplicas", I32 | ALWAYS), 4: ("metrics", MSG | REP, "MetricSpec"),
        5: ("behavior", MSG | PTR, "HorizontalPodAutoscalerBehavior"),
    },
    "CrossVersionObjectReference": {
        1: ("kind", STR | ALWAYS), 2: ("name", STR | ALWAYS), 3: ("apiVersion", STR),
    },
    "MetricSpec": {
        1: ("type", STR | ALWAYS), 2: ("object", MSG | PTR, "ObjectMetricSource"),
        3: ("pods", MSG | PTR, "PodsMetricSource"), 4: ("resource", MSG | PTR, "ResourceMetricSource"),
        5: ("external", MSG | PTR, "ExternalMetricSource"),
        7: ("containerResource", MSG | PTR, "ContainerResourceMetricSource"),
    },
    "ObjectMetricSource": {
        1: ("describedObject", MSG | ALWAYS, "CrossVersionObjectReference"),
        2: ("target", MSG | ALWAYS, "MetricTarget"), 3: ("metric", MSG | ALWAYS, "MetricIdentifier"),
    },
    "MetricTarget": {
        1: ("type", STR | ALWAYS), 2: ("value", MSG | PTR, "Quantity"),
        3: ("averageValue", MSG | PTR, "Quantity"), 4: ("averageUtilization", I32 | PTR),
    },
    "MetricIdentifier": {1: ("name", STR | ALWAYS), 2: ("selector", MSG | PTR, "LabelSelector")},
    "PodsMetricSource": {
        1: ("metric", MSG | ALWAYS, "MetricIdentifier"), 2: ("target", MSG | ALWAYS, "MetricTarget"),
    },
    "ResourceMetricSource": {1: ("name", STR | ALWAYS), 2: ("target", MSG | ALWAYS, "MetricTarget")},
    "ContainerResourceMetricSource": {
        1: ("name", STR | ALWAYS), 2: ("target", MSG | ALWAYS, "MetricTarget"),
        3: ("container", STR | ALWAYS),
    },
    "ExternalMetricSource": {
        1: ("metric", MSG | ALWAYS, "MetricIdentifier"), 2: ("target", MSG | ALWAYS, "MetricTarget"),
    },
    "HorizontalPodAutoscalerBehavior": {
        1: ("scaleUp", MSG | PTR, "HPAScalingRules"), 2: ("scaleDown", MSG | PTR, "HPAScalingRules"),
    },
    "HPAScalingRules": {
        1: ("selectPolicy", STR | PTR), 2: ("policies", MSG | REP, "HPAScalingPolicy"),
        3: ("stabilizationWindowSeconds", I32 | PTR), 4: ("tolerance", MSG | PTR, "Quantity"),
    },
    "HPAScalingPolicy": {
        1: ("type", STR | ALWAYS), 2: ("value", I32 | ALWAYS), 3: ("periodSeconds", I32 | ALWAYS),
    },
    "HorizontalPodAutoscalerStatus": {
        1: ("observedGeneration", INT | PTR), 2: ("lastScaleTime", MSG | PTR, "Time"),
        3: ("currentReplicas", I32), 4: ("desiredReplicas", I32 | ALWAYS),
        5: ("currentMetrics", MSG | REP | ALWAYS, "MetricStatus"),
        6: ("conditions", MSG | REP, "HorizontalPodAutoscalerCondition"),
    },
    "MetricStatus": {
        1: ("type", STR | ALWAYS), 2: ("object", MSG | PTR, "ObjectMetricStatus"),
        3: ("pods", MSG | PTR, "PodsMetricStatus"), 4: ("resource", MSG | PTR, "ResourceMetricStatus"),
        5: ("external", MSG | PTR, "ExternalMetricStatus"),
        7: ("containerResource", MSG | PTR, "ContainerResourceMetricStatus"),
    },
    "ObjectMetricStatus": {
        1: ("metric", MSG | ALWAYS, "MetricIdentifier"), 2: ("current", MSG | ALWAYS, "MetricValueStatus"),
        3: ("describedObject", MSG | ALWAYS, "CrossVersionObjectReference"),
    },
    "MetricValueStatus": {
        1: ("value", MSG | PTR, "Quantity"), 2: ("averageValue", MSG | PTR, "Quantity"),
        3: ("averageUtilization", I32 | PTR),
    },
    "PodsMetricStatus": {
        1: ("metric", MSG | ALWAYS, "MetricIdentifier"), 2: ("current", MSG | ALWAYS, "MetricValueStatus"),
    },
    "ResourceMetricStatus": {1: ("name", STR | ALWAYS), 2: ("current", MSG | ALWAYS, "MetricValueStatus")},
    "ContainerResourceMetricStatus": {
        1: ("name", STR | ALWAYS), 2: ("current", MSG | ALWAYS, "MetricValueStatus"),
        3: ("container", STR | ALWAYS),
    },
    "ExternalMetricStatus": {
        1: ("metric", MSG | ALWAYS, "MetricIdentifier"), 2: ("current", MSG | ALWAYS, "MetricValueStatus"),
    },
    "HorizontalPodAutoscalerCondition": {
        1: ("type", STR | ALWAYS), 2: ("status", STR | ALWAYS),
        3: ("lastTransitionTime", MSG | ALWAYS, "Time"), 4: ("reason", STR), 5: ("message", STR),
    },
}
