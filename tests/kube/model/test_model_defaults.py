"""Each default the real API server sets (pkg/apis/*/v1/defaults.go), and what it leaves alone."""

from __future__ import annotations

from typing import Any

import pytest

from kube.model import FieldValidation, apply_defaults, prepare_create
from kube.model.defaults import apply_create_defaults, apply_update_defaults
from kube.model.defaults_pod import image_tag

Obj = dict[str, Any]


def _pod(**spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "d"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec},
    }


def test_pod_spec_defaults() -> None:
    pod = _pod()
    apply_defaults(pod)
    assert pod["spec"] == {
        "containers": [{
            "name": "c", "image": "nginx", "imagePullPolicy": "Always", "resources": {},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        }],
        "enableServiceLinks": True,
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
        "schedulerName": "default-scheduler",
    }  # fmt: skip


def test_admission_fields_are_not_defaulted() -> None:
    pod = _pod()
    apply_defaults(pod)
    for field in ("serviceAccountName", "priority", "preemptionPolicy", "tolerations", "nodeName"):
        assert field not in pod["spec"]


def test_explicit_values_win() -> None:
    pod = _pod(
        dnsPolicy="Default",
        restartPolicy="Never",
        terminationGracePeriodSeconds=0,
        enableServiceLinks=False,
        securityContext={"runAsUser": 1},
    )
    apply_defaults(pod)
    spec = pod["spec"]
    assert (spec["dnsPolicy"], spec["restartPolicy"], spec["terminationGracePeriodSeconds"]) == (
        "Default",
        "Never",
        0,
    )
    assert spec["enableServiceLinks"] is False and spec["securityContext"] == {"runAsUser": 1}


@pytest.mark.parametrize(
    ("image", "tag", "policy"),
    [
        ("nginx", "latest", "Always"),
        ("nginx:latest", "latest", "Always"),
        ("nginx:1.25", "1.25", "IfNotPresent"),
        ("localhost:5000/team/app", "latest", "Always"),
        ("localhost:5000/team/app:v2", "v2", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "", "IfNotPresent"),
        ("nginx:1.25@sha256:" + "a" * 64, "1.25", "IfNotPresent"),
        ("Not/Valid", "", "IfNotPresent"),
        ("", "", "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, tag: str, policy: str) -> None:
    assert image_tag(image) == tag
    pod = _pod()
    pod["spec"]["containers"][0]["image"] = image
    apply_defaults(pod)
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_container_details_are_defaulted() -> None:
    container: Obj = {
        "name": "c", "image": "x:1",
        "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
        "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"grpc": {"port": 9000}, "timeoutSeconds": 0},
        "startupProbe": {"exec": {"command": ["true"]}, "periodSeconds": 2},
        "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/stop"}}},
    }  # fmt: skip
    pod = _pod()
    pod["spec"]["containers"] = [container]
    apply_defaults(pod)
    assert [p["protocol"] for p in container["ports"]] == ["TCP", "UDP"]
    assert container["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "metadata.name", "apiVersion": "v1"}
    timings: Obj = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    assert container["livenessProbe"] == {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, **timings}
    assert container["readinessProbe"] == {"grpc": {"port": 9000, "service": ""}, **timings}
    assert container["startupProbe"]["periodSeconds"] == 2
    assert container["lifecycle"]["preStop"]["httpGet"] == {"port": 80, "path": "/stop", "scheme": "HTTP"}


def test_pod_only_defaults_requests_from_limits_and_host_ports() -> None:
    pod = _pod(hostNetwork=True)
    pod["spec"]["containers"][0].update(
        ports=[{"containerPort": 8080}],
        resources={"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m"}},
    )
    pod["spec"]["initContainers"] = [{"name": "i", "image": "x", "resources": {"limits": {"memory": "64Mi"}}}]
    apply_defaults(pod)
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "100m", "memory": "1Gi"}
    assert pod["spec"]["initContainers"][0]["resources"]["requests"] == {"memory": "64Mi"}
    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080


