"""Semantic rules of a PodSpec, shared by pods and every workload's pod template.

These are the checks of Kubernetes' ``ValidatePodSpec`` that people actually meet:
container and volume names, ports, probes, resources, mounts, policies, tolerations,
affinity and topology spread (the last three in ``validate_scheduling``). A missing
required field (``containers[0].name``) is reported by the schema-driven required
check; the rules here report what Go reports beyond that, such as an empty name.
"""

from __future__ import annotations

import re
from typing import Any

from kube.errors import FieldError, duplicate, forbidden, invalid, not_supported, required
from kube.labels import validate_annotations, validate_labels
from kube.model.checks import (
    INT32_MAX,
    ContentMemo,
    Obj,
    dicts,
    dns1123_label,
    dns1123_subdomain,
    in_range,
    missing_reference,
    name_errors,
    non_negative,
    obj,
    port_name_problems,
    port_num_or_name,
    port_number,
    relative_path,
    supported,
    text,
)
from kube.model.validate_resources import validate_container_resources
from kube.model.validate_scheduling import validate_affinity, validate_tolerations, validate_topology_spread
from kube.model.validate_volumes import validate_volumes

_PROTOCOLS = ("SCTP", "TCP", "UDP")
_ENV_NAME = re.compile(r"[\x20-\x3c\x3e-\x7e]*\Z")  # printable ASCII but "="
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_ENV_FIELD_PATHS = (
    "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
    "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
)  # fmt: skip
# Field labels the downward API can convert at all; others fail before the list check.
_DOWNWARD_LABELS = frozenset(
    {*_ENV_FIELD_PATHS, "metadata.annotations", "metadata.labels", "spec.restartPolicy", "spec.schedulerName",
     "status.phase"}
)  # fmt: skip


_SPECS = ContentMemo(size=512)
# PodSpec fields that differ between pods of one template (the node each is bound to,
# a StatefulSet pod's hostname) and that no rule but their own name check reads.
_PER_COPY = {"nodeName": dns1123_subdomain, "hostname": dns1123_label}


def validate_pod_spec(spec: Obj, path: str, *, pod: bool) -> list[FieldError]:
    """Every PodSpec rule; ``pod`` adds the ones Kubernetes applies to pods only
    (an image is required; templates may leave it for tools to fill in).

    The answer depends on nothing but the spec, so it is remembered: the pods a
    ReplicaSet creates share one spec and are checked once. Fields that differ from
    copy to copy (``_PER_COPY``: read by nothing but their own name rule) are left
    out of the key and checked on their own; only when neither part has a problem is
    the answer assembled that way (otherwise the full walk keeps the errors' order)."""
    own = [(name, spec[name]) for name in _PER_COPY if spec.get(name)]
    shared = {k: v for k, v in spec.items() if k not in _PER_COPY} if own else spec
    key = _SPECS.key(shared, path, pod)
    known: tuple[FieldError, ...] | None = _SPECS.get(key)
    if known is None:
        known = tuple(_pod_spec(shared, path, pod=pod))
        _SPECS.put(key, known)
    if not own:
        return list(known)
    if not known and not any(name_errors(value, f"{path}.{name}", _PER_COPY[name]) for name, value in own):
        return []
    return _pod_spec(spec, path, pod=pod)


