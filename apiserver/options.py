"""Command-line flags of ``python -m apiserver``, named as kube-apiserver names them.

Only flags we implement are listed, so ``--help`` is an honest map of what works.
"""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    data_dir: Path
    secure_port: int
    bind_address: str
    advertise_address: str
    etcd_servers: list[str]
    tls_cert_file: Path | None
    tls_private_key_file: Path | None
    client_ca_file: Path | None
    service_cluster_ip_range: ipaddress.IPv4Network
    service_node_port_range: tuple[int, int]
    anonymous_auth: bool
    token_auth_file: Path | None
    audit_log_path: Path | None
    max_requests_inflight: int
    max_mutating_requests_inflight: int
    request_timeout: float
    authorization_mode: tuple[str, ...] = ("Node", "RBAC")
    service_account_issuer: str = "https://kubernetes.default.svc.cluster.local"
    service_account_key_file: Path | None = None
    service_account_signing_key_file: Path | None = None
    api_audiences: tuple[str, ...] = ()
    workers: int = 1
    reuse_port: bool = False
    """Set for a worker of ``--workers``: it shares the port with its siblings."""


def _port_range(text: str) -> tuple[int, int]:
    try:
        low, high = (int(p) for p in text.split("-", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f'invalid port range "{text}": want LOW-HIGH, e.g. 30000-32767') from None
    if not 0 < low <= high < 65536:
        raise argparse.ArgumentTypeError(f'invalid port range "{text}"')
    return low, high


def _network(text: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f'invalid --service-cluster-ip-range "{text}": {err}') from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise argparse.ArgumentTypeError("only IPv4 service ranges are supported")
    return net


def _duration(text: str) -> float:
    """Go-style durations as kube-apiserver takes them: ``60s``, ``1m``, ``500ms``."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for suffix in ("ms", "s", "m", "h"):
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * units[suffix]
            except ValueError:
                break
    raise argparse.ArgumentTypeError(f'invalid duration "{text}": want e.g. 60s, 1m, 500ms')


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m apiserver",
        description="The kubesim API server: the Kubernetes REST API over HTTPS, "
        "stored in embedded SQLite (default) or a real etcd.",
    )
    p.add_argument("--data-dir", type=Path, required=True, help="state directory: SQLite store, pki/, admin.kubeconfig")
    p.add_argument("--secure-port", type=int, default=6443, help="HTTPS port (0 picks a free one)")
    p.add_argument("--bind-address", default="127.0.0.1", help="address to listen on")
    p.add_argument("--advertise-address", default="", help="address put in the serving certificate and kubeconfig")
    p.add_argument(
        "--etcd-servers",
        default="",
        help="comma-separated etcd URLs (e.g. http://127.0.0.1:2379); embedded SQLite when empty",
    )
    p.add_argument("--tls-cert-file", type=Path, default=None, help="serving certificate (PEM)")
    p.add_argument("--tls-private-key-file", type=Path, default=None, help="serving key (PEM)")
    p.add_argument("--client-ca-file", type=Path, default=None, help="CA that signs client certificates")
    p.add_argument("--service-cluster-ip-range", type=_network, default=_network("10.96.0.0/12"))
    p.add_argument("--service-node-port-range", type=_port_range, default=(30000, 32767))
    p.add_argument("--anonymous-auth", action=argparse.BooleanOptionalAction, default=False)
    p.add_argument("--token-auth-file", type=Path, default=None, help="static bearer tokens (CSV)")
    p.add_argument("--audit-log-path", type=Path, default=None, help="JSON-lines audit log")
    p.add_argument("--max-requests-inflight", type=int, default=400)
    p.add_argument("--max-mutating-requests-inflight", type=int, default=200)
    p.add_argument("--request-timeout", type=_duration, default=60.0)
    p.add_argument(
        "--authorization-mode",
        type=_authorization_modes,
        default=("Node", "RBAC"),
        help="ordered authorizers: Node, RBAC, AlwaysAllow (default Node,RBAC)",
    )
    p.add_argument("--service-account-issuer", default="https://kubernetes.default.svc.cluster.local")
    p.add_argument("--service-account-key-file", type=Path, default=None, help="public key verifying SA tokens")
    p.add_argument("--service-account-signing-key-file", type=Path, default=None, help="private key signing SA tokens")
    p.add_argument("--api-audiences", default="", help="comma-separated audiences tokens must carry (default: the issuer)")
    p.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="serve from N processes sharing the port (needs --etcd-servers); kubesim's own flag: "
        "kube-apiserver is one process that uses every core",
    )
    p.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # set for each worker
    return p


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f'invalid --workers "{text}": want a whole number, 1 or more')
    return n


_AUTHORIZATION_MODES = ("Node", "RBAC", "AlwaysAllow")


def _authorization_modes(text: str) -> tuple[str, ...]:
    modes = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in modes if m not in _AUTHORIZATION_MODES]
    if unknown or not modes:
        raise argparse.ArgumentTypeError(
            f'invalid --authorization-mode "{text}": choose from {", ".join(_AUTHORIZATION_MODES)}'
        )
    return modes


def parse(argv: list[str] | None = None) -> Options:
    p = parser()
    ns = p.parse_args(argv)
    if ns.workers > 1 and not ns.etcd_servers.strip():
        p.error("--workers > 1 needs --etcd-servers: the embedded SQLite store is served by one process")
    return Options(
        data_dir=ns.data_dir,
        secure_port=ns.secure_port,
        bind_address=ns.bind_address,
        advertise_address=ns.advertise_address,
        etcd_servers=[s.strip() for s in ns.etcd_servers.split(",") if s.strip()],
        tls_cert_file=ns.tls_cert_file,
        tls_private_key_file=ns.tls_private_key_file,
        client_ca_file=ns.client_ca_file,
        service_cluster_ip_range=ns.service_cluster_ip_range,
        service_node_port_range=ns.service_node_port_range,
        anonymous_auth=ns.anonymous_auth,
        token_auth_file=ns.token_auth_file,
        audit_log_path=ns.audit_log_path,
        max_requests_inflight=ns.max_requests_inflight,
        max_mutating_requests_inflight=ns.max_mutating_requests_inflight,
        request_timeout=ns.request_timeout,
        authorization_mode=ns.authorization_mode,
        service_account_issuer=ns.service_account_issuer,
        service_account_key_file=ns.service_account_key_file,
        service_account_signing_key_file=ns.service_account_signing_key_file,
        api_audiences=tuple(a.strip() for a in ns.api_audiences.split(",") if a.strip()),
        workers=ns.workers,
        reuse_port=ns.reuse_port,
    )
