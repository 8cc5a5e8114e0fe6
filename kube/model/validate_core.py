"""Semantic rules of the core/v1 kinds other than pods: services, config maps,
secrets, namespaces, nodes and events — create rules and update rules side by side,
each a function of the whole object, as ``pkg/apis/core/validation`` has them."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any

import orjson

from kube import names
from kube.errors import FieldError, FieldErrorType, duplicate, forbidden, invalid, required, too_long
from kube.labels import validate_labels
from kube.model.checks import (
    Obj,
    config_key_problems,
    dicts,
    go_quote,
    immutable,
    label_name,
    name_errors,
    obj,
    port_num_or_name,
    port_number,
    supported,
    text,
)

MAX_DATA_SIZE = 1024 * 1024
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_IP_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
_KUBELET_PORT = 10250


# -- services ----------------------------------------------------------------------------


def validate_service(service: Obj) -> list[FieldError]:
    spec = obj(service.get("spec"))
    errors: list[FieldError] = []
    kind = spec.get("type")
    cluster_ip = spec.get("clusterIP")
    headless = cluster_ip == "None"
    ports = spec.get("ports")
    if not ports and not headless and kind != "ExternalName":
        errors.append(required("spec.ports"))
    if kind in ("LoadBalancer", "NodePort") and headless:
        errors.append(invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services"))
    if kind == "LoadBalancer":
        for index, port in dicts(ports):
            if port.get("port") == _KUBELET_PORT:
                errors.append(
                    invalid(
                        f"spec.ports[{index}]",
                        _KUBELET_PORT,
                        f"may not expose port {_KUBELET_PORT} externally since it is used by kubelet",
                    )
                )
    if kind == "ExternalName":
        errors += _external_name(spec)
    errors += _service_ports(ports, headless=headless, cluster_ip_type=kind == "ClusterIP")
    selector = spec.get("selector")
    if isinstance(selector, dict):
        errors += validate_labels(selector, "spec.selector")
    errors += supported(spec.get("sessionAffinity"), "spec.sessionAffinity", ("ClientIP", "None"))
    timeout = obj(obj(spec.get("sessionAffinityConfig")).get("clientIP")).get("timeoutSeconds")
    if isinstance(timeout, int) and not 0 < timeout <= 86400:
        errors.append(
            invalid(
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                timeout,
                "must be greater than 0 and less than 86400",
            )
        )
    if isinstance(cluster_ip, str) and cluster_ip not in ("", "None") and not _is_ip(cluster_ip):
        errors.append(invalid("spec.clusterIP", cluster_ip, _IP_MESSAGE))
    for index, address in enumerate(spec.get("externalIPs") or []):
        if isinstance(address, str) and not _is_ip(address):
            errors.append(invalid(f"spec.externalIPs[{index}]", address, _IP_MESSAGE))
    errors += supported(kind, "spec.type", _SERVICE_TYPES)
    errors += _traffic_policies(spec, kind)
    errors += supported(
        spec.get("ipFamilyPolicy"),
        "spec.ipFamilyPolicy",
        ("SingleStack", "PreferDualStack", "RequireDualStack"),
    )
    families = spec.get("ipFamilies") or []
    for index, family in enumerate(families):
        errors += supported(family, f"spec.ipFamilies[{index}]", ("IPv4", "IPv6"))
        if family in families[:index]:
            errors.append(duplicate(f"spec.ipFamilies[{index}]", family))
    return errors


def _external_name(spec: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    if spec.get("clusterIPs"):
        errors.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
    if spec.get("ipFamilies"):
        errors.append(forbidden("spec.ipFamilies", "may not be set for ExternalName services"))
    if spec.get("ipFamilyPolicy") is not None:
        errors.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
    cname = text(spec.get("externalName")).removesuffix(".")
    if cname:
        errors += [invalid("spec.externalName", cname, msg) for msg in names.is_dns1123_subdomain(cname)]
    else:
        errors.append(required("spec.externalName"))
    return errors


def _service_ports(ports: Any, *, headless: bool, cluster_ip_type: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    named = isinstance(ports, list) and len(ports) > 1
    seen_names: set[str] = set()
    seen_ports: set[tuple[str, Any]] = set()
    for index, port in dicts(ports):
        at = f"spec.ports[{index}]"
        name = port.get("name")
        if named and not name:
            errors.append(required(f"{at}.name"))
        elif isinstance(name, str) and name:
            errors += name_errors(name, f"{at}.name")
            if name in seen_names:
                errors.append(duplicate(f"{at}.name", name))
            seen_names.add(name)
        errors += port_number(port.get("port"), f"{at}.port")
        errors += supported(port.get("protocol"), f"{at}.protocol", _PROTOCOLS)
        errors += port_num_or_name(port.get("targetPort"), f"{at}.targetPort")
        if cluster_ip_type and port.get("nodePort"):
            errors.append(forbidden(f"{at}.nodePort", "may not be used when `type` is 'ClusterIP'"))
        key = (text(port.get("protocol")), port.get("port"))
        if key in seen_ports:
            shown = (
                f'core.ServicePort{{Name:"", Protocol:{go_quote(key[0])}, AppProtocol:(*string)(nil), Port:{key[1]}, '
                'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'
            )
            errors.append(FieldError(type=FieldErrorType.DUPLICATE, field=at, detail=shown))
        seen_ports.add(key)
    return errors


def _traffic_policies(spec: Obj, kind: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    external = spec.get("externalTrafficPolicy")
    accessible = kind in ("LoadBalancer", "NodePort") or (
        kind == "ClusterIP" and bool(spec.get("externalIPs"))
    )
    if external and not accessible:
        errors.append(
            invalid(
                "spec.externalTrafficPolicy", external, "may only be set for externally-accessible services"
            )
        )
    elif accessible:
        errors += supported(external, "spec.externalTrafficPolicy", ("Cluster", "Local"))
    errors += supported(spec.get("internalTrafficPolicy"), "spec.internalTrafficPolicy", ("Cluster", "Local"))
    return errors


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def validate_service_update(new: Obj, old: Obj) -> list[FieldError]:
    new_spec, old_spec = obj(new.get("spec")), obj(old.get("spec"))
    if "ExternalName" in (new_spec.get("type"), old_spec.get("type")):
        return []  # a service becoming or leaving ExternalName gets or drops its IPs
    errors: list[FieldError] = []
    old_ip = old_spec.get("clusterIP")
    if old_ip and new_spec.get("clusterIP") != old_ip:
        errors.append(immutable("spec.clusterIP", new_spec.get("clusterIP") or ""))
    new_ips = new_spec.get("clusterIPs") or []
    for index, address in enumerate(old_spec.get("clusterIPs") or []):
        if index < len(new_ips) and new_ips[index] != address:
            errors.append(invalid(f"spec.clusterIPs[{index}]", new_ips, "may not change once set"))
    return errors


# -- config maps and secrets -----------------------------------------------------------------


def _keys(data: Any, path: str) -> list[FieldError]:
    return [invalid(f"{path}[{key}]", key, msg) for key in obj(data) for msg in config_key_problems(key)]


def _decoded_size(value: Any) -> int:
    if not isinstance(value, str):
        return 0
    try:
        return len(base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True))
    except (binascii.Error, ValueError):
        return 0


def validate_config_map(config_map: Obj) -> list[FieldError]:
    data, binary = obj(config_map.get("data")), obj(config_map.get("binaryData"))
    errors = _keys(data, "data")
    errors += [
        invalid(f"data[{key}]", key, "duplicate of key present in binaryData")
        for key in data
        if key in binary
    ]
    errors += _keys(binary, "binaryData")
    errors += [
        invalid(f"binaryData[{key}]", key, "duplicate of key present in data")
        for key in binary
        if key in data
    ]
    size = sum(len(v.encode()) for v in data.values() if isinstance(v, str))
    size += sum(_decoded_size(v) for v in binary.values())
    if size > MAX_DATA_SIZE:
        errors.append(too_long("", MAX_DATA_SIZE))
    return errors


def validate_secret(secret: Obj) -> list[FieldError]:
    data = obj(secret.get("data"))
    errors = _keys(data, "data")
    if sum(_decoded_size(v) for v in data.values()) > MAX_DATA_SIZE:
        errors.append(too_long("data", MAX_DATA_SIZE))
    kind = secret.get("type")
    if kind == "kubernetes.io/service-account-token":
        annotations = obj(obj(secret.get("metadata")).get("annotations"))
        if not annotations.get("kubernetes.io/service-account.name"):
            errors.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if kind == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            errors.append(required(f"data[{key}]"))
        elif not _is_json_object(data[key]):
            errors.append(invalid(f"data[{key}]", "<secret contents redacted>", "invalid character in JSON"))
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errors += [required("data[username]"), required("data[password]")]
    elif kind == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            errors.append(required("data[ssh-privatekey]"))
    elif kind == "kubernetes.io/tls":
        errors += [required(f"data[{key}]") for key in ("tls.crt", "tls.key") if key not in data]
    return errors


def _is_json_object(encoded: Any) -> bool:
    try:
        return isinstance(orjson.loads(base64.b64decode(text(encoded))), dict)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return False


def _immutable_data(new: Obj, old: Obj, keys: tuple[str, ...]) -> list[FieldError]:
    if old.get("immutable") is not True:
        return []
    errors: list[FieldError] = []
    if new.get("immutable") is not True:
        errors.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    for key in keys:
        if (new.get(key) or {}) != (old.get(key) or {}):
            errors.append(forbidden(key, "field is immutable when `immutable` is set"))
    return errors


def validate_config_map_update(new: Obj, old: Obj) -> list[FieldError]:
    return _immutable_data(new, old, ("data", "binaryData"))


def validate_secret_update(new: Obj, old: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    if new.get("type") != old.get("type"):
        errors.append(immutable("type", new.get("type") or ""))
    return errors + _immutable_data(new, old, ("data",))


# -- namespaces, nodes, events ---------------------------------------------------------------


def validate_namespace(namespace: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, finalizer in enumerate(obj(namespace.get("spec")).get("finalizers") or []):
        at = f"spec.finalizers[{index}]"
        if not isinstance(finalizer, str):
            continue
        errors += [invalid(at, finalizer, msg) for msg in names.is_qualified_name(finalizer)]
        if "/" not in finalizer and finalizer != "kubernetes":
            errors.append(
                invalid(at, finalizer, "name is neither a standard finalizer name nor is it fully qualified")
            )
    return errors


def validate_node(node: Obj) -> list[FieldError]:
    spec = obj(node.get("spec"))
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for index, taint in dicts(spec.get("taints")):
        at = f"spec.taints[{index}]"
        key, effect = taint.get("key"), taint.get("effect")
        if key == "":
            errors.append(required(f"{at}.key"))
        errors += label_name(key, f"{at}.key") if key else []
        value = taint.get("value")
        if isinstance(value, str) and value:
            errors += [invalid(f"{at}.value", value, msg) for msg in names.is_valid_label_value(value)]
        errors += supported(effect, f"{at}.effect", ("NoSchedule", "PreferNoSchedule", "NoExecute"))
        pair = (text(key), text(effect))
        if pair in seen:
            errors.append(duplicate(at, f"{pair[0]}:{pair[1]}"))
        seen.add(pair)
    for index, cidr in enumerate(spec.get("podCIDRs") or []):
        if isinstance(cidr, str) and not _is_cidr(cidr):
            errors.append(
                invalid(
                    f"spec.podCIDRs[{index}]",
                    cidr,
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                )
            )
    return errors


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


def validate_node_update(new: Obj, old: Obj) -> list[FieldError]:
    new_spec, old_spec = obj(new.get("spec")), obj(old.get("spec"))
    errors: list[FieldError] = []
    if old_spec.get("podCIDRs") and new_spec.get("podCIDRs") != old_spec.get("podCIDRs"):
        errors.append(
            forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
        )
    if old_spec.get("providerID") and new_spec.get("providerID") != old_spec.get("providerID"):
        errors.append(
            forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid')
        )
    return errors


def validate_event(event: Obj) -> list[FieldError]:
    namespace = text(obj(event.get("metadata")).get("namespace"))
    involved = text(obj(event.get("involvedObject")).get("namespace"))
    errors: list[FieldError] = []
    if not event.get("eventTime"):
        # Old-style events: the involved object must live in the event's namespace.
        if (involved and involved != namespace) or (not involved and namespace not in ("", "default")):
            errors.append(invalid("involvedObject.namespace", involved, "does not match event.namespace"))
    else:
        if not involved and namespace not in ("default", "kube-system"):
            errors.append(invalid("involvedObject.namespace", involved, "does not match event.namespace"))
        for key in ("reportingComponent", "reportingInstance", "action", "reason"):
            if not event.get(key):
                errors.append(required(key))
    return errors
