"""Field numbers of core/v1's PodTemplateSpec and PodSpec, down to every container field.

The whole tree is here, not only what ``kubectl create deployment`` fills in, so that
any workload a typed client sends decodes completely: probes, security contexts,
affinity, topology spread, ephemeral containers.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, BOOL, I32, INLINE, INT, MAP, MSG, NULL, PTR, REP, STR, Table

CORE_V1_POD: Table = {
    "LocalObjectReference": {1: ("name", STR)},
    "PodSpec": {
        1: ("volumes", MSG | REP, "Volume"), 2: ("containers", MSG | REP | ALWAYS, "Container"),
        3: ("restartPolicy", STR), 4: ("terminationGracePeriodSeconds", INT | PTR),
        5: ("activeDeadlineSeconds", INT | PTR), 6: ("dnsPolicy", STR), 7: ("nodeSelector", MAP | STR),
        8: ("serviceAccountName", STR), 9: ("serviceAccount", STR), 10: ("nodeName", STR),
        11: ("hostNetwork", BOOL), 12: ("hostPID", BOOL), 13: ("hostIPC", BOOL),
        14: ("securityContext", MSG | PTR, "PodSecurityContext"),
        15: ("imagePullSecrets", MSG | REP, "LocalObjectReference"), 16: ("hostname", STR),
        17: ("subdomain", STR), 18: ("affinity", MSG | PTR, "Affinity"), 19: ("schedulerName", STR),
        20: ("initContainers", MSG | REP, "Container"), 21: ("automountServiceAccountToken", BOOL | PTR),
        22: ("tolerations", MSG | REP, "Toleration"), 23: ("hostAliases", MSG | REP, "HostAlias"),
        24: ("priorityClassName", STR), 25: ("priority", I32 | PTR),
        26: ("dnsConfig", MSG | PTR, "PodDNSConfig"), 27: ("shareProcessNamespace", BOOL | PTR),
        28: ("readinessGates", MSG | REP, "PodReadinessGate"), 29: ("runtimeClassName", STR | PTR),
        30: ("enableServiceLinks", BOOL | PTR), 31: ("preemptionPolicy", STR | PTR),
        32: ("overhead", MAP | MSG, "Quantity"),
        33: ("topologySpreadConstraints", MSG | REP, "TopologySpreadConstraint"),
        34: ("ephemeralContainers", MSG | REP, "EphemeralContainer"), 35: ("setHostnameAsFQDN", BOOL | PTR),
        36: ("os", MSG | PTR, "PodOS"), 37: ("hostUsers", BOOL | PTR),
        38: ("schedulingGates", MSG | REP, "PodSchedulingGate"),
        39: ("resourceClaims", MSG | REP, "PodResourceClaim"),
        40: ("resources", MSG | PTR, "ResourceRequirements"), 41: ("hostnameOverride", STR | PTR),
        43: ("schedulingGroup", MSG | PTR, "PodSchedulingGroup"),
    },
    "ObjectFieldSelector": {1: ("apiVersion", STR), 2: ("fieldPath", STR | ALWAYS)},
    "ResourceFieldSelector": {
        1: ("containerName", STR), 2: ("resource", STR | ALWAYS), 3: ("divisor", MSG | ALWAYS, "Quantity"),
    },
    "Container": {
        1: ("name", STR | ALWAYS), 2: ("image", STR), 3: ("command", STR | REP), 4: ("args", STR | REP),
        5: ("workingDir", STR), 6: ("ports", MSG | REP, "ContainerPort"), 7: ("env", MSG | REP, "EnvVar"),
        8: ("resources", MSG | ALWAYS, "ResourceRequirements"), 9: ("volumeMounts", MSG | REP, "VolumeMount"),
        10: ("livenessProbe", MSG | PTR, "Probe"), 11: ("readinessProbe", MSG | PTR, "Probe"),
        12: ("lifecycle", MSG | PTR, "Lifecycle"), 13: ("terminationMessagePath", STR),
        14: ("imagePullPolicy", STR), 15: ("securityContext", MSG | PTR, "SecurityContext"),
        16: ("stdin", BOOL), 17: ("stdinOnce", BOOL), 18: ("tty", BOOL),
        19: ("envFrom", MSG | REP, "EnvFromSource"), 20: ("terminationMessagePolicy", STR),
        21: ("volumeDevices", MSG | REP, "VolumeDevice"), 22: ("startupProbe", MSG | PTR, "Probe"),
        23: ("resizePolicy", MSG | REP, "ContainerResizePolicy"), 24: ("restartPolicy", STR | PTR),
        25: ("restartPolicyRules", MSG | REP, "ContainerRestartRule"),
    },
    "ContainerPort": {
        1: ("name", STR), 2: ("hostPort", I32), 3: ("containerPort", I32 | ALWAYS), 4: ("protocol", STR),
        5: ("hostIP", STR),
    },
    "EnvFromSource": {
        1: ("prefix", STR), 2: ("configMapRef", MSG | PTR, "ConfigMapEnvSource"),
        3: ("secretRef", MSG | PTR, "SecretEnvSource"),
    },
    "ConfigMapEnvSource": {1: ("", MSG | INLINE, "LocalObjectReference"), 2: ("optional", BOOL | PTR)},
    "SecretEnvSource": {1: ("", MSG | INLINE, "LocalObjectReference"), 2: ("optional", BOOL | PTR)},
    "EnvVar": {1: ("name", STR | ALWAYS), 2: ("value", STR), 3: ("valueFrom", MSG | PTR, "EnvVarSource")},
    "EnvVarSource": {
        1: ("fieldRef", MSG | PTR, "ObjectFieldSelector"),
        2: ("resourceFieldRef", MSG | PTR, "ResourceFieldSelector"),
        3: ("configMapKeyRef", MSG | PTR, "ConfigMapKeySelector"),
        4: ("secretKeyRef", MSG | PTR, "SecretKeySelector"), 5: ("fileKeyRef", MSG | PTR, "FileKeySelector"),
    },
    "ConfigMapKeySelector": {
        1: ("", MSG | INLINE, "LocalObjectReference"), 2: ("key", STR | ALWAYS), 3: ("optional", BOOL | PTR),
    },
    "SecretKeySelector": {
        1: ("", MSG | INLINE, "LocalObjectReference"), 2: ("key", STR | ALWAYS), 3: ("optional", BOOL | PTR),
    },
    "FileKeySelector": {
        1: ("volumeName", STR | ALWAYS), 2: ("path", STR | ALWAYS), 3: ("key", STR | ALWAYS),
        4: ("optional", BOOL | PTR),
    },
    "ResourceRequirements": {
        1: ("limits", MAP | MSG, "Quantity"), 2: ("requests", MAP | MSG, "Quantity"),
        3: ("claims", MSG | REP, "ResourceClaim"),
    },
    "ResourceClaim": {1: ("name", STR | ALWAYS), 2: ("request", STR)},
    "ContainerResizePolicy": {1: ("resourceName", STR | ALWAYS), 2: ("restartPolicy", STR | ALWAYS)},
    "ContainerRestartRule": {
        1: ("action", STR), 2: ("exitCodes", MSG | PTR, "ContainerRestartRuleOnExitCodes"),
    },
    "ContainerRestartRuleOnExitCodes": {1: ("operator", STR), 2: ("values", I32 | REP)},
    "VolumeMount": {
        1: ("name", STR | ALWAYS), 2: ("readOnly", BOOL), 3: ("mountPath", STR | ALWAYS), 4: ("subPath", STR),
        5: ("mountPropagation", STR | PTR), 6: ("subPathExpr", STR), 7: ("recursiveReadOnly", STR | PTR),
    },
    "VolumeDevice": {1: ("name", STR | ALWAYS), 2: ("devicePath", STR | ALWAYS)},
    "Probe": {
        1: ("", MSG | INLINE, "ProbeHandler"), 2: ("initialDelaySeconds", I32), 3: ("timeoutSeconds", I32),
        4: ("periodSeconds", I32), 5: ("successThreshold", I32), 6: ("failureThreshold", I32),
        7: ("terminationGracePeriodSeconds", INT | PTR),
    },
    "ProbeHandler": {
        1: ("exec", MSG | PTR, "ExecAction"), 2: ("httpGet", MSG | PTR, "HTTPGetAction"),
        3: ("tcpSocket", MSG | PTR, "TCPSocketAction"), 4: ("grpc", MSG | PTR, "GRPCAction"),
    },
    "ExecAction": {1: ("command", STR | REP)},
    "HTTPGetAction": {
        1: ("path", STR), 2: ("port", MSG | ALWAYS, "IntOrString"), 3: ("host", STR), 4: ("scheme", STR),
        5: ("httpHeaders", MSG | REP, "HTTPHeader"),
    },
    "HTTPHeader": {1: ("name", STR | ALWAYS), 2: ("value", STR | ALWAYS)},
    "TCPSocketAction": {1: ("port", MSG | ALWAYS, "IntOrString"), 2: ("host", STR)},
    "GRPCAction": {1: ("port", I32 | ALWAYS), 2: ("service", STR | NULL)},
    "Lifecycle": {
        1: ("postStart", MSG | PTR, "LifecycleHandler"), 2: ("preStop", MSG | PTR, "LifecycleHandler"),
        3: ("stopSignal", STR | PTR),
    },
    "LifecycleHandler": {
        1: ("exec", MSG | PTR, "ExecAction"), 2: ("httpGet", MSG | PTR, "HTTPGetAction"),
        3: ("tcpSocket", MSG | PTR, "TCPSocketAction"), 4: ("sleep", MSG | PTR, "SleepAction"),
    },
    "SleepAction": {1: ("seconds", INT | ALWAYS)},
    "SecurityContext": {
        1: ("capabilities", MSG | PTR, "Capabilities"), 2: ("privileged", BOOL | PTR),
        3: ("seLinuxOptions", MSG | PTR, "SELinuxOptions"), 4: ("runAsUser", INT | PTR),
        5: ("runAsNonRoot", BOOL | PTR), 6: ("readOnlyRootFilesystem", BOOL | PTR),
        7: ("allowPrivilegeEscalation", BOOL | PTR), 8: ("runAsGroup", INT | PTR),
        9: ("procMount", STR | PTR), 10: ("windowsOptions", MSG | PTR, "WindowsSecurityContextOptions"),
        11: ("seccompProfile", MSG | PTR, "SeccompProfile"),
        12: ("appArmorProfile", MSG | PTR, "AppArmorProfile"),
    },
    "Capabilities": {1: ("add", STR | REP), 2: ("drop", STR | REP)},
    "SELinuxOptions": {1: ("user", STR), 2: ("role", STR), 3: ("type", STR), 4: ("level", STR)},
    "WindowsSecurityContextOptions": {
        1: ("gmsaCredentialSpecName", STR | PTR), 2: ("gmsaCredentialSpec", STR | PTR),
        3: ("runAsUserName", STR | PTR), 4: ("hostProcess", BOOL | PTR),
    },
    "SeccompProfile": {1: ("type", STR | ALWAYS), 2: ("localhostProfile", STR | PTR)},
    "AppArmorProfile": {1: ("type", STR | ALWAYS), 2: ("localhostProfile", STR | PTR)},
    "EphemeralContainer": {
        1: ("", MSG | INLINE, "EphemeralContainerCommon"), 2: ("targetContainerName", STR),
    },
    "EphemeralContainerCommon": {
        1: ("name", STR | ALWAYS), 2: ("image", STR), 3: ("command", STR | REP), 4: ("args", STR | REP),
        5: ("workingDir", STR), 6: ("ports", MSG | REP, "ContainerPort"), 7: ("env", MSG | REP, "EnvVar"),
        8: ("resources", MSG | ALWAYS, "ResourceRequirements"), 9: ("volumeMounts", MSG | REP, "VolumeMount"),
        10: ("livenessProbe", MSG | PTR, "Probe"), 11: ("readinessProbe", MSG | PTR, "Probe"),
        12: ("lifecycle", MSG | PTR, "Lifecycle"), 13: ("terminationMessagePath", STR),
        14: ("imagePullPolicy", STR), 15: ("securityContext", MSG | PTR, "SecurityContext"),
        16: ("stdin", BOOL), 17: ("stdinOnce", BOOL), 18: ("tty", BOOL),
        19: ("envFrom", MSG | REP, "EnvFromSource"), 20: ("terminationMessagePolicy", STR),
        21: ("volumeDevices", MSG | REP, "VolumeDevice"), 22: ("startupProbe", MSG | PTR, "Probe"),
        23: ("resizePolicy", MSG | REP, "ContainerResizePolicy"), 24: ("restartPolicy", STR | PTR),
        25: ("restartPolicyRules", MSG | REP, "ContainerRestartRule"),
    },
    "PodSecurityContext": {
        1: ("seLinuxOptions", MSG | PTR, "SELinuxOptions"), 2: ("runAsUser", INT | PTR),
        3: ("runAsNonRoot", BOOL | PTR), 4: ("supplementalGroups", INT | REP), 5: ("fsGroup", INT | PTR),
        6: ("runAsGroup", INT | PTR), 7: ("sysctls", MSG | REP, "Sysctl"),
        8: ("windowsOptions", MSG | PTR, "WindowsSecurityContextOptions"),
        9: ("fsGroupChangePolicy", STR | PTR), 10: ("seccompProfile", MSG | PTR, "SeccompProfile"),
        11: ("appArmorProfile", MSG | PTR, "AppArmorProfile"), 12: ("supplementalGroupsPolicy", STR | PTR),
        13: ("seLinuxChangePolicy", STR | PTR),
    },
    "Sysctl": {1: ("name", STR | ALWAYS), 2: ("value", STR | ALWAYS)},
    "Affinity": {
        1: ("nodeAffinity", MSG | PTR, "NodeAffinity"), 2: ("podAffinity", MSG | PTR, "PodAffinity"),
        3: ("podAntiAffinity", MSG | PTR, "PodAntiAffinity"),
    },
    "NodeAffinity": {
        1: ("requiredDuringSchedulingIgnoredDuringExecution", MSG | PTR, "NodeSelector"),
        2: ("preferredDuringSchedulingIgnoredDuringExecution", MSG | REP, "PreferredSchedulingTerm"),
    },
    "NodeSelector": {1: ("nodeSelectorTerms", MSG | REP | ALWAYS, "NodeSelectorTerm")},
    "NodeSelectorTerm": {
        1: ("matchExpressions", MSG | REP, "NodeSelectorRequirement"),
        2: ("matchFields", MSG | REP, "NodeSelectorRequirement"),
    },
    "NodeSelectorRequirement": {
        1: ("key", STR | ALWAYS), 2: ("operator", STR | ALWAYS), 3: ("values", STR | REP),
    },
    "PreferredSchedulingTerm": {
        1: ("weight", I32 | ALWAYS), 2: ("preference", MSG | ALWAYS, "NodeSelectorTerm"),
    },
    "PodAffinity": {
        1: ("requiredDuringSchedulingIgnoredDuringExecution", MSG | REP, "PodAffinityTerm"),
        2: ("preferredDuringSchedulingIgnoredDuringExecution", MSG | REP, "WeightedPodAffinityTerm"),
    },
    "PodAffinityTerm": {
        1: ("labelSelector", MSG | PTR, "LabelSelector"), 2: ("namespaces", STR | REP),
        3: ("topologyKey", STR | ALWAYS), 4: ("namespaceSelector", MSG | PTR, "LabelSelector"),
        5: ("matchLabelKeys", STR | REP), 6: ("mismatchLabelKeys", STR | REP),
    },
    "WeightedPodAffinityTerm": {
        1: ("weight", I32 | ALWAYS), 2: ("podAffinityTerm", MSG | ALWAYS, "PodAffinityTerm"),
    },
    "PodAntiAffinity": {
        1: ("requiredDuringSchedulingIgnoredDuringExecution", MSG | REP, "PodAffinityTerm"),
        2: ("preferredDuringSchedulingIgnoredDuringExecution", MSG | REP, "WeightedPodAffinityTerm"),
    },
    "Toleration": {
        1: ("key", STR), 2: ("operator", STR), 3: ("value", STR), 4: ("effect", STR),
        5: ("tolerationSeconds", INT | PTR),
    },
    "HostAlias": {1: ("ip", STR | ALWAYS), 2: ("hostnames", STR | REP)},
    "PodDNSConfig": {
        1: ("nameservers", STR | REP), 2: ("searches", STR | REP),
        3: ("options", MSG | REP, "PodDNSConfigOption"),
    },
    "PodDNSConfigOption": {1: ("name", STR), 2: ("value", STR | PTR)},
    "PodReadinessGate": {1: ("conditionType", STR | ALWAYS)},
    "TopologySpreadConstraint": {
        1: ("maxSkew", I32 | ALWAYS), 2: ("topologyKey", STR | ALWAYS),
        3: ("whenUnsatisfiable", STR | ALWAYS), 4: ("labelSelector", MSG | PTR, "LabelSelector"),
        5: ("minDomains", I32 | PTR), 6: ("nodeAffinityPolicy", STR | PTR),
        7: ("nodeTaintsPolicy", STR | PTR), 8: ("matchLabelKeys", STR | REP),
    },
    "PodOS": {1: ("name", STR | ALWAYS)},
    "PodSchedulingGate": {1: ("name", STR | ALWAYS)},
    "PodResourceClaim": {
        1: ("name", STR | ALWAYS), 3: ("resourceClaimName", STR | PTR),
        4: ("resourceClaimTemplateName", STR | PTR),
    },
    "PodSchedulingGroup": {1: ("podGroupName", STR | PTR)},
    "PodTemplateSpec": {1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "PodSpec")},
}
