"""Semantic rules on create: every problem at once, with Kubernetes' paths and wording."""

from __future__ import annotations

from typing import Any

import pytest

from kube.errors import Invalid, too_long
from kube.model import FieldValidation, prepare_create, validate

Obj = dict[str, Any]


def problems(obj: Obj) -> list[str]:
    with pytest.raises(Invalid) as caught:
        prepare_create(obj, mode=FieldValidation.STRICT)
    return [str(e) for e in caught.value.errors]


def _pod(*containers: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "d"},
        "spec": {"containers": list(containers) or [{"name": "c", "image": "x"}], **spec},
    }


def test_every_pod_problem_at_once() -> None:
    pod = _pod(
        {"name": "a", "image": "x", "ports": [{"containerPort": 70000}, {"containerPort": 80, "protocol": "HTTP"}],
         "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}},
         "volumeMounts": [{"name": "x", "mountPath": "/data"}]},
        {"name": "a", "image": ""},
        {"name": "Bad_Name", "image": "y"},
        restartPolicy="Sometimes",
        dnsPolicy="Cluster",
    )  # fmt: skip
    pod["spec"]["initContainers"] = [{"name": "a", "image": "z"}]
    assert problems(pod) == [
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        'spec.containers[0].volumeMounts[0].name: Not found: "x"',
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
        'spec.containers[1].name: Duplicate value: "a"',
        "spec.containers[1].image: Required value",
        'spec.containers[2].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case '
        "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
        "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        'spec.initContainers[0].name: Duplicate value: "a"',
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        'spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirst", "ClusterFirstWithHostNet", '
        '"Default", "None"',
    ]


def test_invalid_carries_a_cause_per_problem_and_the_kubernetes_message() -> None:
    pod = _pod({"name": "c", "image": "", "ports": [{"containerPort": 0}]})
    with pytest.raises(Invalid) as caught:
        prepare_create(pod, mode=FieldValidation.STRICT)
    status = caught.value.status()
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["message"] == (
        'Pod "p" is invalid: [spec.containers[0].image: Required value, '
        "spec.containers[0].ports[0].containerPort: Required value]"
    )
    assert status["details"] == {"name": "p", "kind": "Pod", "causes": [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"},
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].ports[0].containerPort"},
    ]}  # fmt: skip


def test_pod_needs_a_container_and_names() -> None:
    assert problems(_pod(containers=[]) | {"spec": {"containers": []}}) == ["spec.containers: Required value"]
    no_spec = {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "d"}}
    assert problems(no_spec) == [
        "metadata.name: Required value: name or generateName is required",
        "spec.containers: Required value",
    ]
    assert problems(_pod({"image": "x"})) == ["spec.containers[0].name: Required value"]


def test_generate_name_names_the_error() -> None:
    pod = _pod(restartPolicy="Bad")
    pod["metadata"] = {"generateName": "web-", "namespace": "d"}
    with pytest.raises(Invalid) as caught:
        prepare_create(pod, mode=FieldValidation.STRICT)
    assert caught.value.message.startswith('Pod "web-" is invalid: ')


def test_container_field_rules() -> None:
    pod = _pod({
        "name": "c", "image": " x ", "imagePullPolicy": "Sometimes",
        "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"},
                  {"containerPort": 82, "name": "Not--ok", "hostPort": 70000}],
        "env": [{"name": "A=B", "value": "1"}, {"name": "", "value": "2"},
                {"name": "X", "value": "v", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {"name": "Y", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}},
                {"name": "Z", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}},
                {"name": "W", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}],
        "resources": {"limits": {"foo": "1", "example.com/gpu": "1"}, "requests": {"memory": "-1"}},
        "volumeMounts": [{"name": "v", "mountPath": "/a"}, {"name": "v", "mountPath": "/a", "subPath": "../x"}],
    }, volumes=[{"name": "v", "emptyDir": {}}])  # fmt: skip
    assert problems(pod) == [
        'spec.containers[0].image: Invalid value: " x ": must not have leading or trailing whitespace',
        'spec.containers[0].ports[1].name: Duplicate value: "http"',
        'spec.containers[0].ports[2].name: Invalid value: "Not--ok": must contain only alpha-numeric characters '
        "(a-z, 0-9), and hyphens (-)",
        'spec.containers[0].ports[2].name: Invalid value: "Not--ok": must not contain consecutive hyphens',
        "spec.containers[0].ports[2].hostPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only '
        "of printable ASCII characters other than '='",
        "spec.containers[0].env[1].name: Required value",
        'spec.containers[0].env[2].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
        'spec.containers[0].env[3].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": supported '
        'values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", '
        '"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
        'spec.containers[0].env[4].valueFrom.fieldRef.fieldPath: Invalid value: "spec.bogus": error converting '
        "fieldPath: field label not supported: spec.bogus",
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/a": must be unique',
        "spec.containers[0].volumeMounts[1].subPath: Invalid value: \"../x\": must not contain '..'",
        'spec.containers[0].resources.limits[foo]: Invalid value: "foo": must be a standard resource type or fully '
        "qualified",
        'spec.containers[0].resources.limits[foo]: Invalid value: "foo": must be a standard resource for containers',
        # Pods copy limits into unset requests before validation, so "foo" is reported twice, as in Kubernetes.
        'spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0',
        'spec.containers[0].resources.requests[foo]: Invalid value: "foo": must be a standard resource type or fully '
        "qualified",
        'spec.containers[0].resources.requests[foo]: Invalid value: "foo": must be a standard resource for containers',
        'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"IfNotPresent", "Never"',
    ]


