"""The real kubectl against the real server: the dispatcher on PATH (which picks the
binary matching our reported version) and the oldest supported binary, 1.27, which
speaks JSON only and fetches legacy discovery and /openapi/v2 first."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.support.apiserver import ApiserverProcess
from tests.support.kubectl import kubectl_binaries

pytestmark = pytest.mark.e2e

BINARIES = kubectl_binaries()
if "kubectl" not in BINARIES:
    pytest.skip("kubectl is not installed", allow_module_level=True)

Kubectl = Callable[..., subprocess.CompletedProcess[str]]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: nginx:{tag}
        ports:
        - containerPort: 80
"""

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{tier: {tier}}}
spec:
  nodeName: {node}
  containers:
  - name: c
    image: busybox
"""


def _runner(server: ApiserverProcess, cache: Path, binary: str) -> Kubectl:
    def run(*args: str, check: bool = True, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(BINARIES[binary]), "--kubeconfig", str(server.kubeconfig), "--cache-dir", str(cache), *args]
        result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr}{result.stdout}")
        return result

    return run


@pytest.fixture(scope="module")
def kubectl(apiserver: ApiserverProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return _runner(apiserver, tmp_path_factory.mktemp("kubectl-cache"), "kubectl")


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_get_namespaces_prints_server_side_columns(kubectl: Kubectl) -> None:
    out = kubectl("get", "namespaces").stdout
    header, *rows = out.splitlines()
    assert header.split() == ["NAME", "STATUS", "AGE"]
    assert {row.split()[0] for row in rows} >= {"default", "kube-system", "kube-public", "kube-node-lease"}
    assert all(row.split()[1] == "Active" for row in rows)


def test_create_get_and_output_formats(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = _write(tmp_path, "pod.yaml", POD.format(name="k1", tier="fe", node="node-a"))
    assert kubectl("create", "-f", manifest).stdout.strip() == "pod/k1 created"
    again = kubectl("create", "-f", manifest, check=False)
    assert again.returncode != 0 and "AlreadyExists" in again.stderr
    as_json = orjson.loads(kubectl("get", "pod", "k1", "-o", "json").stdout)
    assert as_json["metadata"]["name"] == "k1" and as_json["status"]["phase"] == "Pending"
    as_yaml = kubectl("get", "pod", "k1", "-o", "yaml").stdout
    assert "name: k1" in as_yaml and "uid:" in as_yaml
    wide = kubectl("get", "pods", "-o", "wide").stdout.splitlines()
    assert "NODE" in wide[0].split() and "node-a" in wide[1]
    everywhere = kubectl("get", "pods", "-A").stdout.splitlines()
    assert everywhere[0].split()[0] == "NAMESPACE" and any(line.startswith("default") for line in everywhere[1:])


def test_label_annotate_and_selectors(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl("create", "-f", _write(tmp_path, "a.yaml", POD.format(name="sel-a", tier="fe", node="node-x")))
    kubectl("create", "-f", _write(tmp_path, "b.yaml", POD.format(name="sel-b", tier="be", node="node-y")))
    assert "labeled" in kubectl("label", "pod", "sel-a", "color=blue").stdout
    assert "annotated" in kubectl("annotate", "pod", "sel-a", "note=hello").stdout
    by_label = kubectl("get", "pods", "-l", "color=blue", "-o", "name").stdout.split()
    assert by_label == ["pod/sel-a"]
    by_field = kubectl("get", "pods", "--field-selector", "spec.nodeName=node-y", "-o", "name").stdout.split()
    assert by_field == ["pod/sel-b"]
    annotations = orjson.loads(kubectl("get", "pod", "sel-a", "-o", "json").stdout)["metadata"]["annotations"]
    assert annotations["note"] == "hello"
    bad = kubectl("get", "pods", "--field-selector", "spec.bogus=1", check=False)
    assert bad.returncode != 0 and "field label not supported" in bad.stderr


def test_apply_client_side_then_server_side(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(DEPLOYMENT.replace("{tag}", "1.25"))
    assert "created" in kubectl("apply", "-f", str(manifest)).stdout
    manifest.write_text(DEPLOYMENT.replace("{tag}", "1.26"))
    assert "configured" in kubectl("apply", "-f", str(manifest)).stdout
    deployment = orjson.loads(kubectl("get", "deployment", "web", "-o", "json").stdout)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert deployment["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in deployment["metadata"]["annotations"]
    manifest.write_text(DEPLOYMENT.replace("{tag}", "1.27"))
    assert "serverside-applied" in kubectl("apply", "--server-side", "-f", str(manifest)).stdout
    image = kubectl("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}").stdout
    assert image == "nginx:1.27"


def test_get_watch_sees_changes(apiserver: ApiserverProcess, kubectl: Kubectl, tmp_path: Path) -> None:
    cache = tmp_path / "watch-cache"
    cmd = [str(BINARIES["kubectl"]), "--kubeconfig", str(apiserver.kubeconfig), "--cache-dir", str(cache),
           "get", "pods", "-w", "--request-timeout=20s"]  # fmt: skip
    watcher = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.0)  # let it list and start watching
        kubectl("create", "-f", _write(tmp_path, "w.yaml", POD.format(name="watched", tier="x", node="node-w")))
        kubectl("label", "pod", "watched", "seen=yes")
        deadline = time.monotonic() + 20
        lines: list[str] = []
        assert watcher.stdout is not None
        while time.monotonic() < deadline and sum("watched" in line for line in lines) < 2:
            line = watcher.stdout.readline()
            if not line:
                break
            lines.append(line)
        assert sum(line.split()[0] == "watched" for line in lines if line.strip()) >= 2, lines
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)


def test_delete_waits_until_gone(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl("create", "-f", _write(tmp_path, "d.yaml", POD.format(name="doomed", tier="x", node="node-d")))
    # Bound to a node, so only grace 0 removes it at once (test_resources.py covers the wait).
    deleted = kubectl("delete", "pod", "doomed", "--grace-period=0", "--force").stdout.strip()
    assert deleted == 'pod "doomed" force deleted'
    gone = kubectl("get", "pod", "doomed", check=False)
    assert gone.returncode != 0 and 'pods "doomed" not found' in gone.stderr


def test_describe_pod(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl("create", "-f", _write(tmp_path, "desc.yaml", POD.format(name="described", tier="x", node="node-z")))
    out = kubectl("describe", "pod", "described").stdout
    assert "Name:" in out and "described" in out and "node-z" in out


def test_create_configmap_from_literal(kubectl: Kubectl) -> None:
    # kubectl >= 1.32 sends this body as protobuf.
    assert kubectl("create", "configmap", "lit", "--from-literal=a=b").stdout.strip() == "configmap/lit created"
    data = orjson.loads(kubectl("get", "configmap", "lit", "-o", "json").stdout)["data"]
    assert data == {"a": "b"}


def test_errors_read_as_kubernetes_errors(kubectl: Kubectl, tmp_path: Path) -> None:
    missing_ns = kubectl("get", "pods", "-n", "nowhere", check=False)
    assert missing_ns.returncode == 0 and "No resources found in nowhere namespace" in missing_ns.stderr
    manifest = _write(tmp_path, "ns.yaml", POD.format(name="lost", tier="x", node="n"))
    create = kubectl("create", "-n", "nowhere", "-f", manifest, check=False)
    assert 'namespaces "nowhere" not found' in create.stderr
    invalid = _write(tmp_path, "bad.yaml", POD.format(name="Bad_Name", tier="x", node="n"))
    result = kubectl("create", "-f", invalid, "--validate=false", check=False)
    assert "is invalid" in result.stderr


@pytest.mark.skipif("kubectl.1.27" not in BINARIES, reason="kubectl 1.27 is not installed")
def test_kubectl_1_27(apiserver: ApiserverProcess, tmp_path: Path) -> None:
    old = _runner(apiserver, tmp_path / "cache-127", "kubectl.1.27")
    assert "default" in old("get", "namespaces").stdout
    manifest = _write(tmp_path, "old.yaml", POD.format(name="old-client", tier="x", node="n1"))
    assert "created" in old("apply", "-f", manifest).stdout
    assert old("get", "pod", "old-client", "-o", "jsonpath={.metadata.name}").stdout == "old-client"
    assert "deleted" in old("delete", "pod", "old-client", "--grace-period=0", "--force").stdout
