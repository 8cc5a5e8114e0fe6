"""Real manifests pass and every field comes back as sent, plus defaults.

The design promise: every field of the real API is accepted and round-trips unchanged
(no canonicalized quantities, no reordering, nothing dropped), because kubectl, Helm
charts and operators send far more than the handful of fields a toy model knows.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest
from kubernetes import client

from kube.model import FieldValidation, prepare_create, prepare_update


def assert_subset(before: Any, after: Any, path: str = "") -> None:
    """Everything in ``before`` is in ``after`` unchanged (same types, same order)."""
    if isinstance(before, dict):
        assert isinstance(after, dict), path
        assert list(before) == [k for k in after if k in before], f"{path}: keys reordered"
        for key, value in before.items():
            assert key in after, f"{path}.{key} dropped"
            assert_subset(value, after[key], f"{path}.{key}")
    elif isinstance(before, list):
        assert isinstance(after, list) and len(before) == len(after), path
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            assert_subset(b, a, f"{path}[{index}]")
    else:
        assert type(before) is type(after) and before == after, f"{path}: {before!r} became {after!r}"


def test_realistic_manifests_pass_and_round_trip(manifests: list[dict[str, Any]]) -> None:
    for manifest in manifests:
        before = copy.deepcopy(manifest)
        assert prepare_create(manifest, mode=FieldValidation.STRICT) == []
        assert_subset(before, manifest)


def test_quantities_and_ints_are_not_canonicalized(pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["resources"] = {
        "limits": {"cpu": "1000m", "memory": "0.5Gi"},
        "requests": {"cpu": 0.5},
    }
    prepare_create(pod, mode=FieldValidation.STRICT)
    resources = pod["spec"]["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "1000m", "memory": "0.5Gi"}
    assert resources["requests"] == {
        "cpu": 0.5,
        "memory": "0.5Gi",
    }  # memory copied from limits, as Kubernetes does


def test_status_and_server_fields_are_accepted(pod: dict[str, Any]) -> None:
    pod["metadata"].update(
        uid="0d8b3b5e-1c1f-4d2a-9a0e-6b7f4f7d2c11",
        resourceVersion="12",
        creationTimestamp="2024-05-01T10:00:00Z",
        managedFields=[
            {
                "manager": "kubectl",
                "operation": "Apply",
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:containers": {'k:{"name":"web"}': {".": {}}}}},
                "time": "2024-05-01T10:00:00Z",
            }
        ],
        ownerReferences=[
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-1",
                "uid": "u-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    )
    pod["status"] = {
        "phase": "Running",
        "podIP": "10.0.0.7",
        "podIPs": [{"ip": "10.0.0.7"}],
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "lastTransitionTime": "2024-05-01T10:00:05Z",
                "lastProbeTime": None,
            }
        ],
        "containerStatuses": [
            {
                "name": "web",
                "ready": True,
                "restartCount": 0,
                "image": "web:2.4.1",
                "imageID": "",
                "state": {"running": {"startedAt": "2024-05-01T10:00:03Z"}},
            }
        ],
        "qosClass": "Burstable",
        "startTime": "2024-05-01T10:00:01.123456+02:00",
    }
    before = copy.deepcopy(pod)
    assert prepare_create(pod, mode=FieldValidation.STRICT) == []
    assert_subset(before, pod)


def test_update_round_trips(deployment: dict[str, Any]) -> None:
    prepare_create(deployment, mode=FieldValidation.STRICT)
    deployment["metadata"]["resourceVersion"] = "7"
    new = copy.deepcopy(deployment)
    new["spec"]["replicas"] = 5
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.com/shop/web:2.5.0"
    before = copy.deepcopy(new)
    assert prepare_update(new, old=deployment, mode=FieldValidation.STRICT) == []
    assert new == before


# -- objects from the official Python client's models ------------------------------------

_api = client.ApiClient()


def _serialized(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = _api.sanitize_for_serialization(model)
    return out


_NOW = datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.UTC)


def _client_pod() -> Any:
    return client.V1Pod(
        api_version="v1",
        kind="Pod",
        metadata=client.V1ObjectMeta(name="full", namespace="default", labels={"a": "b"},
                                     annotations={"x.io/y": "z"}, creation_timestamp=_NOW),
        spec=client.V1PodSpec(
            containers=[client.V1Container(
                name="c", image="busybox:1.36", command=["sh"], args=["-c", "sleep 1"], working_dir="/",
                ports=[client.V1ContainerPort(container_port=80, host_port=8080, protocol="UDP", name="p")],
                env=[client.V1EnvVar(name="A", value_from=client.V1EnvVarSource(
                    config_map_key_ref=client.V1ConfigMapKeySelector(name="cm", key="k", optional=True)))],
                resources=client.V1ResourceRequirements(limits={"cpu": "1", "nvidia.com/gpu": "1"},
                                                        requests={"cpu": "500m", "nvidia.com/gpu": "1"}),
                liveness_probe=client.V1Probe(grpc=client.V1GRPCAction(port=9000), timeout_seconds=3),
                readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(port=80, scheme="HTTPS", host="h")),
                lifecycle=client.V1Lifecycle(post_start=client.V1LifecycleHandler(
                    http_get=client.V1HTTPGetAction(port="p", path="/start"))),
                security_context=client.V1SecurityContext(
                    privileged=False, run_as_user=0, capabilities=client.V1Capabilities(add=["NET_ADMIN"]),
                    se_linux_options=client.V1SELinuxOptions(level="s0:c123"), proc_mount="Default"),
                stdin=True, tty=True, image_pull_policy="Always", volume_devices=[
                    client.V1VolumeDevice(name="block", device_path="/dev/xvda")],
                resize_policy=[client.V1ContainerResizePolicy(resource_name="cpu", restart_policy="NotRequired")],
            )],
            ephemeral_containers=[client.V1EphemeralContainer(name="debug", image="busybox", target_container_name="c")],
            volumes=[
                client.V1Volume(name="block", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
                    claim_name="data", read_only=False)),
                client.V1Volume(name="hp", host_path=client.V1HostPathVolumeSource(path="/var/log", type="Directory")),
                client.V1Volume(name="sec", secret=client.V1SecretVolumeSource(secret_name="s", default_mode=256)),
                client.V1Volume(name="eph", ephemeral=client.V1EphemeralVolumeSource(
                    volume_claim_template=client.V1PersistentVolumeClaimTemplate(spec=client.V1PersistentVolumeClaimSpec(
                        access_modes=["ReadWriteOnce"], storage_class_name="fast",
                        resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"}))))),
                client.V1Volume(name="csi", csi=client.V1CSIVolumeSource(driver="x.csi.io", volume_attributes={"a": "b"})),
            ],
            host_aliases=[client.V1HostAlias(ip="10.0.0.1", hostnames=["db"])],
            dns_policy="None", dns_config=client.V1PodDNSConfig(nameservers=["1.1.1.1"], options=[
                client.V1PodDNSConfigOption(name="ndots", value="2")]),
            readiness_gates=[client.V1PodReadinessGate(condition_type="x.io/ready")],
            runtime_class_name="runc", overhead={"cpu": "10m"}, scheduling_gates=[client.V1PodSchedulingGate(name="g")],
            os=client.V1PodOS(name="linux"), host_users=False, share_process_namespace=True,
            security_context=client.V1PodSecurityContext(sysctls=[client.V1Sysctl(name="net.core.somaxconn", value="1024")],
                                                         supplemental_groups=[5], fs_group_change_policy="OnRootMismatch"),
            restart_policy="OnFailure", active_deadline_seconds=600, preemption_policy="Never", priority=5,
        ),
    )  # fmt: skip


def _client_objects() -> list[Any]:
    selector = client.V1LabelSelector(
        match_labels={"app": "x"},
        match_expressions=[client.V1LabelSelectorRequirement(key="tier", operator="NotIn", values=["db"])],
    )
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={"app": "x", "tier": "web"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="x")]),
    )
    meta = client.V1ObjectMeta(name="o", namespace="default")
    return [
        _client_pod(),
        client.V1StatefulSet(api_version="apps/v1", kind="StatefulSet", metadata=meta, spec=client.V1StatefulSetSpec(
            selector=selector, template=template, service_name="x", pod_management_policy="Parallel",
            volume_claim_templates=[client.V1PersistentVolumeClaim(metadata=client.V1ObjectMeta(name="data"),
                                                                   spec=client.V1PersistentVolumeClaimSpec(
                                                                       access_modes=["ReadWriteOnce"]))],
            ordinals=client.V1StatefulSetOrdinals(start=1))),
        client.V1DaemonSet(api_version="apps/v1", kind="DaemonSet", metadata=meta, spec=client.V1DaemonSetSpec(
            selector=selector, template=template, update_strategy=client.V1DaemonSetUpdateStrategy(
                type="RollingUpdate", rolling_update=client.V1RollingUpdateDaemonSet(max_surge="10%", max_unavailable=0)))),
        client.V1Service(api_version="v1", kind="Service", metadata=meta, spec=client.V1ServiceSpec(
            type="LoadBalancer", selector={"app": "x"}, external_traffic_policy="Local", load_balancer_source_ranges=[
                "10.0.0.0/8"], session_affinity="ClientIP", ports=[client.V1ServicePort(port=443, target_port=8443,
                                                                                          app_protocol="https")])),
        client.V1Namespace(api_version="v1", kind="Namespace", metadata=client.V1ObjectMeta(name="team-a")),
        client.V1Node(api_version="v1", kind="Node", metadata=client.V1ObjectMeta(name="n1"), spec=client.V1NodeSpec(
            pod_cidr="10.244.1.0/24", taints=[client.V1Taint(key="k", value="v", effect="NoSchedule")]),
            status=client.V1NodeStatus(capacity={"cpu": "4", "memory": "8Gi", "pods": "110"}, conditions=[
                client.V1NodeCondition(type="Ready", status="True", last_heartbeat_time=_NOW)],
                addresses=[client.V1NodeAddress(type="InternalIP", address="192.168.1.10")],
                node_info=client.V1NodeSystemInfo(architecture="amd64", boot_id="b", container_runtime_version="c",
                                                  kernel_version="k", kube_proxy_version="", kubelet_version="v1.33.0",
                                                  machine_id="m", operating_system="linux", os_image="o",
                                                  system_uuid="s"))),
        client.V1Lease(api_version="coordination.k8s.io/v1", kind="Lease", metadata=meta, spec=client.V1LeaseSpec(
            holder_identity="n1", lease_duration_seconds=40, renew_time=_NOW)),
        client.V1PriorityClass(api_version="scheduling.k8s.io/v1", kind="PriorityClass",
                               metadata=client.V1ObjectMeta(name="high"), value=1000, description="d"),
        client.V1PodDisruptionBudget(api_version="policy/v1", kind="PodDisruptionBudget", metadata=meta,
                                     spec=client.V1PodDisruptionBudgetSpec(min_available="50%", selector=selector,
                                                                           unhealthy_pod_eviction_policy="AlwaysAllow")),
        client.CoreV1Event(api_version="v1", kind="Event", metadata=meta, involved_object=client.V1ObjectReference(
            kind="Pod", name="p", namespace="default"), reason="Started", message="m", type="Normal", count=1,
            first_timestamp=_NOW, source=client.V1EventSource(component="kubelet")),
        client.V1CronJob(api_version="batch/v1", kind="CronJob", metadata=meta, spec=client.V1CronJobSpec(
            schedule="*/5 * * * *", time_zone="Etc/UTC", job_template=client.V1JobTemplateSpec(spec=client.V1JobSpec(
                template=client.V1PodTemplateSpec(spec=client.V1PodSpec(restart_policy="Never", containers=[
                    client.V1Container(name="c", image="x")])))))),
        client.V1ClusterRole(api_version="rbac.authorization.k8s.io/v1", kind="ClusterRole",
                             metadata=client.V1ObjectMeta(name="r"), rules=[
                client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get", "list"]),
                client.V1PolicyRule(non_resource_urls=["/healthz"], verbs=["get"])]),
        client.V1RoleBinding(api_version="rbac.authorization.k8s.io/v1", kind="RoleBinding", metadata=meta,
                             role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="r"),
                             subjects=[client.RbacV1Subject(kind="ServiceAccount", name="default", namespace="default")]),
    ]  # fmt: skip


@pytest.mark.parametrize("model", _client_objects(), ids=lambda m: type(m).__name__)
def test_objects_from_the_official_client_models_pass_unchanged(model: Any) -> None:
    obj = _serialized(model)
    before = copy.deepcopy(obj)
    assert prepare_create(obj, mode=FieldValidation.STRICT) == []
    assert_subset(before, obj)


def test_kubectl_generated_and_recursive_schemas_round_trip() -> None:
    generated = {  # kubectl create deployment web --image=nginx --dry-run=client -o yaml
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"creationTimestamp": None, "labels": {"app": "web"}, "name": "web", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "strategy": {},
                 "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                              "spec": {"containers": [{"image": "nginx", "name": "nginx", "resources": {}}]}}},
        "status": {},
    }  # fmt: skip
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"spec": {
                         "type": "object", "x-kubernetes-preserve-unknown-fields": True,
                         "properties": {"size": {"type": "integer", "default": 3, "minimum": 1},
                                        "ports": {"type": "array", "items": {"x-kubernetes-int-or-string": True}}}}}}}}]},
    }  # fmt: skip
    for obj in (generated, crd):
        before = copy.deepcopy(obj)
        assert prepare_create(obj, mode=FieldValidation.STRICT) == []
        assert_subset(before, obj)
