"""CustomResourceDefinitions driven by the real kubectl (the dispatcher and 1.27).

A CRD applied through kubectl is served within a second, without restarting anything:
kubectl finds the new kind through discovery, prints its printer columns (and the
priority ones with ``-o wide``), explains it from ``/openapi/v3``, scales it through
``/scale``, shows every schema violation, and forgets it once the CRD is deleted —
together with its objects.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.support.apiserver import ApiserverProcess, start_apiserver
from tests.support.kubectl import kubectl_binaries

pytestmark = pytest.mark.e2e

BINARIES = kubectl_binaries()
if "kubectl" not in BINARIES:
    pytest.skip("kubectl is not installed", allow_module_level=True)

Kubectl = Callable[..., subprocess.CompletedProcess[str]]

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd], categories: [all]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: string, jsonPath: .spec.size}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Phase, type: string, jsonPath: .status.phase, priority: 1}
    schema:
      openAPIV3Schema:
        type: object
        description: A Gadget is a small mechanical device.
        properties:
          spec:
            type: object
            description: The desired gadget.
            required: [size]
            x-kubernetes-validations:
            - {rule: "self.replicas <= self.maxReplicas", message: replicas must not exceed maxReplicas}
            properties:
              size: {type: string, enum: [small, large], description: How big the gadget is.}
              replicas: {type: integer, minimum: 0, maximum: 10, default: 1}
              maxReplicas: {type: integer, default: 5}
          status:
            type: object
            properties:
              replicas: {type: integer}
              phase: {type: string}
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"""

GADGET = """\
apiVersion: example.com/v1
kind: Gadget
metadata:
  name: {name}
spec:
  size: {size}
  replicas: {replicas}
"""


def _runner(server: ApiserverProcess, cache: Path, binary: str) -> Kubectl:
    def run(*args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [str(BINARIES[binary]), "--kubeconfig", str(server.kubeconfig), "--cache-dir", str(cache), *args]
        result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr}{result.stdout}")
        return result

    return run


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> ApiserverProcess:
    process = start_apiserver(tmp_path_factory.mktemp("crd-apiserver") / "data")
    yield process  # type: ignore[misc]
    process.stop()


