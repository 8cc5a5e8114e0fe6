"""Wiring: flags → storage → PKI → registry and caches → bootstrap → app → HTTPS.

``python -m apiserver --data-dir DIR`` must work on a fresh machine with no other step,
so the first start creates what a cluster needs: the SQLite store (unless
``--etcd-servers``), a CA with serving and admin certificates under ``DIR/pki``, and
``DIR/admin.kubeconfig`` for kubectl. Explicit ``--tls-cert-file``,
``--tls-private-key-file`` and ``--client-ca-file`` replace the generated ones; the
admin kubeconfig is then written only if it can still be trusted (our CA signed both
the serving certificate in use and the admin certificate).

Once listening, one line containing ``ready`` and the URL goes to stdout; scripts and
tests wait for it. SIGTERM drains in-flight requests, ends watch streams cleanly, stops
the watch caches and closes the store before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from apiserver import crd
from apiserver.app import create_app
from apiserver.authenticators.tokens import TokenFileError
from apiserver.bootstrap import bootstrap, bootstrap_kubernetes_service
from apiserver.filters import PreAuthenticated
from apiserver.gcpolicy import FreezeSurvivors
from apiserver.health import Health
from apiserver.metrics import InstrumentedStorage, Metrics
from apiserver.options import Options
from apiserver.registry import API
from apiserver.registry import resources as registry_resources
from apiserver.security import Security
from apiserver.storage import StorageError, open_storage
from apiserver.tls import TLSServer
from kube import clusterpki, pki
from kube.kubeconfig import write_kubeconfig
from kube.resources import default_registry

logger = logging.getLogger("apiserver")

KUBECONFIG_NAME = "admin.kubeconfig"
ADMIN_USER = "kubernetes-admin"
GRACEFUL_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TLSFiles:
    cert: Path
    key: Path
    client_ca: Path
    admin: tuple[Path, Path, Path] | None
    """(ca, admin cert, admin key) for the kubeconfig, when our CA signs what is used."""
    cluster: clusterpki.ClusterPki | None = None
    """The generated component identities, whose kubeconfigs are written once the URL is known."""


def first_service_ip(options: Options) -> str:
    return str(next(options.service_cluster_ip_range.hosts()))


def endpoint_address(options: Options) -> str:
    """The IP other machines reach this server at, for the ``kubernetes`` Endpoints:
    ``--advertise-address``, else a specific ``--bind-address``, else the address of the
    interface that routes outwards (no packet is sent), else loopback."""
    for candidate in (options.advertise_address, options.bind_address):
        try:
            ip = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        if not ip.is_unspecified:
            return str(ip)
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the route
        return str(probe.getsockname()[0])
    return "127.0.0.1"


def tls_files(options: Options) -> TLSFiles:
    """The generated PKI, with any files given on the command line taking precedence."""
    explicit = (options.tls_cert_file, options.tls_private_key_file, options.client_ca_file)
    if all(explicit):
        return TLSFiles(
            cert=options.tls_cert_file,  # type: ignore[arg-type]
            key=options.tls_private_key_file,  # type: ignore[arg-type]
            client_ca=options.client_ca_file,  # type: ignore[arg-type]
            admin=None,
        )
    if bool(options.tls_cert_file) != bool(options.tls_private_key_file):
        raise SystemExit("--tls-cert-file and --tls-private-key-file must be given together")
    ips = [first_service_ip(options)]
    hosts: list[str] = []
    for address in (options.advertise_address, options.bind_address):
        if address and address not in ("0.0.0.0", "::", "127.0.0.1", "localhost"):
            (ips if address[0].isdigit() or ":" in address else hosts).append(address)
    # The same files `pyctl pki init` writes (the component identities too).
    cluster = clusterpki.ensure_cluster_pki(options.data_dir / "pki", hosts=hosts, ips=ips)
    generated = cluster.apiserver
    own_serving = options.tls_cert_file is None
    own_ca = options.client_ca_file is None
    return TLSFiles(
        cert=options.tls_cert_file or generated.apiserver_cert,
        key=options.tls_private_key_file or generated.apiserver_key,
        client_ca=options.client_ca_file or generated.ca_cert,
        admin=(generated.ca_cert, generated.admin_cert, generated.admin_key) if own_serving and own_ca else None,
        cluster=cluster if own_serving and own_ca else None,
    )


def _write_admin_kubeconfig(*, data_dir: Path, url: str, files: TLSFiles) -> Path | None:
    if files.admin is None:
        return None
    ca, cert, key = files.admin
    path = data_dir / KUBECONFIG_NAME
    write_kubeconfig(
        path,
        server=url,
        ca_cert_pem=ca.read_bytes(),
        client_cert_pem=cert.read_bytes(),
        client_key_pem=key.read_bytes(),
        user=ADMIN_USER,
    )
    return path


async def run(options: Options) -> None:
    options.data_dir.mkdir(parents=True, exist_ok=True)
    files = tls_files(options)
    metrics = Metrics()
    raw_storage = await open_storage(data_dir=options.data_dir, etcd_servers=options.etcd_servers or None)
    storage = InstrumentedStorage(raw_storage, metrics=metrics)
    crd.install()
    security = Security(options)
    api = API(storage=storage, resources=default_registry(), admission=security.admission)
    registry_resources.configure(
        api,
        registry_resources.ResourceOptions(
            service_cluster_ip_range=options.service_cluster_ip_range,
            service_node_port_range=options.service_node_port_range,
            kubelet=registry_resources.client_config_from_pki(options.data_dir / "pki"),
        ),
    )
    security.bind(api)
    crd_controller: crd.CRDController | None = None
    allocation_repair = registry_resources.service_repair(api)
    gc_policy = FreezeSurvivors()
    try:
        await api.start()
        await bootstrap(api)
        if allocation_repair is not None:
            allocation_repair.start()
        crd_controller = await crd.start(api)
        await security.start()
        server: TLSServer | None = None

        def shutting_down() -> bool:
            return server is not None and server.shutting_down.is_set()

        health = Health(storage=storage, caches_ready=lambda: True, shutting_down=shutting_down)
        app = security.wrap(
            create_app(
                api=api,
                metrics=metrics,
                health=health,
                authenticator=PreAuthenticated(),
                authorizer=security.authorizer,
            )
        )
        server = TLSServer(
            app,
            host=options.bind_address,
            port=options.secure_port,
            certfile=files.cert,
            keyfile=files.key,
            client_ca=files.client_ca,
            graceful_timeout=GRACEFUL_TIMEOUT,
            reuse_port=options.reuse_port,
        )

        def on_ready(url: str) -> None:
            kubeconfig = _write_admin_kubeconfig(data_dir=options.data_dir, url=url, files=files)
            if files.cluster is not None:
                clusterpki.write_kubeconfigs(files.cluster, server=url)  # scheduler, controller manager
            where = f" (kubeconfig: {kubeconfig})" if kubeconfig else ""
            print(f"kubesim apiserver ready at {url}{where}", flush=True)

        url = await server.start()
        try:
            # The kubernetes Service points at the port we listen on, known only now.
            await bootstrap_kubernetes_service(
                api,
                cluster_ip=first_service_ip(options),
                address=endpoint_address(options),
                port=urlsplit(url).port or options.secure_port,
            )
        except BaseException:
            await server.stop()
            raise
        # What exists now (modules, the compiled schema, the caches' first objects) lives
        # as long as the process; frozen, it is no longer walked by every full garbage
        # collection that request churn triggers (~60 µs per pod create otherwise), and
        # neither is what survives later full collections (see gcpolicy).
        gc_policy.start()
        on_ready(url)
        await server.wait()
        logger.info("apiserver stopped serving; closing watch caches and storage")
    finally:
        await gc_policy.stop()
        if allocation_repair is not None:
            await allocation_repair.stop()
        if crd_controller is not None:
            await crd_controller.stop()
        await security.stop()
        await api.stop()
        with contextlib.suppress(Exception):
            await storage.close()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop when installed (uvicorn[standard] brings it), as uvicorn itself would pick:
    its transports are faster, and they set TCP_NODELAY on every connection, without
    which a response written as two TLS records waits out the client's delayed ACK."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def main(options: Options) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(run(options))
    except StorageError as err:
        print(f"apiserver: {err.message}", file=sys.stderr)
        return 1
    except (pki.PkiError, TokenFileError) as err:
        print(f"apiserver: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"apiserver: {err} (listening on {options.bind_address}:{options.secure_port})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