def test_requests_within_limits_compares_values_not_text() -> None:
    ok = _pod(
        {
            "name": "c",
            "image": "x",
            "resources": {
                "requests": {"cpu": "1000m", "memory": "1Gi"},
                "limits": {"cpu": 1, "memory": "1073741824"},
            },
        }
    )
    assert prepare_create(ok, mode=FieldValidation.STRICT) == []
    gpu = _pod(
        {
            "name": "c",
            "image": "x",
            "resources": {"requests": {"example.com/gpu": "1"}, "limits": {"example.com/gpu": "2"}},
        }
    )
    assert problems(gpu) == [
        'spec.containers[0].resources.requests: Invalid value: "1": must be equal to '
        "example.com/gpu limit of 2"
    ]


def test_probe_rules() -> None:
    pod = _pod({"name": "c", "image": "x",
                "livenessProbe": {"successThreshold": 2, "httpGet": {"port": 0}, "tcpSocket": {"port": 80}},
                "readinessProbe": {"exec": {"command": ["true"]}, "terminationGracePeriodSeconds": 5},
                "startupProbe": {"periodSeconds": 3}})  # fmt: skip
    assert problems(pod) == [
        "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
        "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive",
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for "
        "readinessProbes",
        "spec.containers[0].startupProbe: Required value: must specify a handler type",
    ]


def test_volume_rules() -> None:
    pod = _pod(volumes=[
        {"name": "a", "emptyDir": {}, "configMap": {"name": "c"}},
        {"name": "a", "secret": {"secretName": "s", "defaultMode": 1000}},
        {"name": "b", "configMap": {"name": "", "items": [{"key": "k", "path": "/abs"}]}},
        {"name": "c", "hostPath": {"path": "/x", "type": "Folder"}},
    ])  # fmt: skip
    assert problems(pod) == [
        "spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type",
        "spec.volumes[1].secret.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both "
        "inclusive",
        'spec.volumes[1].name: Duplicate value: "a"',
        "spec.volumes[2].configMap.name: Required value",
        'spec.volumes[2].configMap.items[0].path: Invalid value: "/abs": must be a relative path',
        'spec.volumes[3].hostPath.type: Unsupported value: "Folder": supported values: "", "BlockDevice", '
        '"CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
    ]


def test_scheduling_rules() -> None:
    pod = _pod(
        tolerations=[{"operator": "Equal", "value": "v"}, {"key": "k", "operator": "Exists", "value": "v"},
                     {"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5}, {"key": "k", "operator": "Like"}],
        affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In"}, {"key": "x", "operator": "Exists",
                                                                       "values": ["y"]}]}]}},
                  "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": ""}]}},
        topologySpreadConstraints=[{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "Maybe"}],
        activeDeadlineSeconds=0,
        nodeSelector={"bad key!": "v"},
    )  # fmt: skip
    assert problems(pod) == [
        "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
        "spec.nodeSelector: Invalid value: \"bad key!\": name part must consist of alphanumeric characters, '-', "
        "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which '
        'means "match all values and all keys"',
        "spec.tolerations[1].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
        "spec.tolerations[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
        "`tolerationSeconds` is set",
        'spec.tolerations[3].operator: Unsupported value: "Like": supported values: "Equal", "Exists"',
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]."
        "matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]."
        "matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: "
        "can not be empty",
        "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
        'spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: '
        '"DoNotSchedule", "ScheduleAnyway"',
    ]


def _deployment(**spec: Any) -> Obj:
    base = {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "a"}},
        "template": {
            "metadata": {"labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c", "image": "x"}]},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "n"},
        "spec": base | spec,
    }


def test_deployment_rules() -> None:
    deployment = _deployment(
        replicas=-1,
        selector={"matchLabels": {"app": "b"}},
        minReadySeconds=700,
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}},
    )
    deployment["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert problems(deployment) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"a"}: `selector` does not match '
        "template `labels`",
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: '
        "may not be 0 when `maxSurge` is 0",
        "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
    ]


