"""Reaching a node's kubelet: where it listens, and which certificate to show it.

The API server serves ``pods/log`` (and later ``exec``, ``port-forward``) by calling the
kubelet of the pod's node over HTTPS. As kube-apiserver does, it finds the kubelet from
the Node object — an address from ``status.addresses`` and the port from
``status.daemonEndpoints.kubeletEndpoint.Port`` — and authenticates with a client
certificate of its own (kube-apiserver's ``--kubelet-client-certificate``), which the
first start issues from the cluster CA as ``pki/apiserver-kubelet-client.crt`` in the
``system:masters`` group, like kubeadm's.

Addresses are tried in the order InternalIP, Hostname, InternalDNS, ExternalIP,
ExternalDNS: kube-apiserver's default prefers Hostname, but kubesim's nodes (hollow
ones especially) are named for the lab rather than for DNS, and their InternalIP is
what is reachable. Like kube-apiserver without ``--kubelet-certificate-authority``, the
kubelet's serving certificate is not verified unless a CA is configured.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from kube import pki
from kube.errors import ServiceUnavailable

from ..context import Context
from ..store import ResourceStore
from ..strategy import Obj

KUBELET_PORT = 10250
ADDRESS_TYPES = ("InternalIP", "Hostname", "InternalDNS", "ExternalIP", "ExternalDNS")
CLIENT_CERT = "apiserver-kubelet-client.crt"
CLIENT_KEY = "apiserver-kubelet-client.key"
CLIENT_USER = "kube-apiserver-kubelet-client"


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeletClientConfig:
    cert_file: Path | None = None
    key_file: Path | None = None
    ca_file: Path | None = None
    """Verify kubelet serving certificates against this CA; None skips verification."""
    default_port: int = KUBELET_PORT
    address_types: tuple[str, ...] = ADDRESS_TYPES
    connect_timeout: float = 10.0

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.ca_file is not None:
            context.load_verify_locations(str(self.ca_file))
        else:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_file is not None and self.key_file is not None:
            context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context


def client_config_from_pki(pki_dir: Path) -> KubeletClientConfig:
    """The kubelet client certificate, issued from ``pki_dir``'s CA on first use; no
    certificate when the CA's key is not there (the user brought their own PKI)."""
    ca_cert, ca_key = pki_dir / "ca.crt", pki_dir / "ca.key"
    if not (ca_cert.exists() and ca_key.exists()):
        return KubeletClientConfig()
    ca = pki.load_pair(ca_cert, ca_key)
    cert, key = pki_dir / CLIENT_CERT, pki_dir / CLIENT_KEY

    def issue() -> pki.KeyPair:
        return pki.issue_cert(
            ca=ca, common_name=CLIENT_USER, organizations=[pki.ADMIN_GROUP], server=False, client=True
        )

    try:
        pki.ensure_pair(cert_path=cert, key_path=key, ca=ca, make=issue)
    except pki.PkiError:
        # Ours alone and derived from the CA: after a new CA (or expiry) issue it again
        # rather than refuse to start.
        pki.save_pair(issue(), cert, key, overwrite=True)
    return KubeletClientConfig(cert_file=cert, key_file=key)


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeletLocation:
    node: str
    host: str
    port: int

    @property
    def authority(self) -> str:
        try:
            is_v6 = ipaddress.ip_address(self.host).version == 6
        except ValueError:
            is_v6 = False
        return f"[{self.host}]:{self.port}" if is_v6 else f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"https://{self.authority}{path}"


def _port(node: Obj, default: int) -> int:
    endpoint = (((node.get("status") or {}).get("daemonEndpoints") or {}).get("kubeletEndpoint")) or {}
    port = endpoint.get("Port") if isinstance(endpoint, dict) else None
    return port if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536 else default


def _address(node: Obj, types: tuple[str, ...]) -> str | None:
    addresses = [a for a in (node.get("status") or {}).get("addresses") or () if isinstance(a, dict)]
    for wanted in types:
        for entry in addresses:
            if entry.get("type") == wanted and isinstance(entry.get("address"), str) and entry["address"]:
                return str(entry["address"])
    return None


async def locate(
    *, nodes: ResourceStore, ctx: Context, node_name: str, config: KubeletClientConfig
) -> KubeletLocation:
    """Where the kubelet of ``node_name`` listens (404 for a missing Node, 503 for a
    Node that names no address)."""
    node = await nodes.get(ctx.child(info=nodes.info, namespace="", name=node_name))
    host = _address(node, config.address_types)
    if host is None:
        known = [
            f"{a.get('type')}:{a.get('address')}"
            for a in (node.get("status") or {}).get("addresses") or ()
            if isinstance(a, dict)
        ]
        raise ServiceUnavailable(
            f'no preferred addresses found for node "{node_name}"; known addresses: [{" ".join(known)}]'
        )
    return KubeletLocation(node=node_name, host=host, port=_port(node, config.default_port))
