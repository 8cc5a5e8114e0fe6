"""Field numbers of core/v1 objects (``k8s.io/api/core/v1/generated.proto``): Namespace,
ConfigMap, Secret, ServiceAccount, Service, ResourceQuota and Pod with its status.

The pod template shared by Pod, Deployment, Job and CronJob is in ``core_v1_pod.py``,
volume sources in ``core_v1_volumes.py``.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, BOOL, BYTES, I32, INT, MAP, MSG, PTR, REP, STR, Table

CORE_V1: Table = {
    "Namespace": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "NamespaceSpec"),
        3: ("status", MSG | ALWAYS, "NamespaceStatus"),
    },
    "NamespaceSpec": {1: ("finalizers", STR | REP)},
    "NamespaceStatus": {1: ("phase", STR), 2: ("conditions", MSG | REP, "NamespaceCondition")},
    "NamespaceCondition": {
        1: ("type", STR | ALWAYS), 2: ("status", STR | ALWAYS),
        4: ("lastTransitionTime", MSG | ALWAYS, "Time"), 5: ("reason", STR), 6: ("message", STR),
    },
    "ConfigMap": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("data", MAP | STR), 3: ("binaryData", MAP | BYTES),
        4: ("immutable", BOOL | PTR),
    },
    "Secret": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("data", MAP | BYTES), 3: ("type", STR),
        4: ("stringData", MAP | STR), 5: ("immutable", BOOL | PTR),
    },
    "ServiceAccount": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("secrets", MSG | REP, "ObjectReference"),
        3: ("imagePullSecrets", MSG | REP, "LocalObjectReference"),
        4: ("automountServiceAccountToken", BOOL | PTR),
    },
    "ObjectReference": {
        1: ("kind", STR), 2: ("namespace", STR), 3: ("name", STR), 4: ("uid", STR), 5: ("apiVersion", STR),
        6: ("resourceVersion", STR), 7: ("fieldPath", STR),
    },
    "Service": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "ServiceSpec"),
        3: ("status", MSG | ALWAYS, "ServiceStatus"),
    },
    "ServiceSpec": {
        1: ("ports", MSG | REP, "ServicePort"), 2: ("selector", MAP | STR), 3: ("clusterIP", STR),
        4: ("type", STR), 5: ("externalIPs", STR | REP), 7: ("sessionAffinity", STR),
        8: ("loadBalancerIP", STR), 9: ("loadBalancerSourceRanges", STR | REP), 10: ("externalName", STR),
        11: ("externalTrafficPolicy", STR), 12: ("healthCheckNodePort", I32),
        13: ("publishNotReadyAddresses", BOOL),
        14: ("sessionAffinityConfig", MSG | PTR, "SessionAffinityConfig"), 17: ("ipFamilyPolicy", STR | PTR),
        18: ("clusterIPs", STR | REP), 19: ("ipFamilies", STR | REP),
        20: ("allocateLoadBalancerNodePorts", BOOL | PTR), 21: ("loadBalancerClass", STR | PTR),
        22: ("internalTrafficPolicy", STR | PTR), 23: ("trafficDistribution", STR | PTR),
    },
    "ServicePort": {
        1: ("name", STR), 2: ("protocol", STR), 3: ("port", I32 | ALWAYS),
        4: ("targetPort", MSG | ALWAYS, "IntOrString"), 5: ("nodePort", I32), 6: ("appProtocol", STR | PTR),
    },
    "SessionAffinityConfig": {1: ("clientIP", MSG | PTR, "ClientIPConfig")},
    "ClientIPConfig": {1: ("timeoutSeconds", I32 | PTR)},
    "ServiceStatus": {
        1: ("loadBalancer", MSG | ALWAYS, "LoadBalancerStatus"), 2: ("conditions", MSG | REP, "Condition"),
    },
    "LoadBalancerStatus": {1: ("ingress", MSG | REP, "LoadBalancerIngress")},
    "LoadBalancerIngress": {
        1: ("ip", STR), 2: ("hostname", STR), 3: ("ipMode", STR | PTR), 4: ("ports", MSG | REP, "PortStatus"),
    },
    "PortStatus": {1: ("port", I32 | ALWAYS), 2: ("protocol", STR | ALWAYS), 3: ("error", STR | PTR)},
    "ResourceQuota": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "ResourceQuotaSpec"),
        3: ("status", MSG | ALWAYS, "ResourceQuotaStatus"),
    },
    "ResourceQuotaSpec": {
        1: ("hard", MAP | MSG, "Quantity"), 2: ("scopes", STR | REP),
        3: ("scopeSelector", MSG | PTR, "ScopeSelector"),
    },
    "ScopeSelector": {1: ("matchExpressions", MSG | REP, "ScopedResourceSelectorRequirement")},
    "ScopedResourceSelectorRequirement": {
        1: ("scopeName", STR | ALWAYS), 2: ("operator", STR | ALWAYS), 3: ("values", STR | REP),
    },
    "ResourceQuotaStatus": {1: ("hard", MAP | MSG, "Quantity"), 2: ("used", MAP | MSG, "Quantity")},
    "Pod": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "PodSpec"),
        3: ("status", MSG | ALWAYS, "PodStatus"),
    },
    "PodStatus": {
        1: ("phase", STR), 2: ("conditions", MSG | REP, "PodCondition"), 3: ("message", STR),
        4: ("reason", STR), 5: ("hostIP", STR), 6: ("podIP", STR), 7: ("startTime", MSG | PTR, "Time"),
        8: ("containerStatuses", MSG | REP, "ContainerStatus"), 9: ("qosClass", STR),
        10: ("initContainerStatuses", MSG | REP, "ContainerStatus"), 11: ("nominatedNodeName", STR),
        12: ("podIPs", MSG | REP, "PodIP"), 13: ("ephemeralContainerStatuses", MSG | REP, "ContainerStatus"),
        14: ("resize", STR), 15: ("resourceClaimStatuses", MSG | REP, "PodResourceClaimStatus"),
        16: ("hostIPs", MSG | REP, "HostIP"), 17: ("observedGeneration", INT),
        18: ("extendedResourceClaimStatus", MSG | PTR, "PodExtendedResourceClaimStatus"),
        19: ("allocatedResources", MAP | MSG, "Quantity"),
        20: ("resources", MSG | PTR, "ResourceRequirements"),
        21: ("nodeAllocatableResourceClaimStatuses", MSG | REP, "NodeAllocatableResourceClaimStatus"),
    },
    "PodCondition": {
        1: ("type", STR | ALWAYS), 2: ("status", STR | ALWAYS), 3: ("lastProbeTime", MSG | ALWAYS, "Time"),
        4: ("lastTransitionTime", MSG | ALWAYS, "Time"), 5: ("reason", STR), 6: ("message", STR),
        7: ("observedGeneration", INT),
    },
    "HostIP": {1: ("ip", STR | ALWAYS)},
    "PodIP": {1: ("ip", STR | ALWAYS)},
    "ContainerStatus": {
        1: ("name", STR | ALWAYS), 2: ("state", MSG | ALWAYS, "ContainerState"),
        3: ("lastState", MSG | ALWAYS, "ContainerState"), 4: ("ready", BOOL | ALWAYS),
        5: ("restartCount", I32 | ALWAYS), 6: ("image", STR | ALWAYS), 7: ("imageID", STR | ALWAYS),
        8: ("containerID", STR), 9: ("started", BOOL | PTR),
        10: ("allocatedResources", MAP | MSG, "Quantity"),
        11: ("resources", MSG | PTR, "ResourceRequirements"),
        12: ("volumeMounts", MSG | REP, "VolumeMountStatus"), 13: ("user", MSG | PTR, "ContainerUser"),
        14: ("allocatedResourcesStatus", MSG | REP, "ResourceStatus"), 15: ("stopSignal", STR | PTR),
    },
    "ContainerState": {
        1: ("waiting", MSG | PTR, "ContainerStateWaiting"),
        2: ("running", MSG | PTR, "ContainerStateRunning"),
        3: ("terminated", MSG | PTR, "ContainerStateTerminated"),
    },
    "ContainerStateWaiting": {1: ("reason", STR), 2: ("message", STR)},
    "ContainerStateRunning": {1: ("startedAt", MSG | ALWAYS, "Time")},
    "ContainerStateTerminated": {
        1: ("exitCode", I32 | ALWAYS), 2: ("signal", I32), 3: ("reason", STR), 4: ("message", STR),
        5: ("startedAt", MSG | ALWAYS, "Time"), 6: ("finishedAt", MSG | ALWAYS, "Time"),
        7: ("containerID", STR),
    },
    "VolumeMountStatus": {
        1: ("name", STR | ALWAYS), 2: ("mountPath", STR | ALWAYS), 3: ("readOnly", BOOL),
        4: ("recursiveReadOnly", STR | PTR), 5: ("volumeStatus", MSG | PTR, "VolumeStatus"),
    },
    "VolumeStatus": {1: ("image", MSG | PTR, "ImageVolumeStatus")},
    "ImageVolumeStatus": {1: ("imageRef", STR)},
    "ContainerUser": {1: ("linux", MSG | PTR, "LinuxContainerUser")},
    "LinuxContainerUser": {
        1: ("uid", INT | ALWAYS), 2: ("gid", INT | ALWAYS), 3: ("supplementalGroups", INT | REP),
    },
    "ResourceStatus": {1: ("name", STR | ALWAYS), 2: ("resources", MSG | REP, "ResourceHealth")},
    "ResourceHealth": {1: ("resourceID", STR | ALWAYS), 2: ("health", STR), 6: ("message", STR | PTR)},
    "PodResourceClaimStatus": {1: ("name", STR | ALWAYS), 2: ("resourceClaimName", STR | PTR)},
    "PodExtendedResourceClaimStatus": {
        1: ("requestMappings", MSG | REP | ALWAYS, "ContainerExtendedResourceRequest"),
        2: ("resourceClaimName", STR | ALWAYS),
    },
    "ContainerExtendedResourceRequest": {
        1: ("containerName", STR | ALWAYS), 2: ("resourceName", STR | ALWAYS),
        3: ("requestName", STR | ALWAYS),
    },
    "NodeAllocatableResourceClaimStatus": {
        1: ("resourceClaimName", STR | ALWAYS), 2: ("containers", STR | REP),
        3: ("resources", MAP | MSG | ALWAYS, "Quantity"),
    },
}
