"""Realistic manifests for the object-model tests, as people write them for kubectl apply.

Each fixture returns a fresh copy, so a test may mutate what it gets.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

Obj = dict[str, Any]

_POD_SPEC: Obj = {
    "serviceAccountName": "web",
    "initContainers": [
        {
            "name": "migrate",
            "image": "registry.example.com/shop/migrate:2.4.1",
            "command": ["/migrate", "--up"],
            "envFrom": [{"secretRef": {"name": "db-credentials"}}],
            "resources": {"limits": {"cpu": "200m", "memory": "64Mi"}},
        }
    ],
    "containers": [
        {
            "name": "web",
            "image": "registry.example.com/shop/web:2.4.1",
            "args": ["--listen=:8080"],
            "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
            "env": [
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}}},
                {"name": "MEMORY_LIMIT",
                 "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                {"name": "LOG_LEVEL", "value": "info"},
            ],
            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": 1, "memory": "512Mi"}},
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http",
                                          "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                              "initialDelaySeconds": 10},
            "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 5},
            "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "failureThreshold": 30},
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
            "volumeMounts": [
                {"name": "config", "mountPath": "/etc/web", "readOnly": True},
                {"name": "cache", "mountPath": "/var/cache/web"},
                {"name": "token", "mountPath": "/var/run/secrets/tokens"},
            ],
            "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
        }
    ],
    "volumes": [
        {"name": "config", "configMap": {"name": "web-config", "items": [{"key": "app.yaml", "path": "app.yaml"}]}},
        {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token", "audience": "vault"}},
                                                    {"downwardAPI": {"items": [{"path": "labels",
                                                                                "fieldRef": {"fieldPath": "metadata.labels"}}]}}]}},
    ],
    "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000},
    "affinity": {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}}]},
    },
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "shop", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
    ],
    "topologySpreadConstraints": [
        {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}
    ],
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "priorityClassName": "shop-critical",
    "imagePullSecrets": [{"name": "registry"}],
}  # fmt: skip

DEPLOYMENT: Obj = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "shop",
        "labels": {"app.kubernetes.io/name": "web"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
    },
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
        "template": {
            "metadata": {
                "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop"},
                "annotations": {"prometheus.io/scrape": "true"},
            },
            "spec": _POD_SPEC,
        },
    },
}

POD: Obj = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "shop", "labels": {"app.kubernetes.io/name": "web"}},
    "spec": _POD_SPEC,
}

SERVICE: Obj = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app.kubernetes.io/name": "web"}},
    "spec": {
        "selector": {"app.kubernetes.io/name": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "metrics", "port": 9090}],
    },
}

CONFIG_MAP: Obj = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "web-config", "namespace": "shop"},
    "data": {"app.yaml": "listen: 8080\nlog: info\n", "FEATURE_X": "on"},
    "binaryData": {"logo.png": "iVBORw0KGgo="},
}

SECRET: Obj = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db-credentials", "namespace": "shop"},
    "type": "Opaque",
    "data": {"password": "czNjcjN0", "username": "YXBw"},
}


@pytest.fixture
def pod() -> Obj:
    return copy.deepcopy(POD)


@pytest.fixture
def deployment() -> Obj:
    return copy.deepcopy(DEPLOYMENT)


@pytest.fixture
def service() -> Obj:
    return copy.deepcopy(SERVICE)


@pytest.fixture
def config_map() -> Obj:
    return copy.deepcopy(CONFIG_MAP)


@pytest.fixture
def secret() -> Obj:
    return copy.deepcopy(SECRET)


@pytest.fixture
def manifests() -> list[Obj]:
    return copy.deepcopy([DEPLOYMENT, SERVICE, CONFIG_MAP, SECRET, POD])
