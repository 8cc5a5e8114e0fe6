"""Kubeconfig files, checked against the real kubectl in both directions."""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from kube import pki
from kube.kubeconfig import KubeconfigError, load_kubeconfig, write_kubeconfig

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")


@pytest.fixture(scope="module")
def creds() -> tuple[bytes, bytes, bytes]:
    ca = pki.new_ca()
    admin = pki.issue_cert(ca=ca, common_name="jane", organizations=["dev"], server=False, client=True)
    return ca.cert_pem(), admin.cert_pem(), admin.key_pem()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def _kubectl(*args: str, cwd: Path | None = None) -> str:
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=30, cwd=cwd, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_written_file_is_private_and_loads_back(tmp_path: Path, creds: tuple[bytes, bytes, bytes]) -> None:
    ca, cert, key = creds
    path = tmp_path / "admin.kubeconfig"
    write_kubeconfig(
        path,
        server="https://127.0.0.1:6443/",
        ca_cert_pem=ca,
        client_cert_pem=cert,
        client_key_pem=key,
        user="jane",
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = yaml.safe_load(path.read_text())
    assert doc["current-context"] == "kubesim"
    assert base64.b64decode(doc["users"][0]["user"]["client-key-data"]) == key

    cfg = load_kubeconfig(path)
    assert (cfg.server, cfg.context, cfg.cluster, cfg.user, cfg.namespace) == (
        "https://127.0.0.1:6443",
        "kubesim",
        "kubesim",
        "jane",
        "default",
    )
    assert (cfg.ca_cert_pem, cfg.client_cert_pem, cfg.client_key_pem, cfg.token) == (ca, cert, key, None)
    ctx = cfg.ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2


def test_token_only_user(tmp_path: Path, creds: tuple[bytes, bytes, bytes]) -> None:
    path = tmp_path / "kc"
    write_kubeconfig(
        path,
        server="https://h:1",
        ca_cert_pem=creds[0],
        client_cert_pem=None,
        client_key_pem=None,
        token="abc",
        user="bot",
    )
    cfg = load_kubeconfig(path)
    assert cfg.token == "abc" and cfg.client_cert_pem is None
    with pytest.raises(ValueError, match="go together"):
        write_kubeconfig(
            path, server="https://h:1", ca_cert_pem=b"", client_cert_pem=b"x", client_key_pem=None, user="u"
        )


@needs_kubectl
def test_kubectl_reads_what_we_write(tmp_path: Path, creds: tuple[bytes, bytes, bytes]) -> None:
    ca, cert, key = creds
    path = tmp_path / "kc"
    write_kubeconfig(
        path,
        server="https://127.0.0.1:1",
        ca_cert_pem=ca,
        client_cert_pem=cert,
        client_key_pem=key,
        user="jane",
    )
    assert _kubectl("--kubeconfig", str(path), "config", "current-context").strip() == "kubesim"
    raw = yaml.safe_load(_kubectl("--kubeconfig", str(path), "config", "view", "--raw"))
    assert raw["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:1"
    assert base64.b64decode(raw["users"][0]["user"]["client-certificate-data"]) == cert
    assert raw["contexts"][0]["context"] == {"cluster": "kubesim", "user": "jane"}


@needs_kubectl
def test_we_read_what_kubectl_writes(tmp_path: Path, creds: tuple[bytes, bytes, bytes]) -> None:
    ca, cert, key = creds
    (tmp_path / "certs").mkdir()
    for name, data in (("ca.crt", ca), ("jane.crt", cert), ("jane.key", key)):
        (tmp_path / "certs" / name).write_bytes(data)
    kc = str(tmp_path / "kc")
    _kubectl("--kubeconfig", kc, "config", "set-cluster", "lab", "--server=https://10.0.0.1:6443",
             "--certificate-authority=certs/ca.crt", cwd=tmp_path)  # fmt: skip
    _kubectl("--kubeconfig", kc, "config", "set-credentials", "jane", f"--client-certificate={tmp_path}/certs/jane.crt",
             f"--client-key={tmp_path}/certs/jane.key")  # fmt: skip
    _kubectl(
        "--kubeconfig", kc, "config", "set-context", "lab", "--cluster=lab", "--user=jane", "--namespace=team"
    )
    _kubectl("--kubeconfig", kc, "config", "use-context", "lab")
    cfg = load_kubeconfig(kc)
    assert (cfg.server, cfg.namespace, cfg.user) == ("https://10.0.0.1:6443", "team", "jane")
    assert (cfg.ca_cert_pem, cfg.client_cert_pem, cfg.client_key_pem) == (ca, cert, key)


def _write_yaml(path: Path, doc: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def _cluster(name: str, server: str, **extra: object) -> dict[str, object]:
    return {"name": name, "cluster": {"server": server, **extra}}


def test_kubeconfig_env_list_merges_like_kubectl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, creds: tuple[bytes, bytes, bytes]
) -> None:
    (tmp_path / "token").write_text("from-file\n")
    (tmp_path / "ca.crt").write_bytes(creds[0])
    first = _write_yaml(
        tmp_path / "first",
        {
            "clusters": [_cluster("c", "https://first:1", **{"insecure-skip-tls-verify": True})],
            # Relative paths are relative to the kubeconfig that names them, not to our cwd.
            "users": [{"name": "u", "user": {"tokenFile": "token", "client-certificate": "ca.crt"}}],
            "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
        },
    )
    second = _write_yaml(
        tmp_path / "second",
        {
            "clusters": [_cluster("c", "https://second:1"), _cluster("d", "https://d:1")],
            "users": [{"name": "u", "user": {"token": "ignored: first file wins"}}],
            "contexts": [
                {"name": "a", "context": {"cluster": "d", "user": "u"}},
                {"name": "b", "context": {"cluster": "d", "user": "nobody"}},
            ],
            "current-context": "a",
        },
    )
    missing = tmp_path / "does-not-exist"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(missing), str(first), "", str(second)]))
    cfg = load_kubeconfig()
    assert (cfg.context, cfg.server, cfg.token) == ("a", "https://first:1", "from-file")
    assert cfg.client_cert_pem == creds[0]
    assert cfg.insecure_skip_tls_verify
    ctx = cfg.ssl_context()
    assert ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname

    other = load_kubeconfig(context="b")
    assert (other.server, other.user, other.token) == ("https://d:1", "nobody", None)


def test_clear_errors(tmp_path: Path, no_env: None) -> None:
    with pytest.raises(KubeconfigError, match=r"cannot read kubeconfig .*home/\.kube/config"):
        load_kubeconfig()
    path = _write_yaml(
        tmp_path / "kc",
        {
            "clusters": [_cluster("c", "https://h:1")],
            "users": [{"name": "gke", "user": {"exec": {"command": "gke-gcloud-auth-plugin"}}}],
            "contexts": [
                {"name": "gke", "context": {"cluster": "c", "user": "gke"}},
                {"name": "lost", "context": {"cluster": "gone", "user": "gke"}},
            ],
        },
    )
    with pytest.raises(KubeconfigError, match="no current-context"):
        load_kubeconfig(path)
    with pytest.raises(KubeconfigError, match='context "nope" not found'):
        load_kubeconfig(path, context="nope")
    with pytest.raises(KubeconfigError, match='cluster "gone" not found'):
        load_kubeconfig(path, context="lost")
    with pytest.raises(KubeconfigError, match="exec credentials are not supported"):
        load_kubeconfig(path, context="gke")
    (tmp_path / "bad").write_text("clusters: [\n")
    with pytest.raises(KubeconfigError, match="not valid YAML"):
        load_kubeconfig(tmp_path / "bad")