def _pod_spec(spec: Obj, path: str, *, pod: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    volumes = spec.get("volumes")
    volume_names = {text(v.get("name")) for _, v in dicts(volumes)}
    if volumes:
        errors += validate_volumes(volumes, f"{path}.volumes")
    seen: set[str] = set()
    containers = spec.get("containers")
    if containers == []:
        errors.append(required(f"{path}.containers"))
    errors += _containers(containers, f"{path}.containers", seen, volume_names, pod=pod, init=False)
    if spec.get("initContainers"):
        errors += _containers(
            spec["initContainers"], f"{path}.initContainers", seen, volume_names, pod=pod, init=True
        )
    errors += supported(spec.get("restartPolicy"), f"{path}.restartPolicy", _RESTART_POLICIES)
    errors += _dns(spec, path)
    errors += in_range(spec.get("activeDeadlineSeconds"), f"{path}.activeDeadlineSeconds", 1, INT32_MAX)
    node_selector = spec.get("nodeSelector")
    if isinstance(node_selector, dict):
        errors += validate_labels(node_selector, f"{path}.nodeSelector")
    for key, check in (
        ("serviceAccountName", dns1123_subdomain),
        ("nodeName", dns1123_subdomain),
        ("priorityClassName", dns1123_subdomain),
        ("hostname", dns1123_label),
        ("subdomain", dns1123_label),
    ):
        value = spec.get(key)
        if value:
            errors += name_errors(value, f"{path}.{key}", check)
    # Optional sections are only visited when present: most pods use few of them.
    if spec.get("securityContext"):
        errors += _security_context(spec["securityContext"], f"{path}.securityContext")
    if spec.get("tolerations"):
        errors += validate_tolerations(spec["tolerations"], f"{path}.tolerations")
    if spec.get("affinity"):
        errors += validate_affinity(spec["affinity"], f"{path}.affinity")
    if spec.get("topologySpreadConstraints"):
        errors += validate_topology_spread(
            spec["topologySpreadConstraints"], f"{path}.topologySpreadConstraints"
        )
    return errors


def _containers(
    value: Any, path: str, seen: set[str], volumes: set[str], *, pod: bool, init: bool
) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, container in dicts(value):
        at = f"{path}[{index}]"
        name = container.get("name")
        errors += name_errors(name, f"{at}.name")
        if isinstance(name, str) and name:
            if name in seen:
                errors.append(duplicate(f"{at}.name", name))
            seen.add(name)
        image = container.get("image")
        if pod and not image:
            errors.append(required(f"{at}.image"))
        elif pod and isinstance(image, str) and image != image.strip():
            errors.append(invalid(f"{at}.image", image, "must not have leading or trailing whitespace"))
        if container.get("ports"):
            errors += _ports(container["ports"], f"{at}.ports")
        if container.get("env"):
            errors += _env(container["env"], f"{at}.env")
        if container.get("envFrom"):
            errors += _env_from(container["envFrom"], f"{at}.envFrom")
        if container.get("volumeMounts"):
            errors += _mounts(container["volumeMounts"], f"{at}.volumeMounts", volumes)
        if container.get("resources"):
            errors += validate_container_resources(container["resources"], f"{at}.resources")
        errors += supported(container.get("imagePullPolicy"), f"{at}.imagePullPolicy", _PULL_POLICIES)
        errors += supported(
            container.get("terminationMessagePolicy"),
            f"{at}.terminationMessagePolicy",
            ("File", "FallbackToLogsOnError"),
        )
        if container.get("restartPolicy") is not None:
            errors += _container_restart_policy(container, at, init=init)
        sidecar = init and container.get("restartPolicy") == "Always"
        for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
            probe = container.get(probe_name)
            if not isinstance(probe, dict):
                continue
            if init and not sidecar:
                errors.append(
                    forbidden(
                        f"{at}.{probe_name}",
                        "may not be set for init containers without restartPolicy=Always",
                    )
                )
                continue
            errors += _probe(probe, f"{at}.{probe_name}", single_success=probe_name != "readinessProbe")
        if container.get("securityContext"):
            errors += _security_context(container["securityContext"], f"{at}.securityContext")
    return errors


def _container_restart_policy(container: Obj, at: str, *, init: bool) -> list[FieldError]:
    policy = container.get("restartPolicy")
    if policy is None:
        return []
    if not init:
        return [forbidden(f"{at}.restartPolicy", "may not be set for non-init containers")]
    return supported(policy, f"{at}.restartPolicy", ("Always",))


def _ports(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, port in dicts(value):
        at = f"{path}[{index}]"
        name = port.get("name")
        if isinstance(name, str) and name:
            problems = port_name_problems(name)
            if problems:
                errors += [invalid(f"{at}.name", name, msg) for msg in problems]
            elif name in seen:
                errors.append(duplicate(f"{at}.name", name))
            seen.add(name)
        container_port = port.get("containerPort")
        if container_port == 0:
            errors.append(required(f"{at}.containerPort"))
        else:
            errors += port_number(container_port, f"{at}.containerPort")
        if port.get("hostPort"):
            errors += port_number(port["hostPort"], f"{at}.hostPort")
        errors += supported(port.get("protocol"), f"{at}.protocol", _PROTOCOLS)
    return errors


def _env(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, env in dicts(value):
        at = f"{path}[{index}]"
        name = env.get("name")
        if name == "":
            errors.append(required(f"{at}.name"))
        elif isinstance(name, str) and not _ENV_NAME.match(name):
            errors.append(
                invalid(
                    f"{at}.name",
                    name,
                    "a valid environment variable name must consist only of "
                    "printable ASCII characters other than '='",
                )
            )
        source = env.get("valueFrom")
        if isinstance(source, dict):
            errors += _env_source(source, f"{at}.valueFrom", has_value=bool(env.get("value")))
    return errors


def _env_source(source: Obj, path: str, *, has_value: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    kinds = [
        k
        for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
        if source.get(k) is not None
    ]
    field_path = obj(source.get("fieldRef")).get("fieldPath")
    if isinstance(field_path, str) and field_path:
        errors += _env_field_path(field_path, f"{path}.fieldRef.fieldPath")
    for key in ("configMapKeyRef", "secretKeyRef"):
        ref = obj(source.get(key))
        key_name = ref.get("key")
        if key_name == "":
            errors.append(required(f"{path}.{key}.key"))
    if not kinds:
        errors.append(
            invalid(
                path,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            )
        )
    elif has_value:
        errors.append(invalid(path, "", "may not be specified when `value` is not empty"))
    elif len(kinds) > 1:
        errors.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errors


def _env_field_path(field_path: str, path: str) -> list[FieldError]:
    base, bracket, _ = field_path.partition("[")
    if bracket and base in ("metadata.labels", "metadata.annotations") and field_path.endswith("']"):
        return []
    if field_path not in _DOWNWARD_LABELS:
        return [
            invalid(path, field_path, f"error converting fieldPath: field label not supported: {field_path}")
        ]
    if field_path not in _ENV_FIELD_PATHS:
        return [not_supported(path, field_path, list(_ENV_FIELD_PATHS))]
    return []


def _env_from(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, source in dicts(value):
        at = f"{path}[{index}]"
        present = [k for k in ("configMapRef", "secretRef") if source.get(k) is not None]
        if not present:
            errors.append(invalid(at, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif len(present) > 1:
            errors.append(invalid(at, "", "may not have more than one field specified at a time"))
        for key in present:
            ref_name = obj(source[key]).get("name")
            if ref_name == "":
                errors.append(required(f"{at}.{key}.name"))
    return errors


def _mounts(value: Any, path: str, volumes: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    mount_points: set[str] = set()
    for index, mount in dicts(value):
        at = f"{path}[{index}]"
        name = mount.get("name")
        if isinstance(name, str):
            if not name:
                errors.append(required(f"{at}.name"))
            if name not in volumes:
                errors.append(missing_reference(f"{at}.name", name))
        mount_path = mount.get("mountPath")
        if isinstance(mount_path, str):
            if not mount_path:
                errors.append(required(f"{at}.mountPath"))
            elif mount_path in mount_points:
                errors.append(invalid(f"{at}.mountPath", mount_path, "must be unique"))
            mount_points.add(mount_path)
        errors += relative_path(mount.get("subPath"), f"{at}.subPath")
    return errors


def _probe(probe: Obj, path: str, *, single_success: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    handlers = [h for h in _HANDLERS if probe.get(h) is not None]
    if not handlers:
        errors.append(required(path, "must specify a handler type"))
    for extra in handlers[1:]:
        errors.append(forbidden(f"{path}.{extra}", "may not specify more than 1 handler type"))
    http = obj(probe.get("httpGet"))
    if http:
        errors += port_num_or_name(http.get("port"), f"{path}.httpGet.port")
        errors += supported(http.get("scheme"), f"{path}.httpGet.scheme", ("HTTP", "HTTPS"))
    tcp = obj(probe.get("tcpSocket"))
    if tcp:
        errors += port_num_or_name(tcp.get("port"), f"{path}.tcpSocket.port")
    grpc = obj(probe.get("grpc"))
    if grpc:
        errors += port_number(grpc.get("port"), f"{path}.grpc.port")
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        value = probe.get(key)
        if type(value) is int and value < 0:
            errors += non_negative(value, f"{path}.{key}")
    success = probe.get("successThreshold")
    if single_success and isinstance(success, int) and success != 1:
        errors.append(invalid(f"{path}.successThreshold", success, "must be 1"))
    grace = probe.get("terminationGracePeriodSeconds")
    if isinstance(grace, int):
        if not single_success:
            errors.append(
                invalid(f"{path}.terminationGracePeriodSeconds", grace, "must not be set for readinessProbes")
            )
        elif grace <= 0:
            errors.append(invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than 0"))
    return errors


def _dns(spec: Obj, path: str) -> list[FieldError]:
    policy = spec.get("dnsPolicy")
    errors = supported(policy, f"{path}.dnsPolicy", _DNS_POLICIES)
    if policy == "None" and spec.get("dnsConfig") is None:
        errors.append(required(f"{path}.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None"))
    return errors


def _security_context(context: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        errors += non_negative(context.get(key), f"{path}.{key}")
    if context.get("privileged") is True and context.get("allowPrivilegeEscalation") is False:
        errors.append(
            invalid(path, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true")
        )
    return errors


def validate_pod_template(template: Obj, path: str) -> list[FieldError]:
    """``ValidatePodTemplateSpec``: the template's labels and annotations, then its spec
    (an image may be left empty in templates)."""
    meta = obj(template.get("metadata"))
    errors = validate_labels(meta.get("labels"), f"{path}.metadata.labels")
    errors += validate_annotations(meta.get("annotations"), f"{path}.metadata.annotations")
    spec = template.get("spec")
    if isinstance(spec, dict):
        errors += validate_pod_spec(spec, f"{path}.spec", pod=False)
    return errors
