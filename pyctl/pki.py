"""``pyctl pki init``: create a cluster's certificates and kubeconfigs ahead of time.

For a lab of several machines, where each component needs its own identity before the
API server first starts. The API server creates the same files on its own first start
(without node certificates), so this is only needed to hand out node credentials or
extra serving names. Running it again adds what is missing (a new node) and leaves
every existing key alone; ``--force`` starts over with a new CA.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kube import clusterpki, pki


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("pki", help="create certificates and kubeconfigs")
    actions = parser.add_subparsers(dest="pki_command", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="create (or complete) a cluster PKI directory")
    init.add_argument("--dir", required=True, help="where to write the files (created if missing)")
    init.add_argument("--nodes", type=_list, default=[], help="comma-separated node names: client and serving certs")
    init.add_argument("--apiserver-sans", type=_list, default=[],
                      help="comma-separated extra DNS names and IPs for the API server's serving certificate")
    init.add_argument("--service-ip", default=clusterpki.DEFAULT_SERVICE_IP,
                      help="the first service ClusterIP (in the serving certificate)")
    init.add_argument("--server", default="https://127.0.0.1:6443", help="API server URL for the kubeconfigs")
    init.add_argument("--force", action="store_true", help="discard the existing CA and keys and start over")
    init.set_defaults(handler=run_init)


def run_init(ns: argparse.Namespace) -> int:
    directory = Path(ns.dir)
    try:
        result = clusterpki.ensure_cluster_pki(
            directory,
            hosts=ns.apiserver_sans,
            ips=[ns.service_ip],
            nodes=ns.nodes,
            server=ns.server,
            force=ns.force,
        )
    except (pki.PkiError, FileExistsError, ValueError) as err:
        hint = "" if ns.force else " (or run again with --force to start over with a new CA)"
        print(f"pyctl pki init: {err}{hint}", file=sys.stderr)
        return 1
    print(f"PKI in {directory}: CA {result.ca_cert}")
    for identity in result.clients:
        print(f"  {identity.user:<40} {identity.kubeconfig}")
    for node, (cert, _) in result.kubelet_serving.items():
        print(f"  kubelet serving certificate of {node:<14} {cert}")
    return 0
