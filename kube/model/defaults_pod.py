"""Defaults of pods and of the pod templates inside workloads.

Most come from ``SetDefaults_PodSpec`` and friends and so apply to templates too
(dnsPolicy, restartPolicy, a container's pull policy, probe timings, volume modes).
A few are pod-only (``SetDefaults_Pod``): requests copied from limits, service links
enabled, host ports for host-network pods. Kubernetes keeps those out of templates so
that adding a new default never changes the template of an existing Deployment and
triggers a rollout.
"""

from __future__ import annotations

import re
from typing import Any

from kube.model.fill import Obj, child, dicts, empty, existing, unset

_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_DOMAIN = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
)
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)


def image_tag(image: str) -> str:
    """The tag the kubelet would pull: ``latest`` when neither tag nor digest is given,
    "" for a digest-only or unparsable reference."""
    match = _REFERENCE.match(image)
    if match is None or len(match["name"]) > 255:
        return ""
    if match["tag"]:
        return match["tag"]
    return "" if match["digest"] else "latest"


def _http_get(action: Obj | None) -> None:
    if action is not None:
        empty(action, "path", "/")
        empty(action, "scheme", "HTTP")


def _probe(probe: Obj) -> None:
    empty(probe, "timeoutSeconds", 1)
    empty(probe, "periodSeconds", 10)
    empty(probe, "successThreshold", 1)
    empty(probe, "failureThreshold", 3)
    _http_get(existing(probe, "httpGet"))
    grpc = existing(probe, "grpc")
    if grpc is not None:
        unset(grpc, "service", "")


def _container(container: Obj) -> None:
    if not container.get("imagePullPolicy"):
        image = container.get("image")
        tag = image_tag(image) if isinstance(image, str) else ""
        container["imagePullPolicy"] = "Always" if tag == "latest" else "IfNotPresent"
    empty(container, "terminationMessagePath", "/dev/termination-log")
    empty(container, "terminationMessagePolicy", "File")
    for port in dicts(container.get("ports")):
        empty(port, "protocol", "TCP")
    for env in dicts(container.get("env")):
        source = existing(env, "valueFrom")
        field_ref = existing(source, "fieldRef") if source is not None else None
        if field_ref is not None:
            empty(field_ref, "apiVersion", "v1")
    unset(container, "resources", {})
    for name in _PROBES:
        probe = existing(container, name)
        if probe is not None:
            _probe(probe)
    lifecycle = existing(container, "lifecycle")
    if lifecycle is not None:
        for hook in ("postStart", "preStop"):
            handler = existing(lifecycle, hook)
            if handler is not None:
                _http_get(existing(handler, "httpGet"))


def _downward_items(source: Obj) -> None:
    for item in dicts(source.get("items")):
        field_ref = existing(item, "fieldRef")
        if field_ref is not None:
            empty(field_ref, "apiVersion", "v1")


def claim_spec_defaults(spec: Obj | None) -> None:
    """A PersistentVolumeClaimSpec: file-system volumes unless asked otherwise."""
    if spec is not None:
        unset(spec, "volumeMode", "Filesystem")


# Declarative defaults of the in-tree volume plugins (``+default=`` in core/v1 types).
_PLUGIN_DEFAULTS: dict[str, tuple[tuple[str, Any, bool], ...]] = {
    # source: (field, value, pointer field?)
    "iscsi": (("iscsiInterface", "default", False),),
    "rbd": (("pool", "rbd", False), ("user", "admin", False), ("keyring", "/etc/ceph/keyring", False)),
    "azureDisk": (
        ("cachingMode", "ReadWrite", True),
        ("fsType", "ext4", True),
        ("readOnly", False, True),
        ("kind", "Shared", True),
    ),
    "scaleIO": (("storageMode", "ThinProvisioned", False), ("fsType", "xfs", False)),
}
_VOLUME_SOURCES = frozenset(
    {
        "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs",
        "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
        "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
        "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral",
        "image",
    }
)  # fmt: skip


def _volume(volume: Obj) -> None:
    if not any(volume[key] is not None for key in volume if key in _VOLUME_SOURCES):
        volume["emptyDir"] = {}
    host_path = existing(volume, "hostPath")
    if host_path is not None:
        unset(host_path, "type", "")
    for name in ("secret", "configMap", "downwardAPI", "projected"):
        source = existing(volume, name)
        if source is not None:
            unset(source, "defaultMode", 420)  # 0644
    downward = existing(volume, "downwardAPI")
    if downward is not None:
        _downward_items(downward)
    projected = existing(volume, "projected")
    if projected is not None:
        for source in dicts(projected.get("sources")):
            inner = existing(source, "downwardAPI")
            if inner is not None:
                _downward_items(inner)
            token = existing(source, "serviceAccountToken")
            if token is not None:
                unset(token, "expirationSeconds", 3600)
    for plugin, rules in _PLUGIN_DEFAULTS.items():
        source = existing(volume, plugin)
        if source is not None:
            for key, value, pointer in rules:
                (unset if pointer else empty)(source, key, value)
    ephemeral = existing(volume, "ephemeral")
    template = existing(ephemeral, "volumeClaimTemplate") if ephemeral is not None else None
    if template is not None:
        claim_spec_defaults(existing(template, "spec"))


def pod_spec_defaults(spec: Obj) -> None:
    """Defaults of every PodSpec, whether in a pod or in a workload's pod template."""
    empty(spec, "dnsPolicy", "ClusterFirst")
    empty(spec, "restartPolicy", "Always")
    unset(spec, "securityContext", {})
    unset(spec, "terminationGracePeriodSeconds", 30)
    empty(spec, "schedulerName", "default-scheduler")
    for volume in dicts(spec.get("volumes")):
        _volume(volume)
    for key in _CONTAINER_LISTS:
        for container in dicts(spec.get(key)):
            _container(container)


def pod_defaults(obj: Obj) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    # Pod-only defaults (not templates): Kubernetes keeps them out of PodSpec defaulting
    # so that adding one never changes the templates of existing workloads.
    for key in ("containers", "initContainers"):
        for container in dicts(spec.get(key)):
            resources = existing(container, "resources")
            limits = existing(resources, "limits") if resources is not None else None
            if resources is not None and limits is not None:
                requests = child(resources, "requests")
                if requests is not None:
                    for name, quantity in limits.items():
                        requests.setdefault(name, quantity)
    unset(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for key in ("containers", "initContainers"):
            for container in dicts(spec.get(key)):
                for port in dicts(container.get("ports")):
                    if not port.get("hostPort") and port.get("containerPort") is not None:
                        port["hostPort"] = port["containerPort"]
    pod_spec_defaults(spec)


def template_defaults(spec: Obj | None, key: str = "template") -> None:
    """PodSpec defaults for ``spec[key]``, a pod template, when it has a spec."""
    template = existing(spec, key) if spec is not None else None
    pod_spec = existing(template, "spec") if template is not None else None
    if pod_spec is not None:
        pod_spec_defaults(pod_spec)


def pod_template_defaults(obj: Obj) -> None:
    template_defaults(obj)
