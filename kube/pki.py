"""Certificates and keys for the cluster: one CA, serving and client certificates.

Every component proves who it is with a client certificate signed by the cluster CA
(``CN`` = user name, ``O`` = groups), exactly as kube-apiserver's x509 authenticator
expects, so the real ``kubectl`` and the official Python client work unchanged.
``pyctl pki init`` and ``python -m apiserver`` both build their files from here.

Keys are EC P-256 rather than RSA 2048: generating one takes well under a millisecond
instead of ~50 ms (tests issue dozens), signatures and handshakes are cheaper, and
every party we talk to accepts it (Go's crypto/tls in kubectl, OpenSSL, kubeadm's
``ECDSA-P256`` mode). The service-account key is EC P-256 too, i.e. tokens are ES256.

Files are written atomically (a crash never leaves half a key that later runs would
trust), keys are ``0600`` from the moment they exist, and nothing here overwrites an
existing key unless asked: a CA that silently changes invalidates every kubeconfig.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Tolerates clocks a few minutes apart across the machines of a lab, as kubeadm does.
BACKDATE = dt.timedelta(minutes=5)
# kube-apiserver serves the in-cluster names below; pods reach it as "kubernetes.default".
SERVICE_DNS_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
ADMIN_USER = "kubernetes-admin"
ADMIN_GROUP = "system:masters"
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$", re.I
)


class PkiError(Exception):
    """The files on disk cannot be used as they are; the message says what to do."""


@dataclass(frozen=True, slots=True)
class KeyPair:
    cert: x509.Certificate
    key: PrivateKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return key_pem(self.key)

    @classmethod
    def from_pem(cls, cert_pem: bytes, key_pem: bytes) -> KeyPair:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError(f"unsupported key type {type(key).__name__}: kubesim uses EC P-256 keys")
        if key.public_key() != cert.public_key():
            raise PkiError(f"the key does not belong to the certificate {cert.subject.rfc4514_string()}")
        return cls(cert=cert, key=key)


def key_pem(key: PrivateKey) -> bytes:
    # PKCS#8 is the one key format Go, OpenSSL and cryptography all read.
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_ca(*, common_name: str = "kubesim-ca", days: int = 3650) -> KeyPair:
    """A self-signed CA that may sign certificates (and CRLs) but nothing else."""
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = _builder(subject=name, public_key=key.public_key(), start=_now() - BACKDATE, days=days, ca=None)
    return KeyPair(cert=cert.sign(key, hashes.SHA256()), key=key)


def _builder(
    *,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    start: dt.datetime,
    days: int,
    ca: KeyPair | None,
) -> x509.CertificateBuilder:
    """The parts every certificate shares; ``ca=None`` builds a self-signed CA."""
    end = start + dt.timedelta(days=days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject if ca else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        # A leaf cannot be verified after its CA expires; say so in the leaf itself.
        .not_valid_after(min(end, ca.cert.not_valid_after_utc) if ca else end)
        .add_extension(x509.BasicConstraints(ca=ca is None, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,  # meaningless for EC keys: ECDHE agrees keys, nothing is encrypted to us
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca is None,
                crl_sign=ca is None,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if ca is not None:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
        builder = builder.add_extension(aki, critical=False)
    return builder


def split_hosts(hosts: Sequence[str]) -> tuple[list[str], list[IPAddress]]:
    """Sort ``--apiserver-sans``-style entries into DNS names and IP addresses."""
    names, ips = [], []
    for host in hosts:
        try:
            ips.append(ipaddress.ip_address(host))
        except ValueError:
            names.append(host)
    return names, ips


def issue_cert(
    *,
    ca: KeyPair,
    common_name: str,
    organizations: Sequence[str] = (),
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str | IPAddress] = (),
    server: bool,
    client: bool,
    days: int = 365,
    not_before: dt.datetime | None = None,
) -> KeyPair:
    """A fresh key and a certificate for it: ``CN`` is the user name, each ``O`` a group."""
    if not (server or client):
        raise ValueError("a certificate must be good for server auth, client auth or both")
    if not common_name:
        raise ValueError("common_name is required: it becomes the user name")
    for dns in dns_names:
        # Go refuses to parse a whole certificate that carries one malformed dNSName SAN.
        if not _DNS_NAME.match(dns):
            raise ValueError(f"invalid DNS name for a certificate: {dns!r}")
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    subject += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dict.fromkeys(dns_names)]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in dict.fromkeys(map(str, ip_addresses))]
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] * server + [ExtendedKeyUsageOID.CLIENT_AUTH] * client
    key = new_key()
    start = not_before or _now() - BACKDATE
    builder = _builder(subject=x509.Name(subject), public_key=key.public_key(), start=start, days=days, ca=ca)
    builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return KeyPair(cert=builder.sign(ca.key, hashes.SHA256()), key=key)


def write_file_atomic(path: Path, data: bytes, *, mode: int, overwrite: bool) -> None:
    """Write ``data`` so that ``path`` is either absent, the old file, or the whole new one.

    The temporary file is created with ``mode`` already set, so a key is never readable
    by others, not even for a moment. Without ``overwrite`` the final step is a hard
    link, which fails atomically if another process created ``path`` meanwhile.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def save_pair(pair: KeyPair, cert_path: Path, key_path: Path, *, overwrite: bool = False) -> None:
    if not overwrite:
        for existing in (p for p in (cert_path, key_path) if p.exists()):
            raise FileExistsError(f"{existing} exists; refusing to overwrite it")
    # Key first: a crash in between leaves a key without a certificate, which
    # ensure_pair reports instead of pairing a new certificate with a stale key.
    write_file_atomic(key_path, pair.key_pem(), mode=0o600, overwrite=overwrite)
    write_file_atomic(cert_path, pair.cert_pem(), mode=0o644, overwrite=overwrite)


