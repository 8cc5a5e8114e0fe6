"""The defaults the real API server fills in, so ``kubectl get -o yaml`` looks familiar.

Kubernetes applies defaulting functions (``pkg/apis/*/v1/defaults.go`` plus the
declarative ``+default=`` markers) every time it decodes an object, on create and on
update alike. ``apply_defaults`` is that step. A few further fields are set only when
an object is created, by the resource's registry strategy or allocator rather than by
defaulting (a namespace's ``kubernetes`` finalizer, a service's IP families, a job's
generated selector); ``apply_create_defaults`` does those, because re-applying them on
update would undo a user's later change (a removed finalizer must stay removed). And
``apply_update_defaults`` carries over what the server allocated and a client's PUT
may leave out (a service's cluster IP), as the service registry does.

The rules live beside their kinds: ``defaults_pod`` (pods and pod templates),
``defaults_workloads`` (apps and batch), and here the rest of core/v1 and the small
groups, with the one table that dispatches on apiVersion and kind.

Rules follow Go's notion of "unset": a missing key or JSON null for pointer fields,
and additionally ``""``/``0`` where the Go field is a plain string or integer.
Objects are assumed to have passed ``check_structure``; values of an unexpected type
are left alone rather than overwritten.

Deliberately not done here: admission plugins' work (a pod's ``serviceAccountName``,
``priority``, default tolerations), status resets and IP allocation, which belong to
the API server, and rounding quantities to milli-units, because values must
round-trip unchanged.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from kube.model import defaults_workloads as workloads
from kube.model.defaults_pod import claim_spec_defaults, pod_defaults, pod_template_defaults
from kube.model.fill import Obj, child, dicts, empty, existing, unset


def apply_defaults(obj: Obj) -> None:
    """Fill in, in place, the defaults Kubernetes sets for ``obj``'s kind (if any)."""
    defaulter = _DEFAULTERS.get((obj.get("apiVersion"), obj.get("kind")))
    if defaulter is not None:
        defaulter(obj)


def apply_create_defaults(obj: Obj) -> None:
    """Fill in the fields the API server sets only when an object is first created."""
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key == ("v1", "Namespace"):
        _namespace_on_create(obj)
    elif key == ("v1", "Service"):
        _service_on_create(obj)
    elif key == ("batch/v1", "Job"):
        workloads.generate_job_selector(obj)


def apply_update_defaults(obj: Obj, *, old: Obj) -> None:
    """Carry over, on update, what the server allocated and a client may omit (a
    service's cluster IPs, IP families and node ports), as the service registry does."""
    if (obj.get("apiVersion"), obj.get("kind")) == ("v1", "Service") and old.get("kind") == "Service":
        _service_on_update(obj, old)


# -- core/v1 ---------------------------------------------------------------------------


def _service(obj: Obj) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    empty(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = existing(spec, "sessionAffinityConfig")
        client_ip = existing(config, "clientIP") if config is not None else None
        if client_ip is None or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    empty(spec, "type", "ClusterIP")
    kind = spec["type"]
    for port in dicts(spec.get("ports")):
        empty(port, "protocol", "TCP")
        target = port.get("targetPort")
        if target is None or target == 0 or target == "":
            if port.get("port") is not None:
                port["targetPort"] = port["port"]
    externally_accessible = kind in ("LoadBalancer", "NodePort") or (
        kind == "ClusterIP" and bool(spec.get("externalIPs"))
    )
    if externally_accessible:
        empty(spec, "externalTrafficPolicy", "Cluster")
    if kind in ("NodePort", "LoadBalancer", "ClusterIP"):
        unset(spec, "internalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        unset(spec, "allocateLoadBalancerNodePorts", True)
        status = existing(obj, "status")
        balancer = existing(status, "loadBalancer") if status is not None else None
        for ingress in dicts(balancer.get("ingress") if balancer is not None else None):
            if ingress.get("ip"):
                unset(ingress, "ipMode", "VIP")


def _service_on_create(obj: Obj) -> None:
    """What the service IP allocator records on a single-stack IPv4 cluster (the
    addresses themselves are allocated by the API server)."""
    spec = existing(obj, "spec")
    if spec is None or spec.get("type") == "ExternalName":
        return
    cluster_ip = spec.get("clusterIP")
    if isinstance(cluster_ip, str) and cluster_ip and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [cluster_ip]
    headless_without_selector = cluster_ip == "None" and not spec.get("selector")
    unset(spec, "ipFamilyPolicy", "RequireDualStack" if headless_without_selector else "SingleStack")
    if not spec.get("ipFamilies"):
        spec["ipFamilies"] = ["IPv4"]


def _service_on_update(obj: Obj, old: Obj) -> None:
    spec, old_spec = existing(obj, "spec"), existing(old, "spec")
    if spec is None or old_spec is None or "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort"):
        if not spec.get(key) and old_spec.get(key):
            spec[key] = old_spec[key]
    if spec.get("type") not in ("NodePort", "LoadBalancer"):
        return
    old_ports = {p.get("name"): p.get("nodePort") for p in dicts(old_spec.get("ports"))}
    used = {p.get("nodePort") for p in dicts(spec.get("ports")) if p.get("nodePort")}
    for port in dicts(spec.get("ports")):
        previous = old_ports.get(port.get("name"))
        if not port.get("nodePort") and previous and previous not in used:
            port["nodePort"] = previous


def _namespace(obj: Obj) -> None:
    meta = child(obj, "metadata")
    name = meta.get("name") if meta is not None else None
    if meta is not None and isinstance(name, str) and name:
        labels = child(meta, "labels")
        if labels is not None:
            labels["kubernetes.io/metadata.name"] = name
    status = child(obj, "status")
    if status is not None:
        empty(status, "phase", "Active")


def _namespace_on_create(obj: Obj) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    finalizers = spec.get("finalizers")
    if not isinstance(finalizers, list):
        spec["finalizers"] = ["kubernetes"]
    elif "kubernetes" not in finalizers:
        finalizers.append("kubernetes")
    status = child(obj, "status")
    if status is not None:
        status["phase"] = "Active"


def _secret(obj: Obj) -> None:
    empty(obj, "type", "Opaque")
    # Conversion, not defaulting, in Kubernetes: the write-only stringData is merged
    # into data (its values win) and is never stored or returned.
    if "stringData" in obj:
        string_data = obj.pop("stringData")
        if isinstance(string_data, dict) and string_data:
            data = child(obj, "data")
            if data is not None:
                for key, value in string_data.items():
                    if isinstance(value, str):
                        data[key] = base64.b64encode(value.encode()).decode()


def _node(obj: Obj) -> None:
    status = existing(obj, "status")
    if status is not None and status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])


