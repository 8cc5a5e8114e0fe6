"""The cluster PKI: every identity, the serving names, permissions and re-runs."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kube import clusterpki, pki


def subject(path: Path) -> tuple[str, list[str]]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return str(cn), [str(o) for o in orgs]


def usages(path: Path) -> list[x509.ObjectIdentifier]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_every_identity_and_file(tmp_path: Path) -> None:
    result = clusterpki.ensure_cluster_pki(tmp_path, hosts=["api.lab", "10.0.0.5"], nodes=["n1", "n2"],
                                           server="https://10.0.0.5:6443")
    assert subject(tmp_path / "admin.crt") == ("kubernetes-admin", ["system:masters"])
    assert subject(tmp_path / "kube-scheduler.crt") == ("system:kube-scheduler", [])
    assert subject(tmp_path / "kube-controller-manager.crt") == ("system:kube-controller-manager", [])
    assert subject(tmp_path / "nodes" / "n1" / "kubelet-client.crt") == ("system:node:n1", ["system:nodes"])
    assert usages(tmp_path / "nodes" / "n1" / "kubelet-client.crt") == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert usages(tmp_path / "nodes" / "n2" / "kubelet.crt") == [ExtendedKeyUsageOID.SERVER_AUTH]
    dns, ips = pki.cert_sans(x509.load_pem_x509_certificate((tmp_path / "apiserver.crt").read_bytes()))
    for name in ("localhost", "kubernetes", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "api.lab"):
        assert name in dns
    for ip in ("127.0.0.1", "10.96.0.1", "10.0.0.5"):
        assert ipaddress.ip_address(ip) in ips
    for key in [*tmp_path.glob("*.key"), *tmp_path.glob("nodes/*/*.key"), *tmp_path.glob("kubeconfigs/*")]:
        assert os.stat(key).st_mode & 0o777 == 0o600, key
    assert (tmp_path / "sa.key").exists() and (tmp_path / "sa.pub").exists()
    names = sorted(p.name for p in (tmp_path / "kubeconfigs").iterdir())
    assert names == ["admin.kubeconfig", "kube-controller-manager.kubeconfig", "kube-scheduler.kubeconfig",
                     "node-n1.kubeconfig", "node-n2.kubeconfig"]
    config = yaml.safe_load((tmp_path / "kubeconfigs" / "node-n1.kubeconfig").read_text())
    assert config["clusters"][0]["cluster"]["server"] == "https://10.0.0.5:6443"
    assert config["users"][0]["name"] == "system:node:n1"
    assert [i.user for i in result.clients][:3] == ["kubernetes-admin", "system:kube-scheduler",
                                                     "system:kube-controller-manager"]


def test_rerun_keeps_keys_and_adds_nodes(tmp_path: Path) -> None:
    clusterpki.ensure_cluster_pki(tmp_path, nodes=["n1"])
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.key")}
    clusterpki.ensure_cluster_pki(tmp_path, nodes=["n1", "n2"])
    assert all(p.read_bytes() == data for p, data in before.items())
    assert (tmp_path / "nodes" / "n2" / "kubelet-client.key").exists()


def test_new_serving_names_need_force(tmp_path: Path) -> None:
    clusterpki.ensure_cluster_pki(tmp_path)
    ca = (tmp_path / "ca.key").read_bytes()
    with pytest.raises(pki.PkiError, match=re.escape("does not cover extra.name")):
        clusterpki.ensure_cluster_pki(tmp_path, hosts=["extra.name"])
    clusterpki.ensure_cluster_pki(tmp_path, hosts=["extra.name"], force=True)
    assert (tmp_path / "ca.key").read_bytes() != ca
    other = tmp_path / "mine.txt"
    other.write_text("not ours")
    clusterpki.ensure_cluster_pki(tmp_path, force=True)
    assert other.read_text() == "not ours"