def test_deployment_selector_rules() -> None:
    missing = _deployment()
    del missing["spec"]["selector"]
    assert problems(missing) == ["spec.selector: Required value"]
    empty = _deployment(selector={})
    assert problems(empty) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
    ]
    recreate = _deployment(strategy={"type": "Recreate", "rollingUpdate": {}})
    assert problems(recreate) == [
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
    ]
    bad_percent = _deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "120%"}})
    assert problems(bad_percent) == [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, "
        'StrVal:"120%"}: must not be greater than 100%'
    ]


def test_replica_set_and_daemon_set_rules() -> None:
    replica_set = _deployment(
        selector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["b"]}]}
    )
    replica_set["kind"] = "ReplicaSet"
    replica_set["spec"]["template"]["spec"]["activeDeadlineSeconds"] = 5
    assert problems(replica_set) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"a"}: `selector` does not match '
        "template `labels`",
        "spec.template.spec.activeDeadlineSeconds: Invalid value: 5: activeDeadlineSeconds in ReplicaSet is not "
        "Supported",
    ]
    daemon_set = _deployment(
        updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}
    )
    daemon_set["kind"] = "DaemonSet"
    del daemon_set["spec"]["replicas"]
    assert problems(daemon_set) == [
        'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: '
        "may not be set when maxUnavailable is non-zero"
    ]


def _job(**spec: Any) -> Obj:
    base = {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j", "namespace": "n", "uid": "u-1"},
        "spec": base | spec,
    }


def test_job_rules() -> None:
    job = _job(parallelism=-1, completionMode="Indexed")
    job["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert problems(job) == [
        "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
        "spec.completions: Required value: when completion mode is Indexed",
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]
    unset = _job()
    del unset["spec"]["template"]["spec"]["restartPolicy"]
    assert problems(unset) == [
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    ]


def test_job_selector_rules() -> None:
    manual = _job(manualSelector=True)
    assert problems(manual) == ["spec.selector: Required value"]
    manual = _job(manualSelector=True, selector={"matchLabels": {"x": "y"}})
    assert problems(manual) == [
        "spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` "
        "does not match template `labels`"
    ]
    no_uid = _job()
    del no_uid["metadata"]["uid"]
    assert problems(no_uid) == ["metadata.uid: Required value"]


def test_a_missing_spec_is_an_empty_one() -> None:
    assert problems({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "d"}}) == [
        "spec.containers: Required value"
    ]
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "d"}}
    assert problems(deployment) == ["spec.selector: Required value", "spec.template: Required value"]
    assert [
        str(e)
        for e in validate({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "d"}})
    ] == ["spec.containers: Required value"]


def test_service_rules() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "9web", "namespace": "n"},
        "spec": {
            "type": "Cluster",
            "sessionAffinity": "Sticky",
            "clusterIP": "10.0.0.300",
            "ports": [
                {"port": 80, "name": "http", "nodePort": 30000},
                {"port": 0, "targetPort": "Web_Port"},
                {"port": 80, "name": "http"},
            ],
        },
    }
    assert problems(service) == [
        'metadata.name: Invalid value: "9web": a DNS-1035 label must consist of lower case alphanumeric characters '
        "or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        "spec.ports[1].name: Required value",
        "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[1].targetPort: Invalid value: "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), '
        "and hyphens (-)",
        'spec.ports[2].name: Duplicate value: "http"',
        'spec.ports[2]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
        'Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
        'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"',
        'spec.clusterIP: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
        'spec.type: Unsupported value: "Cluster": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
        '"NodePort"',
    ]


def test_service_port_and_type_rules() -> None:
    def service(**spec: Any) -> Obj:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s", "namespace": "n"},
            "spec": spec,
        }

    assert problems(service()) == ["spec.ports: Required value"]
    assert prepare_create(service(clusterIP="None"), mode=FieldValidation.STRICT) == []
    assert problems(service(ports=[{"port": 80, "nodePort": 30001}])) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    ]
    assert problems(service(type="ExternalName")) == ["spec.externalName: Required value"]
    assert problems(service(type="NodePort", clusterIP="None", ports=[{"port": 80}])) == [
        "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"
    ]


def test_config_map_and_secret_rules() -> None:
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "n"},
        "data": {"a b": "1", "..x": "2", "dup": "3"},
        "binaryData": {"dup": "eA=="},
    }
    assert problems(config_map) == [
        "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or "
        "'.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        "data[..x]: Invalid value: \"..x\": must not start with '..'",
        'data[dup]: Invalid value: "dup": duplicate of key present in binaryData',
        'binaryData[dup]: Invalid value: "dup": duplicate of key present in data',
    ]
    huge = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "n"},
        "data": {"a": "x" * (1024 * 1024), "b": "y"},
    }
    assert problems(huge) == [str(too_long("", 1024 * 1024))]
    tls = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "n"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "eA=="},
    }
    assert problems(tls) == ["data[tls.key]: Required value"]
    token = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "n"},
        "type": "kubernetes.io/service-account-token",
    }
    assert problems(token) == ["metadata.annotations[kubernetes.io/service-account.name]: Required value"]


