"""``kubectl auth can-i`` (and ``--list``) answers truthfully for every bootstrap identity,
with kubectl 1.27 (JSON reviews) and 1.33 (protobuf reviews)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.kubectl import kubectl_binaries

from .conftest import Cluster

pytestmark = pytest.mark.e2e

BINARIES = kubectl_binaries()
VERSIONS = ["kubectl.1.27", "kubectl.1.33"]

# identity -> [(can-i arguments, expected answer)]
EXPECTED: dict[str, list[tuple[list[str], bool]]] = {
    "admin": [(["create", "pods"], True), (["*", "*"], True), (["delete", "nodes"], True),
              (["get", "/metrics"], True)],
    "kube-scheduler": [(["create", "pods", "--subresource=binding"], True), (["list", "nodes"], True),
                       (["update", "pods", "--subresource=status"], True), (["get", "secrets"], False),
                       (["create", "pods"], False), (["update", "leases.coordination.k8s.io/kube-scheduler",
                                                       "-n", "kube-system"], True),
                       (["update", "leases.coordination.k8s.io/other", "-n", "kube-system"], False)],
    "kube-controller-manager": [(["watch", "deployments.apps"], True), (["list", "secrets", "-A"], True),
                                (["create", "serviceaccounts", "--subresource=token"], True),
                                (["create", "pods"], False), (["delete", "secrets"], True),
                                (["update", "deployments.apps"], False)],
    "node-n1": [(["list", "nodes"], True), (["create", "events"], True), (["get", "secrets"], False),
                (["list", "pods"], False), (["create", "pods", "--subresource=binding"], False),
                (["delete", "nodes"], False)],
    "robot": [(["list", "pods"], False), (["get", "/api"], True),
              (["create", "selfsubjectaccessreviews.authorization.k8s.io"], True), (["get", "/metrics"], False)],
}
LIST_MUST_SHOW = {
    "admin": "*.*",
    "kube-scheduler": "pods/binding",
    "kube-controller-manager": "*.*",
    "node-n1": "selfsubjectaccessreviews.authorization.k8s.io",
    "robot": "selfsubjectrulesreviews.authorization.k8s.io",
}


def kubeconfig(cluster: Cluster, identity: str) -> Path:
    if identity == "robot":
        return cluster.kubeconfig("robot", token=cluster.tokens["robot"])
    if identity == "anonymous":
        # A user entry with no credential makes kubectl prompt for a password; a basic-auth
        # username stops that, and the server ignores a scheme it does not speak.
        path = cluster.kubeconfig("anonymous")
        config = yaml.safe_load(path.read_text())
        config["users"][0]["user"] = {"username": "nobody", "password": "unused"}
        path.write_text(yaml.safe_dump(config))
        return path
    return cluster.kubeconfig(identity, identity=identity)


def run(binary: str, config: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BINARIES[binary]), "--kubeconfig", str(config), "--cache-dir", str(cache), "auth", "can-i", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, "KUBECONFIG": str(config)},
    )


@pytest.fixture(params=VERSIONS)
def binary(request: pytest.FixtureRequest) -> str:
    if request.param not in BINARIES:
        pytest.skip(f"{request.param} is not installed")
    return str(request.param)


@pytest.mark.parametrize("identity", list(EXPECTED))
def test_can_i(cluster: Cluster, binary: str, identity: str, tmp_path: Path) -> None:
    config = kubeconfig(cluster, identity)
    for args, allowed in EXPECTED[identity]:
        result = run(binary, config, tmp_path, *args)
        last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        answer = last.split(" - ")[0]  # kubectl appends the reason to a "no"
        assert answer == ("yes" if allowed else "no"), (identity, args, result.stdout, result.stderr)
        assert result.returncode == (0 if allowed else 1)


@pytest.mark.parametrize("identity", list(LIST_MUST_SHOW))
def test_can_i_list(cluster: Cluster, binary: str, identity: str, tmp_path: Path) -> None:
    result = run(binary, kubeconfig(cluster, identity), tmp_path, "--list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert any(line.startswith(LIST_MUST_SHOW[identity]) for line in lines), result.stdout
    if identity == "robot":
        assert not any(line.startswith("pods ") for line in lines)


def test_anonymous_may_not_even_ask(cluster: Cluster, binary: str, tmp_path: Path) -> None:
    result = run(binary, kubeconfig(cluster, "anonymous"), tmp_path, "get", "pods")
    assert result.returncode != 0
    assert "forbidden" in (result.stderr + result.stdout).lower()


def test_kubectl_create_token(cluster: Cluster, binary: str, tmp_path: Path) -> None:
    """``kubectl create token`` (a TokenRequest: JSON from 1.27, protobuf from 1.33) gives a
    token that authenticates as the service account."""
    config = kubeconfig(cluster, "admin")
    result = subprocess.run(
        [str(BINARIES[binary]), "--kubeconfig", str(config), "--cache-dir", str(tmp_path), "create", "token", "robot",
         "--duration", "15m"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    with cluster.client(token=token) as robot:
        review = robot.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json={"kind": "SelfSubjectReview"})
        assert review.status_code != 401
        r = robot.get("/api/v1/namespaces/default/pods")
        assert r.status_code == 403 and "system:serviceaccount:default:robot" in r.json()["message"]