def test_volume_defaults() -> None:
    pod = _pod(volumes=[
        {"name": "plain"},
        {"name": "cm", "configMap": {"name": "c"}},
        {"name": "s", "secret": {"secretName": "s", "defaultMode": 256}},
        {"name": "d", "downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}},
        {"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
        {"name": "h", "hostPath": {"path": "/x"}},
        {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}},
        {"name": "r", "rbd": {"monitors": ["m"], "image": "i"}},
    ])  # fmt: skip
    apply_defaults(pod)
    volumes: Obj = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["plain"] == {"name": "plain", "emptyDir": {}}
    assert volumes["cm"]["configMap"]["defaultMode"] == 420
    assert volumes["s"]["secret"]["defaultMode"] == 256
    assert volumes["d"]["downwardAPI"] == {
        "items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v1"}}],
        "defaultMode": 420,
    }
    assert volumes["p"]["projected"] == {
        "sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}],
        "defaultMode": 420,
    }
    assert volumes["h"]["hostPath"] == {"path": "/x", "type": ""}
    assert volumes["e"]["ephemeral"]["volumeClaimTemplate"]["spec"]["volumeMode"] == "Filesystem"
    assert volumes["r"]["rbd"] == {
        "monitors": ["m"],
        "image": "i",
        "pool": "rbd",
        "user": "admin",
        "keyring": "/etc/ceph/keyring",
    }


def test_deployment_defaults_and_template_without_pod_only_fields() -> None:
    deployment: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}}},
    }
    apply_defaults(deployment)
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    template = spec["template"]["spec"]
    assert template["restartPolicy"] == "Always" and template["dnsPolicy"] == "ClusterFirst"
    assert "enableServiceLinks" not in template


def test_recreate_strategy_gets_no_rolling_update() -> None:
    deployment: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "spec": {"strategy": {"type": "Recreate"}},
    }
    apply_defaults(deployment)
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_replica_set_and_daemon_set_defaults() -> None:
    replica_set: Obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "spec": {}}
    daemon_set: Obj = {"apiVersion": "apps/v1", "kind": "DaemonSet", "spec": {}}
    apply_defaults(replica_set)
    apply_defaults(daemon_set)
    assert replica_set["spec"] == {"replicas": 1}
    assert daemon_set["spec"] == {
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        "revisionHistoryLimit": 10,
    }


def test_stateful_set_defaults() -> None:
    stateful_set: Obj = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {}}]},
    }
    apply_defaults(stateful_set)
    spec = stateful_set["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert spec["volumeClaimTemplates"][0] == {
        "metadata": {"name": "data"},
        "spec": {"volumeMode": "Filesystem"},
        "status": {"phase": "Pending"},
    }


def test_job_defaults_keep_restart_policy_always_as_kubernetes_does() -> None:
    job: Obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "j"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            }
        },
    }
    apply_defaults(job)
    spec = job["spec"]
    assert {
        k: spec[k]
        for k in (
            "completions",
            "parallelism",
            "backoffLimit",
            "completionMode",
            "suspend",
            "podReplacementPolicy",
        )
    } == {
        "completions": 1,
        "parallelism": 1,
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed",
    }
    assert spec["template"]["spec"]["restartPolicy"] == "Always"  # then refused by validation
    assert job["metadata"]["labels"] == {"app": "j"}
    assert "manualSelector" not in spec


def test_job_parallel_and_failure_policy_variants() -> None:
    job: Obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {
            "parallelism": 3,
            "backoffLimitPerIndex": 1,
            "podFailurePolicy": {
                "rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]
            },
        },
    }
    apply_defaults(job)
    spec = job["spec"]
    assert "completions" not in spec and spec["parallelism"] == 3
    assert spec["backoffLimit"] == 2**31 - 1
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"


def test_job_selector_is_generated_from_the_uid_on_create() -> None:
    job: Obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "d", "uid": "u-1"},
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}
        },
    }
    assert prepare_create(job, mode=FieldValidation.STRICT) == []
    labels: Obj = {
        "batch.kubernetes.io/controller-uid": "u-1",
        "controller-uid": "u-1",
        "batch.kubernetes.io/job-name": "pi",
        "job-name": "pi",
    }
    assert job["spec"]["template"]["metadata"]["labels"] == labels
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}
    assert job["metadata"]["labels"] == labels


def test_cron_job_defaults() -> None:
    cron_job: Obj = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "spec": {
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}
        },
    }
    apply_defaults(cron_job)
    spec = cron_job["spec"]
    assert (
        spec["concurrencyPolicy"],
        spec["suspend"],
        spec["successfulJobsHistoryLimit"],
        spec["failedJobsHistoryLimit"],
    ) == ("Allow", False, 3, 1)
    assert "parallelism" not in spec["jobTemplate"]["spec"]