def test_cluster_scoped_and_small_kinds() -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b", "namespace": "x"}}
    assert problems(namespace) == [
        'metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label must consist of lower case alphanumeric '
        "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "metadata.namespace: Forbidden: not allowed on this type",
    ]
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "n1", "namespace": "x"},
        "spec": {"leaseDurationSeconds": 0, "leaseTransitions": -1},
    }
    assert problems(lease) == [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
        "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
    ]
    priority = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "huge"},
        "value": 2_000_000_000,
    }
    assert problems(priority) == [
        "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
    ]
    system = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "system-x"},
        "value": 1,
    }
    assert problems(system) == [
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved "
        "for system use only. error: system-x is not a known system priority class"
    ]
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "p", "namespace": "x"},
        "spec": {"minAvailable": 1, "maxUnavailable": "10%"},
    }
    assert problems(pdb) == [
        "spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:1, "
        'MaxUnavailable:"10%"}: minAvailable and maxUnavailable cannot be both set'
    ]
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n1"},
        "spec": {
            "taints": [
                {"key": "k", "effect": "NoSchedule"},
                {"key": "k", "effect": "NoSchedule"},
                {"key": "j", "effect": "Sometimes"},
            ]
        },
    }
    assert problems(node) == [
        'spec.taints[1]: Duplicate value: "k:NoSchedule"',
        'spec.taints[2].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", '
        '"NoExecute"',
    ]
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e", "namespace": "a"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "b"},
    }
    assert problems(event) == ['involvedObject.namespace: Invalid value: "b": does not match event.namespace']


def test_rbac_rules() -> None:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "r", "namespace": "n"},
        "rules": [{"verbs": [], "apiGroups": [""], "resources": ["pods"]}, {"verbs": ["get"]}],
    }
    assert problems(role) == [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        "rules[1].apiGroups: Required value: resource rules must supply at least one api group",
        "rules[1].resources: Required value: resource rules must supply at least one resource",
    ]
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "b"},
        "roleRef": {"kind": "Role", "name": "r"},
        "subjects": [{"kind": "Robot", "name": "x"}],
    }
    assert problems(binding) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ]


def test_validate_alone_reports_required_fields_and_ignores_custom_kinds() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "n"},
        "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}},
    }
    assert [str(e) for e in validate(deployment)] == [
        "spec.selector: Required value",
        "spec.template.spec.containers[0].name: Required value",
    ]
    assert validate({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"anything": True}}) == []
    assert (
        prepare_create(
            {"apiVersion": "example.com/v1", "kind": "Widget", "x": 1}, mode=FieldValidation.STRICT
        )
        == []
    )


def test_remembered_pod_specs_give_the_same_fresh_answers() -> None:
    bad = _pod({"name": "c", "image": "x", "ports": [{"containerPort": 0}]})
    first = problems(bad | {"metadata": {"name": "a", "namespace": "d"}})
    second = problems(_pod({"name": "c", "image": "x", "ports": [{"containerPort": 0}]}))
    assert first == second == ["spec.containers[0].ports[0].containerPort: Required value"]
    # The same spec inside a template is checked under its own path, with template rules.
    template = {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {"name": "t", "namespace": "d"},
        "template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 0}]}]}},
    }
    assert problems(template) == ["template.spec.containers[0].ports[0].containerPort: Required value"]


def test_pods_of_one_template_bound_to_different_nodes_are_each_checked() -> None:
    """The pod-spec memos leave nodeName/hostname out of their key; each pod's own
    values must still be checked, and a bad one reported where the full walk puts it."""
    for node in ("node-1", "node-2", "node-3"):
        assert prepare_create(_pod(nodeName=node, hostname=f"h-{node}"), mode=FieldValidation.STRICT) == []
    assert problems(_pod(nodeName="Bad_Node")) == [
        'spec.nodeName: Invalid value: "Bad_Node": a lowercase RFC 1123 subdomain must consist of lower case '
        "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
        "'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    ]
    assert problems(_pod(nodeName=5)) == ['spec.nodeName: Invalid value: "integer": spec.nodeName in body must be '
                                          'of type string: "integer"']
    both = problems(_pod(nodeName="Bad_Node", restartPolicy="Sometimes", hostname="h_1"))
    assert [p.split(":")[0] for p in both] == ["spec.restartPolicy", "spec.nodeName", "spec.hostname"]
