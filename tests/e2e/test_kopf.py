"""kopf, a Python operator framework we did not write, runs an example operator unmodified
against ``python -m apiserver``: it discovers the custom kind, watches it, creates an
owned Deployment, and records progress in the custom resource's status.

kopf exercises what operators need from an API server: legacy and aggregated
discovery, watches with ``allowWatchBookmarks``, merge patches of metadata and of the
``/status`` subresource, ownerReferences on the objects it creates.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.apiserver import REPO, ApiserverProcess, start_apiserver

pytestmark = pytest.mark.e2e

OPERATOR = REPO / "examples" / "operators" / "webapp"
WAIT = 30.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiserverProcess]:
    process = start_apiserver(tmp_path_factory.mktemp("kopf-apiserver") / "data")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def operator(server: ApiserverProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[str]]:
    crd = yaml.safe_load((OPERATOR / "crd.yaml").read_text())
    with server.client() as http:
        response = http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd)
        assert response.status_code == 201, response.text
        _until(lambda: http.get("/apis/demo.kubesim.io/v1/webapps").status_code == 200)
    log = tmp_path_factory.mktemp("kopf") / "kopf.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kopf", "run", "--standalone", "--all-namespaces", "--verbose",
             str(OPERATOR / "operator.py")],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "KUBECONFIG": str(server.kubeconfig)},
        )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.returncode not in (0, -signal.SIGINT, 130):
            print(log.read_text()[-5000:])


def _until(check: Callable[[], Any], *, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s")
        time.sleep(0.2)


def _get(server: ApiserverProcess, path: str) -> dict[str, Any] | None:
    with server.client() as http:
        response = http.get(path)
    return response.json() if response.status_code == 200 else None


def test_operator_creates_an_owned_deployment_and_updates_status(
    server: ApiserverProcess, operator: subprocess.Popen[str]
) -> None:
    webapp = {
        "apiVersion": "demo.kubesim.io/v1",
        "kind": "WebApp",
        "metadata": {"name": "shop"},
        "spec": {"image": "nginx:1.27", "replicas": 2},
    }
    with server.client() as http:
        created = http.post("/apis/demo.kubesim.io/v1/namespaces/default/webapps", json=webapp)
        assert created.status_code == 201, created.text
    uid = created.json()["metadata"]["uid"]

    deployment = _until(lambda: _get(server, "/apis/apps/v1/namespaces/default/deployments/shop"))
    owner = deployment["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == ("WebApp", "shop", uid, True)
    assert deployment["spec"]["replicas"] == 2

    def status() -> dict[str, Any] | None:
        obj = _get(server, "/apis/demo.kubesim.io/v1/namespaces/default/webapps/shop")
        return obj.get("status") if obj and (obj.get("status") or {}).get("phase") else None

    assert _until(status) == {"deployment": "shop", "phase": "Running"}
    assert operator.poll() is None, "the operator exited"


def test_operator_follows_spec_changes(server: ApiserverProcess, operator: subprocess.Popen[str]) -> None:
    _until(lambda: _get(server, "/apis/apps/v1/namespaces/default/deployments/shop"))
    with server.client() as http:
        patched = http.patch(
            "/apis/demo.kubesim.io/v1/namespaces/default/webapps/shop",
            content=b'{"spec":{"replicas":4}}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text

    def scaled() -> bool:
        deployment = _get(server, "/apis/apps/v1/namespaces/default/deployments/shop") or {}
        return (deployment.get("spec") or {}).get("replicas") == 4

    _until(scaled)
    obj = _get(server, "/apis/demo.kubesim.io/v1/namespaces/default/webapps/shop") or {}
    assert _until(lambda: (_get(server, "/apis/demo.kubesim.io/v1/namespaces/default/webapps/shop") or {})
                  .get("status", {}).get("phase") == "Updated")
    assert obj["metadata"]["generation"] == 2


def test_deleting_the_custom_resource_collects_the_deployment(
    server: ApiserverProcess, operator: subprocess.Popen[str], tmp_path: Path
) -> None:
    """With the garbage collector of ``python -m controller`` running, the Deployment kopf
    made goes with its WebApp, through the ownerReference kopf set."""
    _until(lambda: _get(server, "/apis/apps/v1/namespaces/default/deployments/shop"))
    with (tmp_path / "controller.log").open("w") as out:
        controller = subprocess.Popen([sys.executable, "-m", "controller", "--kubeconfig", str(server.kubeconfig)],
                                      cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.0)  # let it list everything once
        with server.client() as http:
            assert http.delete("/apis/demo.kubesim.io/v1/namespaces/default/webapps/shop").status_code == 200
        _until(lambda: _get(server, "/apis/apps/v1/namespaces/default/deployments/shop") is None)
    finally:
        controller.terminate()
        controller.wait(timeout=15)
