"""A realistic manifest set through the real kubectl: apply creates, a second apply
changes nothing, and everything written comes back from ``get -o json`` as written.

Real manifests carry probes, resources, securityContext, affinity, tolerations and
volumes; a server that drops or rewrites any of them breaks users silently, so the check
is that every field of every manifest is present, with its value, in what the server
returns (the server may only add: defaults, metadata, status).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.support.apiserver import ApiserverProcess
from tests.support.kubectl import kubectl_binaries

pytestmark = pytest.mark.e2e

BINARIES = kubectl_binaries()
if "kubectl" not in BINARIES:
    pytest.skip("kubectl is not installed", allow_module_level=True)

MANIFESTS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-config
  labels: {app: shop}
data:
  LOG_LEVEL: info
  settings.yaml: |
    cache: 5m
---
apiVersion: v1
kind: Secret
metadata:
  name: shop-db
type: Opaque
data:
  password: c2VjcmV0
---
apiVersion: v1
kind: Service
metadata:
  name: shop
  annotations: {team: payments}
spec:
  selector: {app: shop}
  ports:
  - name: http
    port: 80
    targetPort: http
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {app: shop}
spec:
  replicas: 3
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
      annotations: {prometheus.io/scrape: "true"}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: kubernetes.io/os, operator: In, values: [linux]}
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector:
                matchLabels: {app: shop}
      tolerations:
      - {key: dedicated, operator: Equal, value: shop, effect: NoSchedule}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 60}
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
        labelSelector:
          matchLabels: {app: shop}
      initContainers:
      - name: migrate
        image: registry.local/shop:1.4.2
        command: [/bin/migrate, --up]
        envFrom:
        - secretRef: {name: shop-db}
      containers:
      - name: shop
        image: registry.local/shop:1.4.2
        args: [--port=8080]
        ports:
        - {name: http, containerPort: 8080}
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {name: shop-db, key: password}
        resources:
          requests: {cpu: 250m, memory: 128Mi}
          limits: {cpu: "1", memory: 512Mi}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          initialDelaySeconds: 5
        livenessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 20
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        volumeMounts:
        - {name: config, mountPath: /etc/shop, readOnly: true}
        - {name: scratch, mountPath: /tmp}
      volumes:
      - name: config
        configMap:
          name: shop-config
          items:
          - {key: settings.yaml, path: settings.yaml}
      - name: scratch
        emptyDir: {sizeLimit: 64Mi}
"""

RESOURCES = {"ConfigMap": "configmap", "Secret": "secret", "Service": "service", "Deployment": "deployment"}


def _missing(sent: Any, got: Any, path: str = "") -> list[str]:
    """Paths of ``sent`` that ``got`` lacks or holds with another value."""
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return [path or "."]
        out: list[str] = []
        for key, value in sent.items():
            out += _missing(value, got[key], f"{path}.{key}") if key in got else [f"{path}.{key}"]
        return out
    if isinstance(sent, list):
        if not isinstance(got, list) or len(got) != len(sent):
            return [path]
        return [p for i, (s, g) in enumerate(zip(sent, got, strict=True)) for p in _missing(s, g, f"{path}[{i}]")]
    return [] if sent == got else [f"{path}: sent {sent!r}, got {got!r}"]


@pytest.fixture(scope="module")
def run(apiserver: ApiserverProcess, tmp_path_factory: pytest.TempPathFactory) -> Any:
    cache = tmp_path_factory.mktemp("kubectl-cache")

    def kubectl(*args: str) -> str:
        cmd = [str(BINARIES["kubectl"]), "--kubeconfig", str(apiserver.kubeconfig), "--cache-dir", str(cache), *args]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{' '.join(args)}: {result.stderr}{result.stdout}"
        return result.stdout

    return kubectl


def test_apply_twice_then_everything_round_trips(run: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "shop.yaml"
    manifest.write_text(MANIFESTS)

    first = run("apply", "-f", str(manifest))
    assert first.count("created") == 4, first
    second = run("apply", "-f", str(manifest))
    assert second.count("unchanged") == 4, second

    for doc in yaml.safe_load_all(MANIFESTS):
        got = orjson.loads(run("get", RESOURCES[doc["kind"]], doc["metadata"]["name"], "-o", "json"))
        assert _missing(doc, got) == [], f"{doc['kind']} lost or changed fields"
