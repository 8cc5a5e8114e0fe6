"""Rows for the networking kinds: services and endpoints.

A service's EXTERNAL-IP depends on its type (external IPs, the load balancer's ingress
addresses, ``<pending>`` while none is assigned, the DNS name of an ExternalName
service) and PORT(S) joins ``port[:nodePort]/protocol`` (``80/TCP,443:30443/TCP``).
Endpoints print at most three ``ip:port`` pairs and count the rest
(``10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...``), so a big service stays one line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import docs
from .formatting import (
    NONE,
    UNKNOWN,
    Cell,
    Obj,
    dig,
    dig_int,
    dig_list,
    dig_map,
    dig_str,
    format_labels,
    since,
)
from .registry import AGE, NAME, Column, ResourceKey, register

_F = docs.FIELD_DOCS

SERVICE_COLUMNS = (
    NAME,
    Column(name="Type", type="string", description=_F["core.v1.ServiceSpec.type"]),
    Column(name="Cluster-IP", type="string", description=_F["core.v1.ServiceSpec.clusterIP"]),
    Column(name="External-IP", type="string", description=_F["core.v1.ServiceSpec.externalIPs"]),
    Column(name="Port(s)", type="string", description=_F["core.v1.ServiceSpec.ports"]),
    AGE,
    Column(name="Selector", type="string", priority=1, description=_F["core.v1.ServiceSpec.selector"]),
)


def _strings(values: list[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str)]


def _load_balancer_addresses(service: Obj) -> list[str]:
    # A set in Kubernetes; first-seen order here keeps the output stable.
    found: dict[str, None] = {}
    for ingress in dig_list(service, "status", "loadBalancer", "ingress"):
        address = dig_str(ingress, "ip") or dig_str(ingress, "hostname")
        if address:
            found[address] = None
    return list(found)


def service_type(service: Obj) -> str:
    return dig_str(service, "spec", "type") or "ClusterIP"  # the API default


def external_ip(service: Obj) -> str:
    kind = service_type(service)
    external = _strings(dig_list(service, "spec", "externalIPs"))
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or NONE
    if kind == "LoadBalancer":
        addresses = _load_balancer_addresses(service) + external
        return ",".join(addresses) or "<pending>"
    if kind == "ExternalName":
        return dig_str(service, "spec", "externalName")
    return UNKNOWN


def cluster_ip(service: Obj) -> str:
    # As in the v1 → internal conversion, clusterIP wins over clusterIPs[0].
    ip = dig_str(service, "spec", "clusterIP")
    if not ip:
        ips = _strings(dig_list(service, "spec", "clusterIPs"))
        ip = ips[0] if ips else ""
    return ip or NONE


def port_string(ports: list[Any]) -> str:
    pieces: list[str] = []
    for port in ports:
        protocol = dig_str(port, "protocol") or "TCP"
        node_port = dig_int(port, "nodePort")
        middle = f":{node_port}" if node_port > 0 else ""
        pieces.append(f"{dig_int(port, 'port')}{middle}/{protocol}")
    return ",".join(pieces)


def service_row(service: Obj, *, now: datetime) -> list[Cell]:
    return [
        dig_str(service, "metadata", "name"),
        service_type(service),
        cluster_ip(service),
        external_ip(service),
        port_string(dig_list(service, "spec", "ports")) or NONE,
        since(dig(service, "metadata", "creationTimestamp"), now=now),
        format_labels(dig_map(service, "spec", "selector")),
    ]


ENDPOINTS_COLUMNS = (
    NAME,
    Column(name="Endpoints", type="string", description=_F["core.v1.Endpoints.subsets"]),
    AGE,
)

_MAX_ENDPOINTS = 3


def _join_host_port(host: str, port: int) -> str:
    # Go's net.JoinHostPort brackets IPv6 addresses.
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def format_endpoints(endpoints: Obj) -> str:
    subsets = dig_list(endpoints, "subsets")
    if not subsets:
        return NONE
    shown: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [dig_str(a, "ip") for a in dig_list(subset, "addresses")]
        ports = dig_list(subset, "ports")
        # A headless service may publish addresses without any port.
        targets = [addresses] if not ports else []
        for port in ports:
            targets.append([_join_host_port(ip, dig_int(port, "port")) for ip in addresses])
        for group in targets:
            count += len(group)
            shown.extend(group[: max(0, _MAX_ENDPOINTS - len(shown))])
    text = ",".join(shown)
    if count > _MAX_ENDPOINTS:
        return f"{text} + {count - _MAX_ENDPOINTS} more..."
    return text


def endpoints_row(endpoints: Obj, *, now: datetime) -> list[Cell]:
    return [
        dig_str(endpoints, "metadata", "name"),
        format_endpoints(endpoints),
        since(dig(endpoints, "metadata", "creationTimestamp"), now=now),
    ]


def install() -> None:
    register(ResourceKey(group="", resource="services"), SERVICE_COLUMNS, service_row)
    register(ResourceKey(group="", resource="endpoints"), ENDPOINTS_COLUMNS, endpoints_row)
