"""The scheduler's own HTTPS endpoint (``--secure-port``, 10259 as kube-scheduler's).

- ``/healthz``, ``/livez``, ``/readyz`` — ``ok``;
- ``/metrics`` — Prometheus text;
- ``/debug/decisions`` — the recent decisions, newest first (``?limit=N``);
- ``/debug/decisions/<namespace>/<pod>`` — that pod's latest decision in full: every
  evaluated node with the filter that rejected it and why, every scored node with each
  plugin's raw, normalized and weighted score.

A deliberately small HTTP/1.1 server on asyncio streams: GET only, one response per
request, keep-alive. The serving certificate is generated at start with
:mod:`kube.pki` unless ``--tls-cert-file``/``--tls-private-key-file`` are given. Like
``kubectl`` against kube-scheduler, clients skip verification or trust the printed CA.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from kube import pki
from scheduler.explain import DecisionStore

log = logging.getLogger(__name__)
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
MAX_REQUEST_LINE = 8192


def self_signed_context(*, hosts: list[str], cert_dir: Path | None = None) -> tuple[ssl.SSLContext, Path]:
    """A server context with a fresh CA-signed certificate for ``hosts``; returns the CA file too."""
    ca = pki.new_ca(common_name="kube-scheduler-ca")
    names, ips = pki.split_hosts(hosts)
    pair = pki.issue_cert(
        ca=ca, common_name="kube-scheduler", dns_names=names, ip_addresses=ips, server=True, client=False
    )
    directory = cert_dir or Path(tempfile.mkdtemp(prefix="kube-scheduler-"))
    directory.mkdir(parents=True, exist_ok=True)
    cert, key, ca_file = (
        directory / "kube-scheduler.crt",
        directory / "kube-scheduler.key",
        directory / "ca.crt",
    )
    pki.write_file_atomic(cert, pair.cert_pem() + ca.cert_pem(), mode=0o644, overwrite=True)
    pki.write_file_atomic(key, pair.key_pem(), mode=0o600, overwrite=True)
    pki.write_file_atomic(ca_file, ca.cert_pem(), mode=0o644, overwrite=True)
    return context_from_files(cert, key), ca_file


def context_from_files(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


class DebugServer:
    def __init__(
        self,
        *,
        decisions: DecisionStore,
        metrics: Callable[[], bytes],
        healthy: Callable[[], bool] = lambda: True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.decisions = decisions
        self.metrics = metrics
        self.healthy = healthy
        self.ssl_context = ssl_context
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, *, host: str = "0.0.0.0", port: int = 10259) -> int:
        self.server = await asyncio.start_server(self._serve, host, port, ssl=self.ssl_context)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()

    def route(self, target: str) -> tuple[int, str, bytes]:
        url = urlsplit(target)
        path = unquote(url.path).rstrip("/") or "/"
        query = parse_qs(url.query)
        if path in ("/healthz", "/livez", "/readyz"):
            return (200, TEXT, b"ok") if self.healthy() else (500, TEXT, b"unhealthy")
        if path == "/metrics":
            return 200, PROMETHEUS, self.metrics()
        if path == "/debug/decisions":
            try:
                limit = int(query.get("limit", ["50"])[0])
            except ValueError:
                return 400, TEXT, b"limit must be an integer"
            body = {
                "kind": "DecisionList",
                "total": self.decisions.total,
                "items": [r.header() for r in self.decisions.recent(max(limit, 0))],
            }
            return 200, JSON, orjson.dumps(body)
        parts = path.split("/")
        if len(parts) == 5 and parts[1:3] == ["debug", "decisions"]:
            record = self.decisions.get(f"{parts[3]}/{parts[4]}")
            if record is None:
                return 404, TEXT, f"no recent decision for pod {parts[3]}/{parts[4]}".encode()
            return 200, JSON, orjson.dumps(record.to_dict())
        return 404, TEXT, b"404 page not found"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if len(line) > MAX_REQUEST_LINE:
                    await self._reply(writer, 414, TEXT, b"request line too long", close=True)
                    return
                try:
                    method, target, _version = line.decode("latin-1").split()
                except ValueError:
                    await self._reply(writer, 400, TEXT, b"bad request", close=True)
                    return
                close = False
                length = 0
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "connection" and value.strip().lower() == "close":
                        close = True
                    if name.strip().lower() == "content-length":
                        length = int(value.strip() or 0)
                if length:
                    await reader.readexactly(length)
                if method not in ("GET", "HEAD"):
                    await self._reply(writer, 405, TEXT, b"method not allowed", close=close)
                else:
                    status, ctype, body = self.route(target)
                    await self._reply(writer, status, ctype, b"" if method == "HEAD" else body, close=close)
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            return
        except Exception:
            log.exception("debug server request failed")
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _reply(
        writer: asyncio.StreamWriter, status: int, ctype: str, body: bytes, *, close: bool
    ) -> None:
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 414: "URI Too Long",
                  500: "Internal Server Error"}.get(status, "OK")  # fmt: skip
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        await writer.drain()
