"""Kubeconfig files: the one way every client here learns where the API server is and who it is.

We write the same format kubectl reads (certificates embedded as base64 ``*-data``), so
a file made by ``pyctl`` or the API server works with the real ``kubectl`` and the
official Python client, and a file made by kubectl works with ours.

Loading follows kubectl's rules, because users will hand us their own files: the
``KUBECONFIG`` list is merged with the first file winning for each named cluster,
user and context, ``current-context`` comes from the first file that sets it, missing
files in the list are skipped, and relative file paths are relative to the file that
names them. Credentials we cannot use (exec plugins, auth providers) are a clear
error rather than a silent anonymous connection.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kube.pki import write_file_atomic

DEFAULT_PATH = Path("~/.kube/config")


class KubeconfigError(Exception):
    """The kubeconfig cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """Everything a client needs to reach one API server as one user, already read from disk."""

    server: str
    context: str
    cluster: str
    user: str
    namespace: str = "default"
    ca_cert_pem: bytes | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    token: str | None = None
    insecure_skip_tls_verify: bool = False
    # httpx takes the SNI/verification name per request: extensions={"sni_hostname": ...}.
    tls_server_name: str | None = None

    def ssl_context(self) -> ssl.SSLContext:
        """A client context for httpx (``verify=``): trust the cluster CA, present our certificate."""
        if self.insecure_skip_tls_verify:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_cert_pem:
            ctx = ssl.create_default_context(cadata=self.ca_cert_pem.decode())
        else:
            ctx = ssl.create_default_context()  # a server with a publicly trusted certificate
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.client_cert_pem and self.client_key_pem:
            with _pem_file(self.client_cert_pem + b"\n" + self.client_key_pem) as path:
                ctx.load_cert_chain(path)
        return ctx


@contextmanager
def _pem_file(data: bytes) -> Iterator[str]:
    """A path holding ``data``, for ssl's file-only ``load_cert_chain``.

    On Linux this is an anonymous memory file, so the private key never touches disk;
    elsewhere a 0600 temporary file that is removed right after loading.
    """
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        fd = os.memfd_create("kubesim-client-cert", os.MFD_CLOEXEC)
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    fd, name = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        yield name
    finally:
        os.unlink(name)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write_kubeconfig(
    path: Path,
    *,
    server: str,
    ca_cert_pem: bytes,
    client_cert_pem: bytes | None,
    client_key_pem: bytes | None,
    token: str | None = None,
    user: str,
    cluster: str = "kubesim",
    context: str = "kubesim",
) -> None:
    """Write a self-contained kubeconfig (mode 0600: it holds a private key or token)."""
    if (client_cert_pem is None) != (client_key_pem is None):
        raise ValueError("client_cert_pem and client_key_pem go together")
    creds: dict[str, str] = {}
    if client_cert_pem is not None and client_key_pem is not None:
        creds["client-certificate-data"] = _b64(client_cert_pem)
        creds["client-key-data"] = _b64(client_key_pem)
    if token is not None:
        creds["token"] = token
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster, "cluster": {"server": server, "certificate-authority-data": _b64(ca_cert_pem)}}
        ],
        "users": [{"name": user, "user": creds}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
        "current-context": context,
        "preferences": {},
    }
    data = yaml.safe_dump(doc, sort_keys=False).encode()
    write_file_atomic(Path(path), data, mode=0o600, overwrite=True)


@dataclass(slots=True)
class _Merged:
    """Named entries from all files, first definition wins; each remembers its file's directory."""

    clusters: dict[str, tuple[dict[str, Any], Path]]
    users: dict[str, tuple[dict[str, Any], Path]]
    contexts: dict[str, dict[str, Any]]
    current_context: str = ""


def _paths(path: Path | str | None) -> list[Path]:
    if path is not None:
        return [Path(path).expanduser()]  # explicit, like --kubeconfig: must exist
    env = os.environ.get("KUBECONFIG", "")
    if env:
        listed = [Path(p).expanduser() for p in env.split(os.pathsep) if p]
        return [p for p in dict.fromkeys(listed) if p.exists()]  # kubectl skips missing entries
    return [DEFAULT_PATH.expanduser()]