@pytest.fixture(scope="module")
def kubectl(server: ApiserverProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return _runner(server, tmp_path_factory.mktemp("kubectl-cache"), "kubectl")


@pytest.fixture(scope="module")
def crd(kubectl: Kubectl) -> None:
    started = time.monotonic()
    kubectl("apply", "-f", "-", stdin=CRD)
    kubectl("wait", "--for", "condition=Established", "crd/gadgets.example.com", "--timeout=10s")
    assert time.monotonic() - started < 5
    kubectl("apply", "-f", "-", stdin=GADGET.format(name="g1", size="small", replicas=2))


def _rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def test_crd_is_served_and_reports_conditions(kubectl: Kubectl, crd: None) -> None:
    status = orjson.loads(kubectl("get", "crd", "gadgets.example.com", "-o", "json").stdout)["status"]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions == {"NamesAccepted": ("True", "NoConflicts"), "Established": ("True", "InitialNamesAccepted")}
    assert status["acceptedNames"]["shortNames"] == ["gd"]
    assert status["storedVersions"] == ["v1"]
    resources = kubectl("api-resources", "--api-group=example.com").stdout
    assert "gadgets" in resources and "gd" in resources and "Gadget" in resources


def test_get_prints_columns_and_wide_columns(kubectl: Kubectl, crd: None) -> None:
    rows = _rows(kubectl("get", "gadgets").stdout)
    # Columns are exactly the CRD's: no AGE unless the CRD lists it (as in Kubernetes).
    assert rows[0] == ["NAME", "SIZE", "REPLICAS"]
    assert rows[1][:3] == ["g1", "small", "2"]
    kubectl("patch", "gd", "g1", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Ready"}}')
    wide = _rows(kubectl("get", "gd", "-o", "wide").stdout)
    assert wide[0] == ["NAME", "SIZE", "REPLICAS", "PHASE"]
    assert wide[1][:4] == ["g1", "small", "2", "Ready"]
    assert "gadget.example.com/g1" in kubectl("get", "all").stdout


def test_defaults_and_other_version(kubectl: Kubectl, crd: None) -> None:
    obj = orjson.loads(kubectl("get", "gadgets.v1beta1.example.com", "g1", "-o", "json").stdout)
    assert obj["apiVersion"] == "example.com/v1beta1"
    assert obj["spec"]["maxReplicas"] == 5


def test_explain_uses_the_schema(kubectl: Kubectl, crd: None) -> None:
    out = kubectl("explain", "gadget.spec").stdout
    assert "The desired gadget." in out
    assert "How big the gadget is." in out


def test_scale(kubectl: Kubectl, crd: None) -> None:
    kubectl("scale", "gadget", "g1", "--replicas=4")
    obj = orjson.loads(kubectl("get", "gd", "g1", "-o", "json").stdout)
    assert obj["spec"]["replicas"] == 4
    out = kubectl("scale", "gadget", "g1", "--replicas=11", check=False)
    assert out.returncode != 0
    assert "should be less than or equal to 10" in out.stderr


def test_apply_again_uses_a_merge_patch(kubectl: Kubectl, crd: None) -> None:
    kubectl("apply", "-f", "-", stdin=GADGET.format(name="g2", size="small", replicas=1))
    kubectl("apply", "-f", "-", stdin=GADGET.format(name="g2", size="large", replicas=3))
    obj = orjson.loads(kubectl("get", "gd", "g2", "-o", "json").stdout)
    assert (obj["spec"]["size"], obj["spec"]["replicas"], obj["metadata"]["generation"]) == ("large", 3, 2)
    out = kubectl("patch", "gd", "g2", "--type=strategic", "-p", '{"spec":{"replicas":2}}', check=False)
    assert out.returncode != 0
    assert "not supported" in out.stderr


def test_server_side_apply(kubectl: Kubectl, crd: None) -> None:
    kubectl("apply", "--server-side", "--field-manager=ssa", "-f", "-",
            stdin=GADGET.format(name="g3", size="small", replicas=1))
    obj = orjson.loads(kubectl("get", "gd", "g3", "-o", "json", "--show-managed-fields").stdout)
    assert any(m["manager"] == "ssa" and m["operation"] == "Apply" for m in obj["metadata"]["managedFields"])


def test_invalid_objects_list_every_cause(kubectl: Kubectl, crd: None) -> None:
    bad = GADGET.format(name="bad", size="huge", replicas=12) + "  color: red\n"
    out = kubectl("apply", "-f", "-", stdin=bad, check=False)
    assert out.returncode != 0
    assert 'unknown field "spec.color"' in out.stderr
    assert 'spec.replicas: Invalid value: "integer": spec.replicas in body should be less than or equal to 10' in out.stderr
    assert 'spec.size: Unsupported value: "huge": supported values: "small", "large"' in out.stderr
    assert 'spec: Invalid value: "object": replicas must not exceed maxReplicas' in out.stderr
    assert kubectl("get", "gd", "bad", check=False).returncode != 0


def test_invalid_crd_is_refused_with_the_field(kubectl: Kubectl, crd: None) -> None:
    broken = CRD.replace("gadgets", "gizmos").replace("Gadget", "Gizmo").replace("[gd]", "[gz]").replace(
        "self.replicas <= self.maxReplicas", "self.replicas <="
    )
    out = kubectl("apply", "-f", "-", stdin=broken, check=False)
    assert out.returncode != 0
    assert ("spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: "
            "Invalid value: ") in out.stderr
    assert "compilation failed" in out.stderr
    assert kubectl("get", "crd", "gizmos.example.com", check=False).returncode != 0


def test_kubectl_1_27(server: ApiserverProcess, crd: None, tmp_path: Path) -> None:
    if "kubectl.1.27" not in BINARIES:
        pytest.skip("kubectl 1.27 is not installed")
    old = _runner(server, tmp_path, "kubectl.1.27")
    rows = _rows(old("get", "gd", "-o", "wide").stdout)
    assert rows[0][:4] == ["NAME", "SIZE", "REPLICAS", "PHASE"]
    old("scale", "gd", "g1", "--replicas=2")
    assert "Gadget" in old("explain", "gd").stdout


def test_delete_removes_endpoints_and_objects(server: ApiserverProcess, kubectl: Kubectl, crd: None,
                                              tmp_path: Path) -> None:
    kubectl("delete", "crd", "gadgets.example.com", "--timeout=30s")
    fresh = _runner(server, tmp_path, "kubectl")
    out = fresh("get", "gadgets", check=False)
    assert out.returncode != 0 and "gadgets" in out.stderr
    with server.client() as http:
        assert http.get("/apis/example.com/v1/gadgets").status_code == 404
    # A new CRD of the same name starts empty: the old objects went with the old CRD.
    kubectl("apply", "-f", "-", stdin=CRD)
    kubectl("wait", "--for", "condition=Established", "crd/gadgets.example.com", "--timeout=10s")
    assert "No resources found" in fresh("get", "gadgets", "-A").stderr