def load_pair(cert_path: Path, key_path: Path) -> KeyPair:
    return KeyPair.from_pem(cert_path.read_bytes(), key_path.read_bytes())


def ensure_pair(
    *, cert_path: Path, key_path: Path, make: Callable[[], KeyPair], ca: KeyPair | None = None
) -> KeyPair:
    """Load the pair if both files exist, else create it with ``make``.

    Half a pair is an error, never completed: a new certificate must not meet a stale key.
    An existing leaf is checked against ``ca`` so that a regenerated CA cannot leave
    the cluster serving certificates nobody can verify.
    """
    have_cert, have_key = cert_path.exists(), key_path.exists()
    if have_cert != have_key:
        present, missing = (cert_path, key_path) if have_cert else (key_path, cert_path)
        raise PkiError(f"{present} exists but {missing} does not; remove {present} to regenerate both")
    if not have_cert:
        pair = make()
        save_pair(pair, cert_path, key_path)
        return pair
    pair = load_pair(cert_path, key_path)
    if ca is not None:
        try:
            pair.cert.verify_directly_issued_by(ca.cert)
        except (ValueError, TypeError, InvalidSignature) as err:
            raise PkiError(
                f"{cert_path} was not signed by the current CA ({err}); remove {cert_path} and {key_path} "
                "to issue a new one"
            ) from None
    if pair.cert.not_valid_after_utc <= _now():
        raise PkiError(
            f"{cert_path} expired on {pair.cert.not_valid_after_utc:%Y-%m-%d}; remove it and its key"
        )
    return pair


def cert_sans(cert: x509.Certificate) -> tuple[list[str], list[IPAddress]]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    ips = [ip for ip in san.get_values_for_type(x509.IPAddress) if isinstance(ip, IPAddress)]
    return san.get_values_for_type(x509.DNSName), ips