def test_service_defaults() -> None:
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}]},
    }
    apply_defaults(service)
    apply_create_defaults(service)
    assert service["spec"] == {
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}],
        "sessionAffinity": "None", "type": "ClusterIP", "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"],
    }  # fmt: skip


def test_load_balancer_and_client_ip_defaults() -> None:
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "spec": {
            "type": "LoadBalancer",
            "sessionAffinity": "ClientIP",
            "ports": [{"port": 443, "targetPort": 0}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "lb.example.com"}]}},
    }
    apply_defaults(service)
    spec = service["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster" and spec["allocateLoadBalancerNodePorts"] is True
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    assert spec["ports"][0]["targetPort"] == 443
    assert service["status"]["loadBalancer"]["ingress"] == [
        {"ip": "1.2.3.4", "ipMode": "VIP"},
        {"hostname": "lb.example.com"},
    ]


def test_headless_and_external_name_services() -> None:
    headless: Obj = {"apiVersion": "v1", "kind": "Service", "spec": {"clusterIP": "None"}}
    external: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "spec": {"type": "ExternalName", "externalName": "db.example.com"},
    }
    for service in (headless, external):
        apply_defaults(service)
        apply_create_defaults(service)
    assert headless["spec"]["ipFamilyPolicy"] == "RequireDualStack" and headless["spec"]["clusterIPs"] == [
        "None"
    ]
    assert "ipFamilies" not in external["spec"] and "internalTrafficPolicy" not in external["spec"]


def test_service_update_keeps_allocated_values() -> None:
    old: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "spec": {
            "type": "NodePort",
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
        },
    }
    new: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 81}]},
    }
    apply_update_defaults(new, old=old)
    assert new["spec"]["clusterIP"] == "10.96.0.10" and new["spec"]["ports"][0]["nodePort"] == 30080


def test_namespace_defaults_and_create_time_fields() -> None:
    namespace: Obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
    assert prepare_create(namespace, mode=FieldValidation.STRICT) == []
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert namespace["spec"] == {"finalizers": ["kubernetes"]}
    assert namespace["status"] == {"phase": "Active"}


def test_namespace_finalizer_is_not_re_added_on_update() -> None:
    namespace: Obj = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "a"},
        "spec": {"finalizers": []},
    }
    apply_defaults(namespace)
    assert namespace["spec"]["finalizers"] == []


def test_secret_defaults_and_string_data_conversion() -> None:
    secret: Obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "d"},
        "data": {"a": "b2xk"},
        "stringData": {"a": "new", "b": "ü"},
    }
    assert prepare_create(secret, mode=FieldValidation.STRICT) == []
    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "d"},
        "data": {"a": "bmV3", "b": "w7w="},
        "type": "Opaque",
    }


def test_other_kinds() -> None:
    node: Obj = {"apiVersion": "v1", "kind": "Node", "status": {"capacity": {"cpu": "4"}}}
    priority_class: Obj = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "value": 1}
    binding: Obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "roleRef": {"kind": "ClusterRole", "name": "r"},
        "subjects": [
            {"kind": "User", "name": "u"},
            {"kind": "ServiceAccount", "name": "s", "namespace": "n"},
        ],
    }
    pdb: Obj = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "spec": {"minAvailable": 1}}
    for obj in (node, priority_class, binding, pdb):
        apply_defaults(obj)
    assert node["status"]["allocatable"] == {"cpu": "4"}
    assert priority_class["preemptionPolicy"] == "PreemptLowerPriority"
    assert binding["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert binding["subjects"] == [
        {"kind": "User", "name": "u", "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "ServiceAccount", "name": "s", "namespace": "n"},
    ]
    assert pdb == {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "spec": {"minAvailable": 1}}


def test_unknown_kinds_are_left_alone() -> None:
    custom: Obj = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}}
    apply_defaults(custom)
    assert custom == {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}}


def test_required_fields_that_defaulting_fills_are_not_missing() -> None:
    job: Obj = {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": "n", "uid": "u"},
        "spec": {"podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]},
                 "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}},
    }  # fmt: skip
    binding: Obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "view"}}  # fmt: skip
    for obj in (job, binding):
        assert prepare_create(obj, mode=FieldValidation.STRICT) == []
