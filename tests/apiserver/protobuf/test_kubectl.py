"""The decoder against the real kubectl: protobuf from 1.32+ must read as 1.31's JSON.

Each command runs twice against the recording server of ``conftest.py``: once with a
kubectl that sends protobuf, once with the newest kubectl that still sends JSON for
the same objects. Decoding the first must give the second exactly. The commands the
API server core relies on are also checked against kubectl 1.27, the oldest we support.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from apiserver.protobuf import PROTOBUF, decode
from tests.apiserver.protobuf.recording import Kubectl, Recorder, kubectl_binaries

pytestmark = pytest.mark.e2e

JSON_ORACLE = "1.31"
OLDEST = "1.27"
PROTOBUF_VERSIONS = ["1.32", "1.33"]

# id → kubectl arguments; ``{files}`` is a folder with bin.dat, t.txt, tls.crt, tls.key.
COMMANDS: dict[str, list[str]] = {
    "create namespace": ["create", "namespace", "x"],
    "create configmap": ["create", "configmap", "c", "--from-literal=a=b"],
    "create configmap binary": [
        "create", "configmap", "bin", "--from-file={files}/bin.dat", "--from-file={files}/t.txt", "--from-literal=a=b",
    ],
    "create deployment": [
        "create", "deployment", "d", "--image=nginx:1.25", "--replicas=2", "--port=80", "--", "sleep", "1",
    ],
    "create deployment two images": ["create", "deployment", "d2", "--image=nginx:1.25", "--image=busybox"],
    "create deployment zero replicas": ["create", "deployment", "d0", "--image=nginx", "--replicas=0"],
    "auth can-i": ["auth", "can-i", "get", "pods"],
    "auth can-i subresource": [
        "auth", "can-i", "create", "deployments.apps", "--subresource=scale", "-n", "kube-system",
    ],
    "auth can-i non-resource": ["auth", "can-i", "get", "/logs"],
    "auth can-i --list": ["auth", "can-i", "--list"],
    "auth can-i --list namespace": ["auth", "can-i", "--list", "-n", "other"],
    "drain --disable-eviction": [
        "drain", "node1", "--disable-eviction", "--force", "--grace-period=5", "--timeout=20s",
    ],
    "drain --disable-eviction default grace": ["drain", "node1", "--disable-eviction", "--force", "--timeout=20s"],
    "auth whoami": ["auth", "whoami"],
    "create secret generic": [
        "create", "secret", "generic", "s", "--from-literal=a=b", "--from-file={files}/bin.dat", "--type=Opaque",
    ],
    "create secret docker-registry": [
        "create", "secret", "docker-registry", "dr", "--docker-username=u", "--docker-password=p",
        "--docker-server=registry.example",
    ],
    "create secret tls": ["create", "secret", "tls", "t", "--cert={files}/tls.crt", "--key={files}/tls.key"],
    "create service clusterip": ["create", "service", "clusterip", "svc", "--tcp=80:8080", "--tcp=443"],
    "create service headless": ["create", "service", "clusterip", "hl", "--clusterip=None"],
    "create service nodeport": ["create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"],
    "create service loadbalancer": ["create", "service", "loadbalancer", "lb", "--tcp=80:http"],
    "create service externalname": ["create", "service", "externalname", "en", "--external-name=x.example"],
    "create serviceaccount": ["create", "serviceaccount", "sa"],
    "create token": ["create", "token", "sa", "--audience=a", "--audience=b", "--duration=1h"],
    "create quota": ["create", "quota", "q", "--hard=cpu=1,pods=2,memory=1Gi", "--scopes=BestEffort"],
    "create priorityclass": [
        "create", "priorityclass", "pc", "--value=1000", "--description=d", "--preemption-policy=Never",
    ],
    "create pdb min-available": ["create", "poddisruptionbudget", "pdb", "--selector=app=x", "--min-available=1"],
    "create pdb max-unavailable": [
        "create", "poddisruptionbudget", "pdb2", "--selector=app=x", "--max-unavailable=50%",
    ],
    "create role": [
        "create", "role", "r", "--verb=get,list", "--resource=pods,deployments.apps", "--resource-name=a",
    ],
    "create clusterrole": ["create", "clusterrole", "cr", "--verb=get", "--non-resource-url=/logs"],
    "create clusterrole aggregated": ["create", "clusterrole", "agg", "--aggregation-rule=a=b"],
    "create rolebinding": [
        "create", "rolebinding", "rb", "--role=r", "--user=u", "--group=g", "--serviceaccount=default:sa",
    ],
    "create clusterrolebinding": ["create", "clusterrolebinding", "crb", "--clusterrole=cr", "--user=u"],
    "create job": ["create", "job", "j", "--image=busybox", "--", "echo", "hi"],
    "create job from cronjob": ["create", "job", "j2", "--from=cronjob/cj"],
    "create cronjob": [
        "create", "cronjob", "cj", "--image=busybox", "--schedule=*/1 * * * *", "--restart=OnFailure", "--", "date",
    ],
    "create ingress": [
        "create", "ingress", "ing", "--rule=foo.example/bar=svc1:8080", "--rule=bar.example/*=svc2:http,tls=cert",
        "--class=nginx", "--annotation=a=b", "--default-backend=defsvc:80",
    ],
    "certificate approve": ["certificate", "approve", "csr1"],
    "certificate deny": ["certificate", "deny", "csr1"],
    "debug node": ["debug", "node/node1", "--image=busybox", "--profile=general"],
    "debug copy-to": ["debug", "p1", "--image=busybox", "--copy-to=p2", "--container=dbg", "--profile=general"],
    "autoscale": ["autoscale", "deployment", "d", "--min=2", "--max=3", "--cpu-percent=80"],
}
# kubectl 1.33 autoscale sends autoscaling/v2, which no JSON-sending kubectl does: there
# the oracle is the same kubectl printing the object it builds (--dry-run=client -o json).
PRINTED_ORACLE = {("autoscale", "1.33")}
# The commands the API server core depends on, also checked against the oldest kubectl.
CORE_COMMANDS = [
    "create namespace", "create configmap", "create deployment", "auth can-i", "auth can-i --list",
    "drain --disable-eviction",
]


if not {JSON_ORACLE, *PROTOBUF_VERSIONS} <= kubectl_binaries().keys():
    pytest.skip("needs kubectl 1.31, 1.32 and 1.33 next to kubectl", allow_module_level=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("files")
    (folder / "bin.dat").write_bytes(b"hello\xff\xfe\x00bin")  # not UTF-8: goes to binaryData
    (folder / "t.txt").write_text("text-value")
    cert, key = _self_signed()
    (folder / "tls.crt").write_bytes(cert)
    (folder / "tls.key").write_bytes(key)
    return folder


def _self_signed() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


Sent = list[tuple[str, str, str, bytes]]


class Runner:
    """Runs a command with one kubectl version and keeps the (method, path, content type,
    body) of every request with a body, cached: one JSON run serves several versions."""

    def __init__(self, *, recorder: Recorder, kubectl: Callable[[str], Kubectl], files: Path) -> None:
        self._recorder, self._kubectl, self._files = recorder, kubectl, files
        self._clients: dict[str, Kubectl] = {}
        self._cache: dict[tuple[str, str], Sent] = {}

    def _run(self, version: str, args: list[str]) -> str:
        if version not in self._clients:
            self._clients[version] = self._kubectl(version)
        args = [a.replace("{files}", str(self._files)) for a in args]
        self._recorder.clear()
        result = self._clients[version](*args)
        assert result.returncode == 0, f"kubectl {version} {' '.join(args)}: {result.stderr}"
        stdout: str = result.stdout
        return stdout

    def sent(self, version: str, command: str) -> Sent:
        if (version, command) not in self._cache:
            self._run(version, COMMANDS[command])
            self._cache[version, command] = [
                (r.method, r.path, r.content_type, r.body) for r in self._recorder.writes()
                if not r.content_type.endswith("patch+json")  # drain's cordon: JSON in every version
            ]
        return self._cache[version, command]

    def printed(self, version: str, command: str) -> Any:
        return orjson.loads(self._run(version, [*COMMANDS[command], "--dry-run=client", "-o", "json"]))


@pytest.fixture(scope="module")
def run(recorder: Recorder, kubectl: Callable[[str], Kubectl], files: Path) -> Iterator[Runner]:
    yield Runner(recorder=recorder, kubectl=kubectl, files=files)


def _normalized(obj: dict[str, Any]) -> dict[str, Any]:
    """Blanks what differs between two runs of one command: random names, clock times."""
    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and key in ("lastUpdateTime", "lastTransitionTime"):
            return "<time>"
        if isinstance(value, str) and key == "name" and value.startswith(("node-debugger-", "debugger-")):
            return "<random>"
        return value

    result: dict[str, Any] = walk(obj)
    return result


@pytest.mark.parametrize("version", PROTOBUF_VERSIONS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_protobuf_body_decodes_to_the_json_of_an_older_kubectl(run: Runner, version: str, command: str) -> None:
    sent = run.sent(version, command)
    assert any(ct == PROTOBUF for _, _, ct, _ in sent), f"kubectl {version} sent no protobuf for {command}"
    decoded = [decode(body) if ct == PROTOBUF else orjson.loads(body) for _, _, ct, body in sent]
    if (command, version) in PRINTED_ORACLE:
        expected = [run.printed(version, command)]
    else:
        oracle = run.sent(JSON_ORACLE, command)
        assert [(m, p) for m, p, _, _ in sent] == [(m, p) for m, p, _, _ in oracle]
        assert all(ct.startswith("application/json") for _, _, ct, _ in oracle)
        expected = [orjson.loads(body) for _, _, _, body in oracle]
    assert [_normalized(d) for d in decoded] == [_normalized(e) for e in expected]


@pytest.mark.parametrize("command", CORE_COMMANDS)
def test_protobuf_body_decodes_to_the_json_of_kubectl_1_27(run: Runner, command: str) -> None:
    if OLDEST not in kubectl_binaries():
        pytest.skip(f"kubectl.{OLDEST} is not installed")
    sent, oracle = run.sent("1.33", command), run.sent(OLDEST, command)
    assert [decode(body) for _, _, _, body in sent] == [orjson.loads(body) for _, _, _, body in oracle]


def test_decoded_times_are_the_clock_time_kubectl_sent(run: Runner) -> None:
    # certificate approve stamps its condition with the current time: a real Time value.
    (_, _, _, body), = run.sent("1.33", "certificate approve")
    condition = decode(body)["status"]["conditions"][0]
    stamp = datetime.datetime.strptime(condition["lastUpdateTime"], "%Y-%m-%dT%H:%M:%SZ")
    age = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - stamp
    assert datetime.timedelta(0) <= age < datetime.timedelta(minutes=5)