def _read(paths: list[Path]) -> _Merged:
    merged = _Merged(clusters={}, users={}, contexts={})
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except OSError as err:
            raise KubeconfigError(f"cannot read kubeconfig {path}: {err.strerror}") from None
        except yaml.YAMLError as err:
            raise KubeconfigError(f"kubeconfig {path} is not valid YAML: {err}") from None
        if not isinstance(doc, dict):
            raise KubeconfigError(f"kubeconfig {path} is not a mapping")
        base = path.parent
        for section, target, key in (
            ("clusters", merged.clusters, "cluster"),
            ("users", merged.users, "user"),
        ):
            for entry in doc.get(section) or ():
                target.setdefault(entry.get("name", ""), (entry.get(key) or {}, base))
        for entry in doc.get("contexts") or ():
            merged.contexts.setdefault(entry.get("name", ""), entry.get("context") or {})
        merged.current_context = merged.current_context or doc.get("current-context") or ""
    return merged


def _data(entry: dict[str, Any], *, base: Path, key: str, what: str) -> bytes | None:
    """Inline ``<key>-data`` (base64) wins over the ``<key>`` file path, as in client-go."""
    inline = entry.get(f"{key}-data")
    if inline:
        try:
            return base64.b64decode(inline, validate=True)
        except ValueError:
            raise KubeconfigError(f"{what}: {key}-data is not valid base64") from None
    file = entry.get(key)
    if not file:
        return None
    path = (base / Path(file).expanduser()).resolve()
    try:
        return path.read_bytes()
    except OSError as err:
        raise KubeconfigError(f"{what}: cannot read {key} {path}: {err.strerror}") from None


def load_kubeconfig(path: Path | str | None = None, *, context: str | None = None) -> ClientConfig:
    """Resolve a context (``context`` or the current one) into a ready :class:`ClientConfig`."""
    paths = _paths(path)
    if not paths:
        raise KubeconfigError("no kubeconfig: none of the files in KUBECONFIG exist")
    merged = _read(paths)
    name = context or merged.current_context
    where = ", ".join(map(str, paths))
    if not name:
        raise KubeconfigError(f"no current-context in {where}; pass a context")
    ctx = merged.contexts.get(name)
    if ctx is None:
        raise KubeconfigError(f'context "{name}" not found in {where}')
    cluster_name, user_name = ctx.get("cluster", ""), ctx.get("user", "")
    if cluster_name not in merged.clusters:
        raise KubeconfigError(f'context "{name}": cluster "{cluster_name}" not found in {where}')
    cluster, cluster_base = merged.clusters[cluster_name]
    user, user_base = merged.users.get(user_name, ({}, Path(".")))
    if not cluster.get("server"):
        raise KubeconfigError(f'cluster "{cluster_name}" has no server')
    for unsupported in ("exec", "auth-provider"):
        if unsupported in user:
            raise KubeconfigError(
                f'user "{user_name}": {unsupported} credentials are not supported by kubesim'
            )
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token_path = (user_base / Path(user["tokenFile"]).expanduser()).resolve()
        try:
            token = token_path.read_text().strip()
        except OSError as err:
            raise KubeconfigError(
                f'user "{user_name}": cannot read tokenFile {token_path}: {err.strerror}'
            ) from None
    return ClientConfig(
        server=str(cluster["server"]).rstrip("/"),
        context=name,
        cluster=cluster_name,
        user=user_name,
        namespace=ctx.get("namespace") or "default",
        ca_cert_pem=_data(
            cluster, base=cluster_base, key="certificate-authority", what=f'cluster "{cluster_name}"'
        ),
        client_cert_pem=_data(user, base=user_base, key="client-certificate", what=f'user "{user_name}"'),
        client_key_pem=_data(user, base=user_base, key="client-key", what=f'user "{user_name}"'),
        token=token or None,
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify")),
        tls_server_name=cluster.get("tls-server-name") or None,
    )
