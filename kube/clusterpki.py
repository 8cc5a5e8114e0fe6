"""Every certificate and kubeconfig a cluster needs, in one directory.

``pyctl pki init`` and the API server's first start both call ``ensure_cluster_pki``,
so a cluster set up by hand and one that set itself up have the same files::

    ca.crt ca.key                          the cluster CA
    apiserver.crt apiserver.key            serving: localhost, 127.0.0.1, kubernetes,
                                           kubernetes.default.svc[.cluster.local], the
                                           first service IP (10.96.0.1) and --apiserver-sans
    sa.key sa.pub                          service-account token signing key pair
    admin.crt admin.key                    CN=kubernetes-admin, O=system:masters
    kube-scheduler.crt/.key                CN=system:kube-scheduler
    kube-controller-manager.crt/.key       CN=system:kube-controller-manager
    nodes/<node>/kubelet-client.crt/.key   CN=system:node:<node>, O=system:nodes
    nodes/<node>/kubelet.crt/.key          the kubelet's serving certificate (SAN <node>)
    kubeconfigs/<who>.kubeconfig           admin, kube-scheduler, kube-controller-manager,
                                           node-<node> (when a server URL is known)

Identities are what kube-apiserver's authorizers expect: RBAC binds the component
roles to those user names, and the Node authorizer recognises ``system:node:<name>``
in ``system:nodes``. Existing keys are reused (never overwritten) unless ``force``,
which starts over from a new CA — every old certificate then stops working, which is
what someone forcing a new PKI wants. Keys are written 0600 from their first byte.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import pki
from .kubeconfig import write_kubeconfig

SCHEDULER_USER = "system:kube-scheduler"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
NODE_USER_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"
DEFAULT_SERVICE_IP = "10.96.0.1"
# What ensure_cluster_pki manages; removed by force (never anything else in the directory).
_MANAGED = ("ca", "apiserver", "admin", "kube-scheduler", "kube-controller-manager")


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """A client identity: the files of its certificate and where its kubeconfig goes."""

    name: str
    user: str
    cert: Path
    key: Path
    kubeconfig: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterPki:
    dir: Path
    apiserver: pki.ApiserverPki
    clients: list[Identity] = field(default_factory=list)
    kubelet_serving: dict[str, tuple[Path, Path]] = field(default_factory=dict)

    @property
    def ca_cert(self) -> Path:
        return self.apiserver.ca_cert


def _client(ca: pki.KeyPair, *, cert: Path, key: Path, user: str, groups: Sequence[str]) -> None:
    pki.ensure_pair(
        cert_path=cert,
        key_path=key,
        ca=ca,
        make=lambda: pki.issue_cert(ca=ca, common_name=user, organizations=list(groups), server=False, client=True),
    )


def _kubelet_serving(ca: pki.KeyPair, node: str) -> Callable[[], pki.KeyPair]:
    """The kubelet's serving certificate: its node name (a DNS name or an IP) and loopback."""
    names, addresses = pki.split_hosts([node])

    def make() -> pki.KeyPair:
        return pki.issue_cert(
            ca=ca, common_name=node, dns_names=[*names, "localhost"], ip_addresses=[*addresses, "127.0.0.1"],
            server=True, client=False,
        )

    return make


def _remove_managed(pki_dir: Path) -> None:
    for stem in _MANAGED:
        for suffix in (".crt", ".key"):
            (pki_dir / f"{stem}{suffix}").unlink(missing_ok=True)
    for name in ("sa.key", "sa.pub"):
        (pki_dir / name).unlink(missing_ok=True)
    for sub in ("nodes", "kubeconfigs"):
        shutil.rmtree(pki_dir / sub, ignore_errors=True)


def ensure_cluster_pki(
    pki_dir: Path,
    *,
    hosts: Sequence[str] = (),
    ips: Sequence[str] = (DEFAULT_SERVICE_IP,),
    nodes: Sequence[str] = (),
    server: str | None = None,
    force: bool = False,
) -> ClusterPki:
    """Create what is missing under ``pki_dir``; ``server`` (an https URL) also writes
    the kubeconfigs. ``hosts``/``ips`` are extra serving names (``--apiserver-sans``)."""
    if force:
        _remove_managed(pki_dir)
    base = pki.ensure_apiserver_pki(pki_dir, hosts=hosts, ips=ips)
    ca = pki.load_pair(base.ca_cert, base.ca_key)
    clients = [
        Identity(name="admin", user=pki.ADMIN_USER, cert=base.admin_cert, key=base.admin_key,
                 kubeconfig=pki_dir / "kubeconfigs" / "admin.kubeconfig"),
    ]
    for stem, user in (("kube-scheduler", SCHEDULER_USER), ("kube-controller-manager", CONTROLLER_MANAGER_USER)):
        cert, key = pki_dir / f"{stem}.crt", pki_dir / f"{stem}.key"
        _client(ca, cert=cert, key=key, user=user, groups=())
        clients.append(Identity(name=stem, user=user, cert=cert, key=key,
                                kubeconfig=pki_dir / "kubeconfigs" / f"{stem}.kubeconfig"))
    serving: dict[str, tuple[Path, Path]] = {}
    for node in dict.fromkeys(nodes):
        node_dir = pki_dir / "nodes" / node
        user = NODE_USER_PREFIX + node
        cert, key = node_dir / "kubelet-client.crt", node_dir / "kubelet-client.key"
        _client(ca, cert=cert, key=key, user=user, groups=(NODES_GROUP,))
        clients.append(Identity(name=f"node-{node}", user=user, cert=cert, key=key,
                                kubeconfig=pki_dir / "kubeconfigs" / f"node-{node}.kubeconfig"))
        serve_cert, serve_key = node_dir / "kubelet.crt", node_dir / "kubelet.key"
        pki.ensure_pair(cert_path=serve_cert, key_path=serve_key, ca=ca, make=_kubelet_serving(ca, node))
        serving[node] = (serve_cert, serve_key)
    result = ClusterPki(dir=pki_dir, apiserver=base, clients=clients, kubelet_serving=serving)
    if server is not None:
        write_kubeconfigs(result, server=server)
    return result


def write_kubeconfigs(cluster: ClusterPki, *, server: str) -> list[Path]:
    """A kubeconfig per client identity, pointing at ``server`` (rewritten each time:
    the server URL may change between runs, the certificates do not)."""
    ca_pem = cluster.ca_cert.read_bytes()
    written = []
    for identity in cluster.clients:
        write_kubeconfig(
            identity.kubeconfig,
            server=server,
            ca_cert_pem=ca_pem,
            client_cert_pem=identity.cert.read_bytes(),
            client_key_pem=identity.key.read_bytes(),
            user=identity.user,
        )
        written.append(identity.kubeconfig)
    return written
