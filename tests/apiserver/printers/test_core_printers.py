"""Nodes, namespaces, services, endpoints, config maps, secrets, service accounts,
resource quotas and events."""

from __future__ import annotations

from typing import Any

import pytest

META = {"name": "x", "namespace": "default", "creationTimestamp": "2025-05-30T08:00:00Z"}


def node(**extra: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "node-1",
            "creationTimestamp": "2025-05-01T12:00:00Z",
            **extra.pop("metadata", {}),
        },
        "spec": extra.pop("spec", {}),
        "status": extra.pop("status", {}),
    }


def test_node_columns_and_row(row: Any, columns: Any) -> None:
    assert columns("nodes") == [
        ("Name", 0),
        ("Status", 0),
        ("Roles", 0),
        ("Age", 0),
        ("Version", 0),
        ("Internal-IP", 1),
        ("External-IP", 1),
        ("OS-Image", 1),
        ("Kernel-Version", 1),
        ("Container-Runtime", 1),
    ]
    obj = node(
        status={
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [
                {"type": "Hostname", "address": "node-1"},
                {"type": "InternalIP", "address": "192.168.1.10"},
                {"type": "InternalIP", "address": "192.168.1.11"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.33.1",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0-18-amd64",
                "containerRuntimeVersion": "docker://26.1.0",
            },
        },
    )
    assert list(row("nodes", obj).values()) == [
        "node-1",
        "Ready",
        "<none>",
        "31d",
        "v1.33.1",
        "192.168.1.10",
        "<none>",
        "Debian GNU/Linux 12 (bookworm)",
        "6.1.0-18-amd64",
        "docker://26.1.0",
    ]
    bare = row("nodes", node())
    assert [bare[k] for k in ("Status", "Version", "OS-Image", "Kernel-Version", "Container-Runtime")] == [
        "Unknown",
        "",
        "<unknown>",
        "<unknown>",
        "<unknown>",
    ]


@pytest.mark.parametrize(
    ("ready", "unschedulable", "expected"),
    [
        ("True", False, "Ready"),
        ("False", False, "NotReady"),
        ("Unknown", False, "NotReady"),
        ("True", True, "Ready,SchedulingDisabled"),
        (None, True, "Unknown,SchedulingDisabled"),
    ],
)
def test_node_status(row: Any, ready: str | None, unschedulable: bool, expected: str) -> None:
    conditions = [] if ready is None else [{"type": "Ready", "status": ready}]
    obj = node(spec={"unschedulable": unschedulable}, status={"conditions": conditions})
    assert row("nodes", obj)["Status"] == expected


def test_node_roles(row: Any) -> None:
    labels = {
        "node-role.kubernetes.io/worker": "",
        "node-role.kubernetes.io/control-plane": "",
        "node-role.kubernetes.io/": "",
        "kubernetes.io/role": "ingress",
        "kubernetes.io/hostname": "node-1",
    }
    assert row("nodes", node(metadata={"labels": labels}))["Roles"] == "control-plane,ingress,worker"


def test_namespace(row: Any, columns: Any) -> None:
    assert columns("namespaces") == [("Name", 0), ("Status", 0), ("Age", 0)]
    obj = {
        "metadata": {"name": "dev", "creationTimestamp": "2025-06-01T11:59:30Z"},
        "status": {"phase": "Terminating"},
    }
    assert list(row("namespaces", obj).values()) == ["dev", "Terminating", "30s"]


def service(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": META, "spec": spec, "status": status or {}}


def test_service_columns_and_row(row: Any, columns: Any) -> None:
    assert columns("services") == [
        ("Name", 0),
        ("Type", 0),
        ("Cluster-IP", 0),
        ("External-IP", 0),
        ("Port(s)", 0),
        ("Age", 0),
        ("Selector", 1),
    ]
    obj = service(
        {
            "type": "NodePort",
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "nodePort": 30443, "protocol": "TCP"}],
            "selector": {"app": "web", "tier": "front"},
        }
    )
    assert list(row("services", obj).values()) == [
        "x",
        "NodePort",
        "10.96.0.10",
        "<none>",
        "80/TCP,443:30443/TCP",
        "2d4h",
        "app=web,tier=front",
    ]


@pytest.mark.parametrize(
    ("spec", "status", "cells"),
    [
        (
            {"clusterIP": "None", "ports": [{"port": 53, "protocol": "UDP"}]},
            {},
            ("ClusterIP", "None", "<none>", "53/UDP"),
        ),
        (
            {"type": "ClusterIP", "clusterIPs": ["10.0.0.1"], "externalIPs": ["1.2.3.4", "5.6.7.8"]},
            {},
            ("ClusterIP", "10.0.0.1", "1.2.3.4,5.6.7.8", "<none>"),
        ),
        (
            {"type": "LoadBalancer", "clusterIP": "10.0.0.2", "ports": [{"port": 80}]},
            {},
            ("LoadBalancer", "10.0.0.2", "<pending>", "80/TCP"),
        ),
        (
            {"type": "LoadBalancer", "clusterIP": "10.0.0.2", "externalIPs": ["9.9.9.9"]},
            {
                "loadBalancer": {
                    "ingress": [{"ip": "34.1.2.3"}, {"hostname": "lb.example.com"}, {"ip": "34.1.2.3"}]
                }
            },
            ("LoadBalancer", "10.0.0.2", "34.1.2.3,lb.example.com,9.9.9.9", "<none>"),
        ),
        (
            {"type": "ExternalName", "externalName": "db.example.com"},
            {},
            ("ExternalName", "<none>", "db.example.com", "<none>"),
        ),
    ],
)
def test_service_types(
    row: Any, spec: dict[str, Any], status: dict[str, Any], cells: tuple[str, ...]
) -> None:
    got = row("services", service(spec, status))
    assert (got["Type"], got["Cluster-IP"], got["External-IP"], got["Port(s)"]) == cells
    assert got["Selector"] == "<none>"


