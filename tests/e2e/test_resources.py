"""Resource-specific behaviour through the real process, the real kubectl and the kube client:
scale, cordon, services, graceful pod deletion, eviction and PDBs, drain, namespace
termination, and logs from a (fake) kubelet."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kube import pki
from kube.client import Client
from kube.errors import Conflict, TooManyRequests
from kube.resources import default_registry
from tests.support.apiserver import ApiserverProcess
from tests.support.kubectl import kubectl_binaries

pytestmark = pytest.mark.e2e

BINARIES = kubectl_binaries()
if "kubectl" not in BINARIES:
    pytest.skip("kubectl is not installed", allow_module_level=True)

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
PODS = "/api/v1/namespaces/default/pods"
PDBS = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"
MERGE = {"content-type": "application/merge-patch+json"}
REGISTRY = default_registry()


@pytest.fixture(scope="module")
def kubectl(apiserver: ApiserverProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    cache = tmp_path_factory.mktemp("kubectl-cache")

    def run(
        *args: str, check: bool = True, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        cmd = [
            str(BINARIES["kubectl"]),
            "--kubeconfig",
            str(apiserver.kubeconfig),
            "--cache-dir",
            str(cache),
            *args,
        ]
        result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({result.returncode}): {result.stderr}{result.stdout}"
            )
        return result

    return run


def json_of(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def pod(name: str, *, node: str = "", labels: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    if node:
        body["spec"]["nodeName"] = node
    return body


def make_node(apiserver: ApiserverProcess, name: str, *, port: int = 10250) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        },
    }
    with apiserver.client() as client:
        assert client.post("/api/v1/nodes", json=body).status_code == 201


def running_pod(apiserver: ApiserverProcess, name: str, *, node: str) -> None:
    with apiserver.client() as client:
        assert client.post(PODS, json=pod(name, node=node)).status_code == 201
        status = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
        assert client.patch(f"{PODS}/{name}/status", json=status, headers=MERGE).status_code == 200


def budget(apiserver: ApiserverProcess, name: str, *, allowed: int) -> None:
    body = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    }
    # No disruption controller yet: the status is written by hand, as it would compute it.
    status = {
        "disruptionsAllowed": allowed,
        "currentHealthy": 2,
        "desiredHealthy": 1,
        "expectedPods": 2,
        "observedGeneration": 1,
    }
    with apiserver.client() as client:
        assert client.post(PDBS, json=body).status_code == 201
        assert (
            client.patch(f"{PDBS}/{name}/status", json={"status": status}, headers=MERGE).status_code == 200
        )


# -- scale --------------------------------------------------------------------------------

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "d"},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "d"}},
        "template": {
            "metadata": {"labels": {"app": "d"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        },
    },
}


def test_kubectl_scale(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", stdin=json.dumps(DEPLOYMENT))
    assert kubectl("scale", "deployment", "d", "--replicas=3").stdout.strip() == "deployment.apps/d scaled"
    deployment = json_of(kubectl("get", "deployment", "d", "-o", "json"))
    assert deployment["spec"]["replicas"] == 3 and deployment["metadata"]["generation"] == 2
    # --current-replicas: GET the scale, then PUT it back with its resourceVersion.
    assert "scaled" in kubectl("scale", "deployment", "d", "--current-replicas=3", "--replicas=4").stdout
    wrong = kubectl("scale", "deployment", "d", "--current-replicas=2", "--replicas=5", check=False)
    assert wrong.returncode != 0 and "Expected replicas to be 2, was 4" in wrong.stderr
    scale = json_of(kubectl("get", "--raw", "/apis/apps/v1/namespaces/default/deployments/d/scale"))
    assert (
        scale["kind"] == "Scale"
        and scale["spec"] == {"replicas": 4}
        and scale["status"]["selector"] == "app=d"
    )


def test_scale_with_the_kube_client(apiserver: ApiserverProcess, kubectl: Kubectl) -> None:
    deployments = REGISTRY.get(group="apps", version="v1", resource="deployments")
    assert deployments is not None
    kubectl("create", "deployment", "kc", "--image=nginx", "--replicas=1")

    async def scale() -> tuple[dict[str, Any], type[Exception] | None]:
        async with Client.from_kubeconfig(apiserver.kubeconfig) as client:
            current = await client.get(deployments, name="kc", namespace="default", subresource="scale")
            current["spec"]["replicas"] = 2
            updated = await client.update(deployments, current, namespace="default", subresource="scale")
            try:
                await client.update(deployments, current, namespace="default", subresource="scale")
            except Conflict:
                return updated, Conflict
            return updated, None

    updated, refused = asyncio.run(scale())
    assert updated["spec"]["replicas"] == 2 and refused is Conflict


# -- nodes --------------------------------------------------------------------------------


def test_cordon_and_uncordon(apiserver: ApiserverProcess, kubectl: Kubectl) -> None:
    make_node(apiserver, "n-cordon")
    assert kubectl("cordon", "n-cordon").stdout.strip() == "node/n-cordon cordoned"
    assert json_of(kubectl("get", "node", "n-cordon", "-o", "json"))["spec"]["unschedulable"] is True
    assert "SchedulingDisabled" in kubectl("get", "node", "n-cordon").stdout
    assert kubectl("uncordon", "n-cordon").stdout.strip() == "node/n-cordon uncordoned"
    assert "unschedulable" not in json_of(kubectl("get", "node", "n-cordon", "-o", "json"))["spec"]


# -- services -----------------------------------------------------------------------------


def test_services_get_addresses(kubectl: Kubectl) -> None:
    assert (
        kubectl("create", "service", "clusterip", "web", "--tcp=80:8080").stdout.strip()
        == "service/web created"
    )
    web = json_of(kubectl("get", "service", "web", "-o", "json"))
    assert ipaddress.ip_address(web["spec"]["clusterIP"]) in ipaddress.ip_network("10.96.0.0/12")
    assert web["spec"]["clusterIP"] in kubectl("get", "service", "web").stdout
    kubectl("create", "service", "nodeport", "np", "--tcp=80:8080")
    node_port = json_of(kubectl("get", "service", "np", "-o", "json"))["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767
    taken = kubectl(
        "create", "service", "nodeport", "np2", "--tcp=80:8080", f"--node-port={node_port}", check=False
    )
    assert taken.returncode != 0 and "provided port is already allocated" in taken.stderr
    kubectl("create", "deployment", "exposed", "--image=nginx")
    assert kubectl("expose", "deployment", "exposed", "--port=80").stdout.strip() == "service/exposed exposed"
    exposed = json_of(kubectl("get", "service", "exposed", "-o", "json"))
    assert (
        exposed["spec"]["selector"] == {"app": "exposed"}
        and exposed["spec"]["clusterIP"] != web["spec"]["clusterIP"]
    )


def test_the_kubernetes_service_points_at_the_server(apiserver: ApiserverProcess, kubectl: Kubectl) -> None:
    service = json_of(kubectl("get", "service", "kubernetes", "-o", "json"))
    port = int(apiserver.url.rsplit(":", 1)[1])
    assert service["spec"]["clusterIP"] == "10.96.0.1"
    assert service["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]
    endpoints = json_of(kubectl("get", "endpoints", "kubernetes", "-o", "json"))
    assert endpoints["subsets"][0]["ports"][0]["port"] == port
    assert endpoints["subsets"][0]["addresses"] == [{"ip": "127.0.0.1"}]


# -- pods ---------------------------------------------------------------------------------


def test_delete_waits_for_a_bound_pod_until_its_kubelet_finishes(
    apiserver: ApiserverProcess, kubectl: Kubectl, tmp_path: Path
) -> None:
    with apiserver.client() as client:
        assert client.post(PODS, json=pod("bound", node="node-x")).status_code == 201
    cmd = [
        str(BINARIES["kubectl"]),
        "--kubeconfig",
        str(apiserver.kubeconfig),
        "--cache-dir",
        str(tmp_path),
        "delete",
        "pod",
        "bound",
        "--wait",
    ]
    waiting = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with apiserver.client() as client:
            deadline = time.monotonic() + 30
            while not client.get(f"{PODS}/bound").json()["metadata"].get("deletionTimestamp"):
                assert time.monotonic() < deadline, "the pod was never marked for deletion"
                time.sleep(0.1)
            time.sleep(1)
            assert waiting.poll() is None, "kubectl stopped waiting while the pod still exists"
            # What the kubelet does once the containers stopped: delete with grace 0.
            assert client.delete(f"{PODS}/bound?gracePeriodSeconds=0").status_code == 200
        out, err = waiting.communicate(timeout=30)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, err
    assert out.strip() == 'pod "bound" deleted'


def test_eviction_honours_the_disruption_budget(apiserver: ApiserverProcess) -> None:
    running_pod(apiserver, "ev-a", node="node-ev")
    running_pod(apiserver, "ev-b", node="node-ev")
    budget(apiserver, "ev-pdb", allowed=1)
    pods = REGISTRY.get(group="", version="v1", resource="pods")
    assert pods is not None

    def eviction(name: str) -> dict[str, Any]:
        return {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}

    async def evict_both() -> tuple[dict[str, Any], TooManyRequests]:
        async with Client.from_kubeconfig(apiserver.kubeconfig) as client:
            first = await client.post_subresource(
                pods, name="ev-a", namespace="default", subresource="eviction", body=eviction("ev-a")
            )
            try:
                await client.post_subresource(
                    pods, name="ev-b", namespace="default", subresource="eviction", body=eviction("ev-b")
                )
            except TooManyRequests as refused:
                return first, refused
            raise AssertionError("the second eviction was allowed")

    first, refused = asyncio.run(evict_both())
    assert first["status"] == "Success"
    assert refused.message == "Cannot evict pod as it would violate the pod's disruption budget."
    assert refused.details.causes[0].reason == "DisruptionBudget"
    with apiserver.client() as client:
        assert client.get(f"{PODS}/ev-a").json()["metadata"]["deletionTimestamp"]
        assert "deletionTimestamp" not in client.get(f"{PODS}/ev-b").json()["metadata"]
        status = client.get(f"{PDBS}/ev-pdb").json()["status"]
        assert status["disruptionsAllowed"] == 0 and list(status["disruptedPods"]) == ["ev-a"]
        for name in ("ev-a", "ev-b", "ev-pdb"):
            client.delete(f"{PODS}/{name}?gracePeriodSeconds=0")
        client.delete(f"{PDBS}/ev-pdb")


def test_kubectl_drain_evicts_and_retries_a_blocked_pod(
    apiserver: ApiserverProcess, kubectl: Kubectl
) -> None:
    make_node(apiserver, "n-drain")
    running_pod(apiserver, "dr-a", node="n-drain")
    running_pod(apiserver, "dr-b", node="n-drain")
    budget(apiserver, "dr-pdb", allowed=1)
    drained = kubectl(
        "drain", "n-drain", "--force", "--grace-period=0", "--timeout=4s", check=False, timeout=60
    )
    output = drained.stdout + drained.stderr
    assert "node/n-drain cordoned" in output
    assert "evicting pod default/dr-" in output  # the eviction API, not plain deletes
    assert "Cannot evict pod as it would violate the pod's disruption budget." in output
    assert drained.returncode != 0  # one pod could not be evicted before the timeout
    with apiserver.client() as client:
        remaining = [
            p["metadata"]["name"]
            for p in client.get(PODS, params={"fieldSelector": "spec.nodeName=n-drain"}).json()["items"]
        ]
        assert len(remaining) == 1  # one evicted (grace 0: gone), one kept by the budget
        assert client.get("/api/v1/nodes/n-drain").json()["spec"]["unschedulable"] is True


# -- namespaces ---------------------------------------------------------------------------


def test_namespace_termination(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl("create", "namespace", "doomed")
    kubectl("create", "configmap", "inside", "-n", "doomed", "--from-literal=a=b")
    assert (
        kubectl("delete", "namespace", "doomed", "--wait=false").stdout.strip()
        == 'namespace "doomed" deleted'
    )
    assert "Terminating" in kubectl("get", "namespace", "doomed").stdout
    refused = kubectl("create", "configmap", "late", "-n", "doomed", check=False)
    assert "unable to create new content in namespace doomed because it is being terminated" in refused.stderr
    # No namespace controller yet: finalize by hand, as it will.
    namespace = json_of(kubectl("get", "namespace", "doomed", "-o", "json"))
    namespace["spec"]["finalizers"] = []
    path = tmp_path / "finalize.json"
    path.write_text(json.dumps(namespace))
    kubectl("replace", "--raw", "/api/v1/namespaces/doomed/finalize", "-f", str(path))
    gone = kubectl("get", "namespace", "doomed", check=False)
    assert gone.returncode != 0 and 'namespaces "doomed" not found' in gone.stderr
    forbidden = kubectl("delete", "namespace", "kube-system", check=False)
    assert 'namespaces "kube-system" is forbidden: this namespace may not be deleted' in forbidden.stderr


# -- logs ---------------------------------------------------------------------------------


class _KubeletLogs(BaseHTTPRequestHandler):
    release: threading.Event
    paths: list[str]

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, line in enumerate((b"hello from the kubelet\n", b"and goodbye\n")):
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()
            if index == 0 and "follow=true" in self.path:
                self.release.wait(timeout=20)
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def fake_kubelet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, type[_KubeletLogs]]]:
    directory = tmp_path_factory.mktemp("kubelet")
    ca = pki.new_ca()
    serving = pki.issue_cert(
        ca=ca, common_name="kubelet", ip_addresses=["127.0.0.1"], server=True, client=False
    )
    pki.save_pair(serving, directory / "kubelet.crt", directory / "kubelet.key")

    class Handler(_KubeletLogs):
        release = threading.Event()
        paths: list[str] = []  # one server per module: one record of what it was asked

    handler = Handler
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(directory / "kubelet.crt"), str(directory / "kubelet.key"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        handler.release.set()
        server.shutdown()
        server.server_close()


def test_kubectl_logs_from_the_kubelet(
    apiserver: ApiserverProcess,
    kubectl: Kubectl,
    fake_kubelet: tuple[int, type[_KubeletLogs]],
    tmp_path: Path,
) -> None:
    port, handler = fake_kubelet
    make_node(apiserver, "n-logs", port=port)
    with apiserver.client() as client:
        assert client.post(PODS, json=pod("talker", node="n-logs")).status_code == 201
    out = kubectl("logs", "talker", "--tail=5").stdout
    assert out == "hello from the kubelet\nand goodbye\n"
    assert handler.paths[-1] == "/containerLogs/default/talker/c?tailLines=5"
    # -f: the first line arrives while the kubelet still holds the stream open.
    cmd = [
        str(BINARIES["kubectl"]),
        "--kubeconfig",
        str(apiserver.kubeconfig),
        "--cache-dir",
        str(tmp_path),
        "logs",
        "-f",
        "talker",
    ]
    follower = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == "hello from the kubelet\n"
        assert follower.poll() is None
        handler.release.set()
        rest, _ = follower.communicate(timeout=20)
        assert rest == "and goodbye\n"
    finally:
        if follower.poll() is None:
            follower.kill()


def test_kubectl_logs_when_no_kubelet_answers(apiserver: ApiserverProcess, kubectl: Kubectl) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    make_node(apiserver, "n-dead", port=closed)
    with apiserver.client() as client:
        assert client.post(PODS, json=pod("silent", node="n-dead")).status_code == 201
    result = kubectl("logs", "silent", check=False)
    assert result.returncode != 0
    assert f"dial tcp 127.0.0.1:{closed}: connect: connection refused" in result.stderr
    assert result.stderr.startswith("Error from server (ServiceUnavailable): Get "), result.stderr