def _hostname() -> list[str]:
    # Best effort: a hostname that is not a DNS name (e.g. with "_") must not break the cert.
    name = socket.gethostname().lower()
    return [name] if _DNS_NAME.match(name) else []


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiserverPki:
    dir: Path
    ca_cert: Path
    ca_key: Path
    apiserver_cert: Path
    apiserver_key: Path
    admin_cert: Path
    admin_key: Path
    sa_key: Path
    sa_pub: Path


def ensure_apiserver_pki(pki_dir: Path, *, hosts: Sequence[str], ips: Sequence[str]) -> ApiserverPki:
    """Create whatever is missing of the API server's PKI under ``pki_dir``; reuse the rest.

    ``hosts``/``ips`` are extra names clients use to reach the server (the caller passes
    the first service IP, e.g. 10.96.0.1, and the advertise address). An existing serving
    certificate lacking one of them is an error rather than silently reissued: the
    files are the user's, and a changing key surprises whoever pinned it.
    """
    p = ApiserverPki(
        dir=pki_dir,
        ca_cert=pki_dir / "ca.crt",
        ca_key=pki_dir / "ca.key",
        apiserver_cert=pki_dir / "apiserver.crt",
        apiserver_key=pki_dir / "apiserver.key",
        admin_cert=pki_dir / "admin.crt",
        admin_key=pki_dir / "admin.key",
        sa_key=pki_dir / "sa.key",
        sa_pub=pki_dir / "sa.pub",
    )
    pki_dir.mkdir(parents=True, exist_ok=True)
    host_names, host_ips = split_hosts(hosts)
    wanted_dns = ["localhost", *SERVICE_DNS_NAMES, *host_names]
    wanted_ips = [ipaddress.ip_address("127.0.0.1"), *host_ips, *map(ipaddress.ip_address, ips)]
    ca = ensure_pair(cert_path=p.ca_cert, key_path=p.ca_key, make=new_ca)
    serving = ensure_pair(
        cert_path=p.apiserver_cert,
        key_path=p.apiserver_key,
        ca=ca,
        make=lambda: issue_cert(
            ca=ca,
            common_name="kube-apiserver",
            dns_names=[*wanted_dns, *_hostname()],
            ip_addresses=wanted_ips,
            server=True,
            client=False,
        ),
    )
    have_dns, have_ips = cert_sans(serving.cert)
    missing = [d for d in wanted_dns if d not in have_dns] + [str(i) for i in wanted_ips if i not in have_ips]
    if missing:
        raise PkiError(
            f"{p.apiserver_cert} does not cover {', '.join(missing)}; remove {p.apiserver_cert} and "
            f"{p.apiserver_key} to issue a serving certificate for the new names"
        )
    ensure_pair(
        cert_path=p.admin_cert,
        key_path=p.admin_key,
        ca=ca,
        make=lambda: issue_cert(
            ca=ca, common_name=ADMIN_USER, organizations=[ADMIN_GROUP], server=False, client=True
        ),
    )
    ensure_service_account_key(key_path=p.sa_key, pub_path=p.sa_pub)
    return p


def ensure_service_account_key(*, key_path: Path, pub_path: Path) -> PrivateKey:
    """The key that signs service-account tokens (``sa.key``) and its public half (``sa.pub``).

    kube-apiserver takes these as ``--service-account-signing-key-file`` and
    ``--service-account-key-file``; tokens signed with it are ES256 JWTs.
    """
    if key_path.exists():
        loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise PkiError(f"{key_path}: unsupported key type {type(loaded).__name__}; want EC P-256")
        key = loaded
    else:
        if pub_path.exists():
            raise PkiError(f"{pub_path} exists but {key_path} does not; remove {pub_path} to regenerate both")
        key = new_key()
        write_file_atomic(key_path, key_pem(key), mode=0o600, overwrite=False)
    if not pub_path.exists():
        # Derived from the key, so rewriting a lost public half is always safe.
        pub = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write_file_atomic(pub_path, pub, mode=0o644, overwrite=False)
    return key
