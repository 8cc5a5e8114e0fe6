"""The cluster PKI: certificates are checked with cryptography's RFC 5280 verifier, the
same strictness Go applies in kubectl, and files are checked byte for byte."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from kube import pki


@pytest.fixture(scope="module")
def ca() -> pki.KeyPair:
    return pki.new_ca()


def _server_verify(ca: pki.KeyPair, leaf: x509.Certificate, name: x509.DNSName | x509.IPAddress) -> None:
    PolicyBuilder().store(Store([ca.cert])).build_server_verifier(name).verify(leaf, [])


def _client_verify(ca: pki.KeyPair, leaf: x509.Certificate) -> None:
    # The web PKI profile wants a SAN on client certificates too; Kubernetes users have none.
    ee = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )
    builder = (
        PolicyBuilder()
        .store(Store([ca.cert]))
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee)
    )
    builder.build_client_verifier().verify(leaf, [])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ca_may_sign_certificates_and_nothing_else(ca: pki.KeyPair) -> None:
    cert = ca.cert
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kubesim-ca"
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey) and ca.key.curve.name == "secp256r1"
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime == dt.timedelta(days=3650)
    cert.verify_directly_issued_by(cert)


def test_each_certificate_verifies_for_its_usage_only(ca: pki.KeyPair) -> None:
    server = pki.issue_cert(
        ca=ca,
        common_name="kube-apiserver",
        dns_names=["kubernetes.default.svc"],
        ip_addresses=["127.0.0.1"],
        server=True,
        client=False,
    )
    _server_verify(ca, server.cert, x509.DNSName("kubernetes.default.svc"))
    _server_verify(ca, server.cert, x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    with pytest.raises(VerificationError):
        _server_verify(ca, server.cert, x509.DNSName("elsewhere.example"))
    with pytest.raises(VerificationError):
        _client_verify(ca, server.cert)

    client = pki.issue_cert(
        ca=ca, common_name="jane", organizations=["dev", "ops"], server=False, client=True
    )
    _client_verify(ca, client.cert)
    with pytest.raises(VerificationError):
        _server_verify(ca, client.cert, x509.DNSName("jane"))
    orgs = [a.value for a in client.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert orgs == ["dev", "ops"]

    both = pki.issue_cert(ca=ca, common_name="kubelet", dns_names=["n1"], server=True, client=True)
    eku = both.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


def test_issue_cert_refuses_certificates_nobody_could_use(ca: pki.KeyPair) -> None:
    with pytest.raises(ValueError, match="server auth, client auth"):
        pki.issue_cert(ca=ca, common_name="x", server=False, client=False)
    with pytest.raises(ValueError, match="common_name"):
        pki.issue_cert(ca=ca, common_name="", server=False, client=True)
    # Go rejects a whole certificate over one malformed dNSName, so we never write one.
    with pytest.raises(ValueError, match="invalid DNS name"):
        pki.issue_cert(ca=ca, common_name="x", dns_names=["bad_name"], server=True, client=False)


def test_validity_window_and_a_leaf_never_outlives_its_ca() -> None:
    short_ca = pki.new_ca(days=30)
    leaf = pki.issue_cert(ca=short_ca, common_name="x", server=False, client=True, days=365)
    assert leaf.cert.not_valid_after_utc == short_ca.cert.not_valid_after_utc
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    old = pki.issue_cert(ca=short_ca, common_name="x", server=False, client=True, days=2, not_before=start)
    assert (old.cert.not_valid_before_utc, old.cert.not_valid_after_utc) == (
        start,
        start + dt.timedelta(days=2),
    )


def test_save_and_load_pair(tmp_path: Path, ca: pki.KeyPair) -> None:
    pair = pki.issue_cert(ca=ca, common_name="x", server=False, client=True)
    crt, key = tmp_path / "sub" / "x.crt", tmp_path / "sub" / "x.key"
    pki.save_pair(pair, crt, key)
    assert _mode(key) == 0o600 and _mode(crt) == 0o644
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert sorted(p.name for p in crt.parent.iterdir()) == ["x.crt", "x.key"]  # no temporary files left
    loaded = pki.load_pair(crt, key)
    assert loaded.cert == pair.cert and loaded.key_pem() == pair.key_pem()

    other = pki.issue_cert(ca=ca, common_name="y", server=False, client=True)
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        pki.save_pair(other, crt, key)
    assert pki.load_pair(crt, key).cert == pair.cert
    pki.save_pair(other, crt, key, overwrite=True)
    assert pki.load_pair(crt, key).cert == other.cert and _mode(key) == 0o600


def test_load_pair_refuses_a_key_of_another_certificate(tmp_path: Path, ca: pki.KeyPair) -> None:
    a = pki.issue_cert(ca=ca, common_name="a", server=False, client=True)
    b = pki.issue_cert(ca=ca, common_name="b", server=False, client=True)
    (tmp_path / "a.crt").write_bytes(a.cert_pem())
    (tmp_path / "b.key").write_bytes(b.key_pem())
    with pytest.raises(pki.PkiError, match="does not belong"):
        pki.load_pair(tmp_path / "a.crt", tmp_path / "b.key")


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def test_ensure_apiserver_pki_creates_the_cluster_identity(tmp_path: Path) -> None:
    p = pki.ensure_apiserver_pki(
        tmp_path / "pki", hosts=["api.example.test", "192.0.2.10"], ips=["10.96.0.1"]
    )
    names = {
        "ca.crt",
        "ca.key",
        "apiserver.crt",
        "apiserver.key",
        "admin.crt",
        "admin.key",
        "sa.key",
        "sa.pub",
    }
    assert {f.name for f in p.dir.iterdir()} == names
    for key in (p.ca_key, p.apiserver_key, p.admin_key, p.sa_key):
        assert _mode(key) == 0o600

    ca = pki.load_pair(p.ca_cert, p.ca_key)
    serving = pki.load_pair(p.apiserver_cert, p.apiserver_key)
    dns, ips = pki.cert_sans(serving.cert)
    assert {"localhost", *pki.SERVICE_DNS_NAMES, "api.example.test"} <= set(dns)
    assert {str(i) for i in ips} == {"127.0.0.1", "10.96.0.1", "192.0.2.10"}
    for name in ("kubernetes.default.svc.cluster.local", "api.example.test"):
        _server_verify(ca, serving.cert, x509.DNSName(name))
    _server_verify(ca, serving.cert, x509.IPAddress(ipaddress.ip_address("10.96.0.1")))

    admin = pki.load_pair(p.admin_cert, p.admin_key)
    _client_verify(ca, admin.cert)
    assert admin.cert.subject.rfc4514_string() == "O=system:masters,CN=kubernetes-admin"

    sa_key = serialization.load_pem_private_key(p.sa_key.read_bytes(), password=None)
    assert serialization.load_pem_public_key(p.sa_pub.read_bytes()) == sa_key.public_key()


def test_ensure_apiserver_pki_is_idempotent_and_fills_in_only_what_is_missing(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    pki.ensure_apiserver_pki(d, hosts=["api.example.test"], ips=["10.96.0.1"])
    before = _snapshot(d)
    pki.ensure_apiserver_pki(d, hosts=["api.example.test"], ips=["10.96.0.1"])
    assert _snapshot(d) == before

    for name in ("admin.crt", "admin.key", "sa.pub"):
        (d / name).unlink()
    p = pki.ensure_apiserver_pki(d, hosts=["api.example.test"], ips=["10.96.0.1"])
    after = _snapshot(d)
    for name in ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "sa.key"):
        assert after[name] == before[name]
    assert after["admin.crt"] != before["admin.crt"]
    assert after["sa.pub"][0] == before["sa.pub"][0]  # derived from the unchanged key
    pki.load_pair(p.admin_cert, p.admin_key).cert.verify_directly_issued_by(
        pki.load_pair(p.ca_cert, p.ca_key).cert
    )


def test_ensure_refuses_half_a_pair(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    pki.ensure_apiserver_pki(d, hosts=[], ips=[])
    (d / "apiserver.crt").unlink()
    with pytest.raises(pki.PkiError, match=r"apiserver\.key exists but .*apiserver\.crt does not"):
        pki.ensure_apiserver_pki(d, hosts=[], ips=[])
    assert (d / "apiserver.key").exists()


def test_ensure_refuses_certificates_of_a_replaced_ca(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    pki.ensure_apiserver_pki(d, hosts=[], ips=[])
    (d / "ca.crt").unlink()
    (d / "ca.key").unlink()
    with pytest.raises(pki.PkiError, match="not signed by the current CA"):
        pki.ensure_apiserver_pki(d, hosts=[], ips=[])


def test_ensure_refuses_a_serving_certificate_lacking_a_new_name(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    pki.ensure_apiserver_pki(d, hosts=["a.example.test"], ips=[])
    before = _snapshot(d)
    with pytest.raises(pki.PkiError, match=r"does not cover b\.example\.test, 192\.0\.2\.7; remove"):
        pki.ensure_apiserver_pki(d, hosts=["b.example.test"], ips=["192.0.2.7"])
    assert _snapshot(d) == before


def test_ensure_refuses_an_expired_certificate(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    p = pki.ensure_apiserver_pki(d, hosts=[], ips=[])
    ca = pki.load_pair(p.ca_cert, p.ca_key)
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    expired = pki.issue_cert(
        ca=ca, common_name="kubernetes-admin", server=False, client=True, days=1, not_before=long_ago
    )
    pki.save_pair(expired, p.admin_cert, p.admin_key, overwrite=True)
    with pytest.raises(pki.PkiError, match="expired on 2020-01-02"):
        pki.ensure_apiserver_pki(d, hosts=[], ips=[])


def test_split_hosts_sorts_names_from_addresses() -> None:
    names, ips = pki.split_hosts(["api.example.test", "10.0.0.1", "::1", "localhost"])
    assert names == ["api.example.test", "localhost"]
    assert [str(i) for i in ips] == ["10.0.0.1", "::1"]


def test_service_account_key_survives_a_lost_public_half(tmp_path: Path) -> None:
    key_path, pub_path = tmp_path / "sa.key", tmp_path / "sa.pub"
    key = pki.ensure_service_account_key(key_path=key_path, pub_path=pub_path)
    assert _mode(key_path) == 0o600
    assert (
        pki.ensure_service_account_key(key_path=key_path, pub_path=pub_path).private_numbers()
        == key.private_numbers()
    )
    key_path.unlink()
    with pytest.raises(pki.PkiError, match=r"sa\.pub exists but"):
        pki.ensure_service_account_key(key_path=key_path, pub_path=pub_path)