def _endpoints(obj: Obj) -> None:
    for subset in dicts(obj.get("subsets")):
        for port in dicts(subset.get("ports")):
            empty(port, "protocol", "TCP")


def _persistent_volume_claim(obj: Obj) -> None:
    status = child(obj, "status")
    if status is not None:
        empty(status, "phase", "Pending")
    claim_spec_defaults(child(obj, "spec"))


def _persistent_volume(obj: Obj) -> None:
    status = child(obj, "status")
    if status is not None:
        empty(status, "phase", "Pending")
    spec = child(obj, "spec")
    if spec is None:
        return
    empty(spec, "persistentVolumeReclaimPolicy", "Retain")
    unset(spec, "volumeMode", "Filesystem")
    host_path = existing(spec, "hostPath")
    if host_path is not None:
        unset(host_path, "type", "")


def _limit_range(obj: Obj) -> None:
    spec = existing(obj, "spec")
    for item in dicts(spec.get("limits") if spec is not None else None):
        if item.get("type") != "Container":
            continue
        default = child(item, "default")
        request = child(item, "defaultRequest")
        if default is None or request is None:
            continue
        for source, target in ((item.get("max"), default), (default, request), (item.get("min"), request)):
            if isinstance(source, dict):
                for name, quantity in source.items():
                    target.setdefault(name, quantity)


# -- other groups ----------------------------------------------------------------------


def _priority_class(obj: Obj) -> None:
    unset(obj, "preemptionPolicy", "PreemptLowerPriority")


def _role_binding(obj: Obj) -> None:
    role_ref = existing(obj, "roleRef")
    if role_ref is not None:
        empty(role_ref, "apiGroup", "rbac.authorization.k8s.io")
    for subject in dicts(obj.get("subjects")):
        if not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = "rbac.authorization.k8s.io"


_DEFAULTERS: dict[tuple[Any, Any], Callable[[Obj], None]] = {
    ("v1", "Pod"): pod_defaults,
    ("v1", "PodTemplate"): pod_template_defaults,
    ("v1", "ReplicationController"): workloads.replication_controller_defaults,
    ("v1", "Service"): _service,
    ("v1", "Namespace"): _namespace,
    ("v1", "Secret"): _secret,
    ("v1", "Node"): _node,
    ("v1", "Endpoints"): _endpoints,
    ("v1", "PersistentVolume"): _persistent_volume,
    ("v1", "PersistentVolumeClaim"): _persistent_volume_claim,
    ("v1", "LimitRange"): _limit_range,
    ("apps/v1", "Deployment"): workloads.deployment_defaults,
    ("apps/v1", "ReplicaSet"): workloads.replica_set_defaults,
    ("apps/v1", "DaemonSet"): workloads.daemon_set_defaults,
    ("apps/v1", "StatefulSet"): workloads.stateful_set_defaults,
    ("batch/v1", "Job"): workloads.job_defaults,
    ("batch/v1", "CronJob"): workloads.cron_job_defaults,
    ("scheduling.k8s.io/v1", "PriorityClass"): _priority_class,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): _role_binding,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): _role_binding,
}
