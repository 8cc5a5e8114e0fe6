"""A stand-in API server that records what the real kubectl sends.

The protobuf decoder must turn kubectl's protobuf bodies into exactly the JSON an older
kubectl sends for the same command. The only trustworthy source of both is kubectl
itself, so this server answers just enough discovery and GETs for kubectl to run its
``create`` subcommands, ``auth``, ``certificate``, ``debug``, ``autoscale`` and ``drain``,
and keeps every request it receives. Its answers echo the request (decoded with the
code under test when it is protobuf, only so that kubectl can finish the command; the
tests compare the recorded bytes, never these answers).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

from apiserver.protobuf import PROTOBUF, decode
from kube.errors import StatusError


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    method: str
    path: str
    content_type: str
    body: bytes


@dataclass(slots=True, kw_only=True)
class Recorder:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    deleted_pods: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def writes(self) -> list[Request]:
        """Requests that carried a body, in order (discovery GETs carry none)."""
        with self.lock:
            return [r for r in self.requests if r.body]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.deleted_pods.clear()


# group version → (resource, kind, namespaced, verbs): what the commands under test
# resolve through discovery.
_RW = ["create", "delete", "get", "list", "patch", "update", "watch"]
_RESOURCES: dict[str, list[tuple[str, str, bool, list[str]]]] = {
    "v1": [
        ("namespaces", "Namespace", False, _RW), ("configmaps", "ConfigMap", True, _RW),
        ("secrets", "Secret", True, _RW), ("serviceaccounts", "ServiceAccount", True, _RW),
        ("serviceaccounts/token", "TokenRequest", True, ["create"]), ("services", "Service", True, _RW),
        ("resourcequotas", "ResourceQuota", True, _RW), ("nodes", "Node", False, _RW),
        ("pods", "Pod", True, _RW), ("pods/eviction", "Eviction", True, ["create"]),
    ],
    "apps/v1": [
        ("deployments", "Deployment", True, _RW),
        ("deployments/scale", "Scale", True, ["get", "patch", "update"]),
    ],
    "batch/v1": [("jobs", "Job", True, _RW), ("cronjobs", "CronJob", True, _RW)],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True, _RW)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True, _RW)],
    "authorization.k8s.io/v1": [
        ("selfsubjectaccessreviews", "SelfSubjectAccessReview", False, ["create"]),
        ("selfsubjectrulesreviews", "SelfSubjectRulesReview", False, ["create"]),
    ],
    "authentication.k8s.io/v1": [("selfsubjectreviews", "SelfSubjectReview", False, ["create"])],
    "certificates.k8s.io/v1": [
        ("certificatesigningrequests", "CertificateSigningRequest", False, _RW),
        ("certificatesigningrequests/approval", "CertificateSigningRequest", False, ["get", "patch", "update"]),
    ],
    "rbac.authorization.k8s.io/v1": [
        ("roles", "Role", True, _RW), ("rolebindings", "RoleBinding", True, _RW),
        ("clusterroles", "ClusterRole", False, _RW), ("clusterrolebindings", "ClusterRoleBinding", False, _RW),
    ],
    "networking.k8s.io/v1": [("ingresses", "Ingress", True, _RW)],
    "scheduling.k8s.io/v1": [("priorityclasses", "PriorityClass", False, _RW)],
}


def _resource_list(group_version: str) -> dict[str, Any]:
    resources = []
    for name, kind, namespaced, verbs in _RESOURCES[group_version]:
        entry: dict[str, Any] = {
            "name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": verbs,
        }
        if name == "pods/eviction":  # drain looks for exactly this to choose eviction
            entry |= {"group": "policy", "version": "v1"}
        resources.append(entry)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}


def _group(group_version: str) -> dict[str, Any]:
    name, version = group_version.split("/")
    entry = {"groupVersion": group_version, "version": version}
    return {"name": name, "versions": [entry], "preferredVersion": entry}


_DISCOVERY: dict[str, Any] = {
    "/api": {
        "kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    },
    "/apis": {
        "kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(gv) for gv in _RESOURCES if "/" in gv],
    },
    "/api/v1": _resource_list("v1"),
    **{f"/apis/{gv}": _resource_list(gv) for gv in _RESOURCES if "/" in gv},
    "/version": {"major": "1", "minor": "33", "gitVersion": "v1.33.0", "platform": "linux/amd64"},
}

_UID = "0b7f6c1e-0000-4000-8000-00000000000"
NODE = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node1", "uid": _UID + "0"}, "spec": {},
        "status": {}}
POD = {
    "kind": "Pod", "apiVersion": "v1",
    "metadata": {"name": "p1", "namespace": "default", "uid": _UID + "1"},
    # securityContext {} as a real server defaults it: kubectl 1.33 debug dereferences it.
    "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "busybox"}], "securityContext": {}},
    "status": {"phase": "Running"},
}
_TEMPLATE = {
    "metadata": {"labels": {"app": "d"}},
    "spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "OnFailure"},
}
_OBJECTS: dict[str, Any] = {
    "/api/v1/nodes/node1": NODE,
    "/api/v1/namespaces/default/pods/p1": POD,
    "/apis/apps/v1/namespaces/default/deployments/d": {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": "d", "namespace": "default", "uid": _UID + "2"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}}, "template": _TEMPLATE},
    },
    "/apis/batch/v1/namespaces/default/cronjobs/cj": {
        "kind": "CronJob", "apiVersion": "batch/v1",
        "metadata": {"name": "cj", "namespace": "default", "uid": _UID + "3"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": _TEMPLATE}}},
    },
    "/apis/certificates.k8s.io/v1/certificatesigningrequests/csr1": {
        "kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1",
        "metadata": {"name": "csr1", "uid": _UID + "4", "resourceVersion": "7"},
        "spec": {"request": "aGVsbG8=", "signerName": "kubernetes.io/kube-apiserver-client",
                 "usages": ["client auth"], "username": "u", "groups": ["system:authenticated"],
                 "extra": {"scopes": ["a", "b"]}},
        "status": {},
    },
}

_NOT_FOUND = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}

# What a real server would add to a created object that kubectl reads before it exits.
_ANSWERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "SelfSubjectAccessReview": lambda o: o.update(status={"allowed": True}),
    "SelfSubjectRulesReview": lambda o: o.update(status={
        "resourceRules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}],
        "nonResourceRules": [], "incomplete": False,
    }),
    "TokenRequest": lambda o: o.update(status={"token": "t", "expirationTimestamp": "2030-01-01T00:00:00Z"}),
}


def _as_json(request: Request) -> dict[str, Any]:
    try:
        if request.content_type == PROTOBUF:
            return decode(request.body)
        value = orjson.loads(request.body)
        return value if isinstance(value, dict) else {}
    except (StatusError, orjson.JSONDecodeError):
        return {}


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # the stdlib's signature
            pass

        def _send(self, code: int, value: Any) -> None:
            data = b"" if value is None else orjson.dumps(value)
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> Request:
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command, path=self.path.split("?", 1)[0],
                content_type=self.headers.get("Content-Type", ""),
                body=self.rfile.read(length) if length else b"",
            )
            recorder.record(request)
            return request

        def do_GET(self) -> None:
            path = self._record().path
            if path in _DISCOVERY:
                self._send(200, _DISCOVERY[path])
            elif path == "/openapi/v2":
                self._send(200, None)
            elif path == "/api/v1/pods":
                items = [] if "p1" in recorder.deleted_pods else [POD]
                self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})
            elif path in _OBJECTS and not (path.endswith("/p1") and "p1" in recorder.deleted_pods):
                self._send(200, _OBJECTS[path])
            else:
                self._send(404, _NOT_FOUND | {"message": f"{path} not found"})

        def do_POST(self) -> None:
            request = self._record()
            if request.path.endswith("/pods/p1/eviction"):
                recorder.deleted_pods.add("p1")
                self._send(201, {"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201})
                return
            obj = _as_json(request)
            obj.setdefault("metadata", {}).setdefault("name", "x")
            _ANSWERS.get(obj.get("kind", ""), lambda o: None)(obj)
            self._send(201, obj)

        def do_PUT(self) -> None:
            self._send(200, _as_json(self._record()))

        def do_PATCH(self) -> None:
            path = self._record().path
            self._send(200, _OBJECTS.get(path.removesuffix("/scale"), NODE))

        def do_DELETE(self) -> None:
            self._record()
            recorder.deleted_pods.add("p1")
            self._send(200, POD)

    return Handler


def kubectl_binaries() -> dict[str, Path]:
    """The versioned kubectl binaries installed next to ``kubectl``, by minor version."""
    found = shutil.which("kubectl")
    if found is None:
        return {}
    folder = Path(os.path.realpath(found)).parent
    return {p.name.removeprefix("kubectl."): p for p in folder.glob("kubectl.1.*")}


@dataclass(frozen=True, slots=True, kw_only=True)
class Kubectl:
    """One versioned kubectl pointed at the recorder, with a private home and cache."""

    binary: Path
    server: str
    home: Path

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        kubeconfig = self.home / "kubeconfig"
        kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.home), "KUBECONFIG": str(kubeconfig)}
        return subprocess.run(
            [str(self.binary), f"--server={self.server}", "--cache-dir", str(self.home / "cache"), *args],
            env=env, capture_output=True, text=True, timeout=60, check=False, cwd=self.home,
        )


def serve() -> tuple[Recorder, Callable[[], None]]:
    """Starts the recording server on a free loopback port; returns it and its stop."""
    rec = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return rec, stop