def test_endpoints(row: Any, columns: Any) -> None:
    assert columns("endpoints") == [("Name", 0), ("Endpoints", 0), ("Age", 0)]
    assert row("endpoints", {"metadata": META})["Endpoints"] == "<none>"
    two = {"subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}], "ports": [{"port": 8080}]}]}
    assert row("endpoints", {"metadata": META, **two})["Endpoints"] == "10.0.0.1:8080,[fd00::1]:8080"
    many = {
        "subsets": [
            {
                "addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 4)],
                "ports": [{"port": 80}, {"port": 443}],
            },
            {"addresses": [{"ip": "10.0.1.1"}]},
        ]
    }
    assert (
        row("endpoints", {"metadata": META, **many})["Endpoints"]
        == "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 4 more..."
    )
    headless = {"subsets": [{"addresses": [{"ip": "10.0.0.7"}]}]}
    assert row("endpoints", {"metadata": META, **headless})["Endpoints"] == "10.0.0.7"


def test_configmap_secret_serviceaccount(row: Any, columns: Any) -> None:
    assert columns("configmaps") == [("Name", 0), ("Data", 0), ("Age", 0)]
    assert columns("secrets") == [("Name", 0), ("Type", 0), ("Data", 0), ("Age", 0)]
    assert columns("serviceaccounts") == [("Name", 0), ("Secrets", 0), ("Age", 0)]
    cm = {"metadata": META, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert list(row("configmaps", cm).values()) == ["x", 3, "2d4h"]
    secret = {"metadata": META, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}
    assert list(row("secrets", secret).values()) == ["x", "kubernetes.io/tls", 2, "2d4h"]
    assert row("secrets", {"metadata": META, "stringData": {"k": "v"}})["Type"] == "Opaque"
    sa = {"metadata": META, "secrets": [{"name": "token"}]}
    assert list(row("serviceaccounts", sa).values()) == ["x", 1, "2d4h"]
    assert row("serviceaccounts", {"metadata": META})["Secrets"] == 0


def test_resourcequota(row: Any, columns: Any) -> None:
    assert columns("resourcequotas") == [("Name", 0), ("Age", 0), ("Request", 0), ("Limit", 0)]
    hard = {
        "pods": "10",
        "requests.cpu": "1",
        "requests.memory": "1024Mi",
        "limits.memory": "2Gi",
        "limits.cpu": "2000m",
        "limitsx": "3",
    }
    used = {"pods": "2", "requests.cpu": "500m", "requests.memory": "0.5Gi", "limits.cpu": "1"}
    cells = row("resourcequotas", {"metadata": META, "status": {"hard": hard, "used": used}})
    # Sorted by resource name; quantities in canonical form, as Quantity.String() prints.
    assert cells["Request"] == "limitsx: 0/3, pods: 2/10, requests.cpu: 500m/1, requests.memory: 512Mi/1Gi"
    assert cells["Limit"] == "limits.cpu: 1/2, limits.memory: 0/2Gi"
    assert list(row("resourcequotas", {"metadata": META}).values()) == ["x", "2d4h", "", ""]


def test_event_columns(columns: Any) -> None:
    assert columns("events") == [
        ("Last Seen", 0),
        ("Type", 0),
        ("Reason", 0),
        ("Object", 0),
        ("Subobject", 1),
        ("Source", 1),
        ("Message", 0),
        ("First Seen", 1),
        ("Count", 1),
        ("Name", 1),
    ]


def test_event_from_a_core_recorder(row: Any, ago: Any) -> None:
    event = {
        "metadata": {"name": "web-1.17a", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container\n",
        "type": "Warning",
        "count": 7,
        "firstTimestamp": ago(minutes=50),
        "lastTimestamp": ago(seconds=20),
        "source": {"component": "kubelet", "host": "node-1"},
    }
    assert list(row("events", event).values()) == [
        "20s",
        "Warning",
        "BackOff",
        "pod/web-1",
        "spec.containers{app}",
        "kubelet, node-1",
        "Back-off restarting failed container",
        "50m",
        7,
        "web-1.17a",
    ]


def test_event_from_an_events_api_recorder(row: Any) -> None:
    event = {
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "Node"},
        "eventTime": "2025-06-01T11:00:00.123456Z",
        "reportingController": "scheduler",
        "type": "Normal",
        "reason": "Scheduled",
    }
    cells = row("events", event)
    # 59m59.88s: ages truncate, as Go's integer division does.
    assert [cells[k] for k in ("Last Seen", "First Seen", "Count", "Object", "Source")] == [
        "59m",
        "59m",
        1,
        "node",
        "scheduler",
    ]
    event["series"] = {"count": 4, "lastObservedTime": "2025-06-01T11:58:00.000000Z"}
    event["reportingInstance"] = "sched-1"
    cells = row("events", event)
    assert [cells[k] for k in ("Last Seen", "Count", "Source")] == ["2m", 4, "scheduler, sched-1"]
    assert row("events", {"metadata": {"name": "e"}})["Last Seen"] == "<unknown>"
