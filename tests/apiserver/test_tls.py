"""HTTPS with client certificates: real TLS on loopback, real certificates, real kubectl.

Most tests share one server running on uvloop in a thread (what ``python -m apiserver``
runs); shutdown tests start their own server on the test's asyncio loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
import uvloop
from websockets.asyncio.client import connect as ws_connect

from apiserver import tls
from apiserver.authn import authenticate_request
from kube import pki
from kube.errors import Unauthorized
from kube.kubeconfig import load_kubeconfig, write_kubeconfig

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
VERSIONED = Path(os.path.realpath(KUBECTL)).parent if KUBECTL else Path("/nonexistent")


class Certs:
    """The cluster PKI plus the certificates an attacker or a careless admin might bring."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pki = pki.ensure_apiserver_pki(root / "pki", hosts=[], ips=["10.96.0.1"])
        self.ca = pki.load_pair(self.pki.ca_cert, self.pki.ca_key)
        long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        self.bad = {
            "wrong-ca": pki.issue_cert(ca=pki.new_ca(), common_name="mallory", server=False, client=True),
            "expired": pki.issue_cert(
                ca=self.ca, common_name="old", server=False, client=True, not_before=long_ago
            ),
            "not-yet-valid": pki.issue_cert(
                ca=self.ca, common_name="new", server=False, client=True, not_before=soon
            ),
            "server-only": pki.issue_cert(
                ca=self.ca, common_name="web", dns_names=["web"], server=True, client=False
            ),
        }

    def kubeconfig(self, url: str, *, name: str = "admin", pair: pki.KeyPair | None = None) -> Path:
        path = self.root / f"{name}.kubeconfig"
        if pair is None and name == "admin":
            pair = pki.load_pair(self.pki.admin_cert, self.pki.admin_key)
        write_kubeconfig(
            path,
            server=url,
            ca_cert_pem=self.ca.cert_pem(),
            client_cert_pem=pair.cert_pem() if pair else None,
            client_key_pem=pair.key_pem() if pair else None,
            # kubectl prompts for a password when a user has no credentials at all.
            token=None if pair else "not-a-valid-token",
            user=name,
        )
        return path

    def client_context(self, pair: pki.KeyPair | None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=self.ca.cert_pem().decode())
        if pair is not None:
            cert, key = self.root / "client.crt", self.root / "client.key"
            pki.save_pair(pair, cert, key, overwrite=True)
            ctx.load_cert_chain(cert, key)
        return ctx


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return Certs(tmp_path_factory.mktemp("tls"))


async def _respond(send: Any, status: int, body: dict[str, Any]) -> None:
    data = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class WhoAmI:
    """A tiny API server: /version for kubectl's dispatcher, anything else says who you are."""

    def __init__(self) -> None:
        self.requests = 0
        self.stream_closed = asyncio.Event()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            user = authenticate_request(scope)
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": user.name if user else ""})
            await send({"type": "websocket.close"})
            return
        if scope["type"] != "http":
            return
        self.requests += 1
        try:
            user = authenticate_request(scope)
        except Unauthorized as err:
            return await _respond(send, 401, err.status())
        if user is None:
            return await _respond(send, 401, Unauthorized().status())
        if scope["path"] == "/version":
            return await _respond(send, 200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0"})
        if scope["path"] == "/stream":
            return await self.stream(scope, send)
        if scope["path"] == "/stuck":
            await asyncio.sleep(3600)
        ext = {k: v for k, v in scope["extensions"]["tls"].items() if k != "server_cert"}
        await _respond(
            send, 200, {"user": user.name, "groups": user.groups, "port": scope["client"][1], "tls": ext}
        )

    async def stream(self, scope: MutableMapping[str, Any], send: Any) -> None:
        async def ticks() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b'{"type":"BOOKMARK"}\n'
                    await asyncio.sleep(0.02)
            finally:
                self.stream_closed.set()

        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        async for chunk in tls.until_shutdown(scope, ticks()):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def shared(certs: Certs) -> Iterator[tuple[str, WhoAmI]]:
    """One server on uvloop in a thread, as the API server runs in production."""
    app = WhoAmI()
    server = tls.TLSServer(
        app,
        host="127.0.0.1",
        port=0,
        certfile=certs.pki.apiserver_cert,
        keyfile=certs.pki.apiserver_key,
        client_ca=certs.pki.ca_cert,
    )
    started = threading.Event()
    loop: list[asyncio.AbstractEventLoop] = []

    async def run() -> None:
        loop.append(asyncio.get_running_loop())
        await server.start()
        started.set()
        await server.wait()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        thread = threading.Thread(target=runner.run, args=(run(),), daemon=True)
        thread.start()
        assert started.wait(10)
        yield server.url, app
        loop[0].call_soon_threadsafe(server.request_shutdown)
        thread.join(10)
        assert not thread.is_alive()


def _raw_get(url: str, ctx: ssl.SSLContext, path: str = "/") -> bytes:
    """One request over a bare TLS socket, so handshake failures surface as ssl errors."""
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=parts.hostname) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            return data


def test_client_certificate_reaches_the_app(shared: tuple[str, WhoAmI], certs: Certs) -> None:
    url, _ = shared
    cfg = load_kubeconfig(certs.kubeconfig(url))
    with httpx.Client(verify=cfg.ssl_context()) as client:
        first = client.get(f"{url}/whoami").json()
        second = client.get(f"{url}/whoami").json()
    assert first["user"] == "kubernetes-admin"
    assert first["groups"] == ["system:masters", "system:authenticated"]
    assert second["port"] == first["port"]  # a keep-alive connection: each request gets the extension
    assert second["tls"] == first["tls"]
    ext = first["tls"]
    assert ext["client_cert_chain"] == [certs.pki.admin_cert.read_text()]
    assert ext["client_cert_name"] == "O=system:masters,CN=kubernetes-admin"
    assert ext["peer_cert"]["subject"] == [
        [["commonName", "kubernetes-admin"]],
        [["organizationName", "system:masters"]],
    ]
    assert ext["tls_version"] == 0x0304 and ext["cipher_suite"] in (0x1301, 0x1302, 0x1303)
    assert ext["client_cert_error"] is None and len(ext["peer_cert_sha256"]) == 64


def test_a_client_without_certificate_connects_and_is_nobody(
    shared: tuple[str, WhoAmI], certs: Certs
) -> None:
    url, _ = shared
    with httpx.Client(verify=certs.client_context(None)) as client:
        answer = client.get(f"{url}/whoami")
    assert answer.status_code == 401
    assert answer.json()["reason"] == "Unauthorized"


def _refused(url: str, ctx: ssl.SSLContext) -> bool:
    """True if the server closed the connection instead of answering.

    The server rejects the handshake, but asyncio drops the TLS alert that would tell
    the client why (cpython gh-98078), so a client sees EOF, or the alert once fixed.
    """
    try:
        return _raw_get(url, ctx, "/whoami") == b""
    except (ssl.SSLError, ConnectionResetError):
        return True


@pytest.mark.parametrize(
    ("which", "reason"),
    [
        ("wrong-ca", "unable to get local issuer certificate"),
        ("expired", "certificate has expired"),
        ("not-yet-valid", "certificate is not yet valid"),
        ("server-only", "unsuitable certificate purpose"),
    ],
)
def test_bad_client_certificates_fail_the_handshake(
    shared: tuple[str, WhoAmI], certs: Certs, caplog: pytest.LogCaptureFixture, which: str, reason: str
) -> None:
    url, app = shared
    before = app.requests
    with caplog.at_level(logging.INFO, logger="apiserver.tls"):
        assert _refused(url, certs.client_context(certs.bad[which]))
    # The server says why, as kube-apiserver does: "TLS handshake error: ...".
    assert f"TLS handshake error: {reason}" in caplog.messages
    with (
        pytest.raises(httpx.TransportError),
        httpx.Client(verify=certs.client_context(certs.bad[which])) as client,
    ):
        client.get(f"{url}/whoami")
    assert app.requests == before


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_only_tls_1_2_and_newer(
    shared: tuple[str, WhoAmI], certs: Certs, caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = shared
    admin = pki.load_pair(certs.pki.admin_cert, certs.pki.admin_key)
    old = certs.client_context(admin)
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client really offer TLS 1.1: the server must refuse
    with caplog.at_level(logging.INFO, logger="apiserver.tls"):
        assert _refused(url, old)
    assert "TLS handshake error: UNSUPPORTED_PROTOCOL" in caplog.messages
    tls12 = certs.client_context(admin)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    answer = json.loads(_raw_get(url, tls12, "/whoami").split(b"\r\n\r\n", 1)[1])
    assert answer["user"] == "kubernetes-admin" and answer["tls"]["tls_version"] == 0x0303


@needs_kubectl
@pytest.mark.parametrize("binary", ["kubectl", "kubectl.1.27"])
def test_real_kubectl_authenticates_with_the_kubeconfig(
    shared: tuple[str, WhoAmI], certs: Certs, binary: str
) -> None:
    url, _ = shared
    exe = KUBECTL if binary == "kubectl" else str(VERSIONED / binary)
    if not Path(str(exe)).exists():
        pytest.skip(f"{binary} not installed")
    run = [str(exe), "--kubeconfig", str(certs.kubeconfig(url)), "--cache-dir", str(certs.root / "cache")]
    done = subprocess.run(
        [*run, "get", "--raw", "/whoami"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["groups"] == ["system:masters", "system:authenticated"]

    nobody = certs.kubeconfig(url, name="nobody")
    run[2] = str(nobody)
    done = subprocess.run(
        [*run, "get", "--raw", "/whoami"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode != 0 and "Unauthorized" in done.stderr


async def test_websocket_upgrade_keeps_the_identity(shared: tuple[str, WhoAmI], certs: Certs) -> None:
    url, _ = shared
    ctx = load_kubeconfig(certs.kubeconfig(url)).ssl_context()
    async with ws_connect(url.replace("https", "wss") + "/exec", ssl=ctx, proxy=None) as ws:
        assert await ws.recv() == "kubernetes-admin"


def _server(certs: Certs, app: Any, **kwargs: Any) -> tls.TLSServer:
    kwargs.setdefault("handle_signals", False)
    kwargs.setdefault("tls_close_timeout", 0.25)  # httpx never answers close_notify; see TLSServer
    return tls.TLSServer(
        app,
        host="127.0.0.1",
        port=0,
        certfile=certs.pki.apiserver_cert,
        keyfile=certs.pki.apiserver_key,
        client_ca=certs.pki.ca_cert,
        **kwargs,
    )


def _client(certs: Certs, url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=load_kubeconfig(certs.kubeconfig(url)).ssl_context(), timeout=5)


async def test_serve_reports_the_real_port_and_cancelling_it_stops_cleanly(certs: Certs) -> None:
    urls: list[str] = []
    ready = asyncio.Event()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    task = asyncio.create_task(
        tls.serve(
            WhoAmI(),
            host="127.0.0.1",
            port=0,
            certfile=certs.pki.apiserver_cert,
            keyfile=certs.pki.apiserver_key,
            client_ca=certs.pki.ca_cert,
            on_ready=on_ready,
        )
    )
    await ready.wait()
    port = int(urls[0].rsplit(":", 1)[1])
    assert urls == [f"https://127.0.0.1:{port}"] and port > 0
    async with _client(certs, urls[0]) as client:
        assert (await client.get(f"{urls[0]}/whoami")).json()["user"] == "kubernetes-admin"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


async def test_h11_carries_the_certificate_too(certs: Certs) -> None:
    server = _server(certs, WhoAmI(), http="h11")
    url = await server.start()
    async with _client(certs, url) as client:
        answer = (await client.get(f"{url}/whoami")).json()
    await server.stop()
    assert answer["user"] == "kubernetes-admin" and answer["tls"]["client_cert_chain"]


async def _open_stream(client: httpx.AsyncClient, url: str) -> tuple[httpx.Response, AsyncIterator[str]]:
    response = await client.send(client.build_request("GET", f"{url}/stream"), stream=True)
    lines = response.aiter_lines()
    assert await anext(lines) == '{"type":"BOOKMARK"}'
    return response, lines


async def _drain(lines: AsyncIterator[str]) -> int:
    return sum([1 async for _ in lines])


async def test_stop_ends_open_streams_cleanly_and_promptly(certs: Certs) -> None:
    app = WhoAmI()
    server = _server(certs, app)
    url = await server.start()
    async with _client(certs, url) as client:
        response, lines = await _open_stream(client, url)
        idle = await client.get(f"{url}/whoami")  # a second, idle keep-alive connection
        started = time.monotonic()
        # _drain raises if the chunked body is cut off; it must end like any response.
        await asyncio.gather(server.stop(), _drain(lines))
        elapsed = time.monotonic() - started
        await response.aclose()
    assert idle.status_code == 200
    assert app.stream_closed.is_set()  # the source stream was closed, not abandoned
    assert elapsed < 1.5


async def test_sigterm_drains_and_returns_to_the_caller(certs: Certs) -> None:
    original = signal.getsignal(signal.SIGTERM)
    app = WhoAmI()
    server = _server(certs, app, handle_signals=True)
    ready = asyncio.Event()
    serving = asyncio.create_task(server.serve(on_ready=lambda _url: ready.set()))
    await ready.wait()
    async with _client(certs, server.url) as client:
        response, lines = await _open_stream(client, server.url)
        assert signal.getsignal(signal.SIGTERM) is not original  # ours now, or SIGTERM would kill pytest
        started = time.monotonic()
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(serving, _drain(lines)), timeout=5)
        await response.aclose()
    assert time.monotonic() - started < 1.5
    assert app.stream_closed.is_set()
    assert signal.getsignal(signal.SIGTERM) is original


async def test_a_handler_that_ignores_shutdown_is_cancelled_after_the_grace_period(certs: Certs) -> None:
    server = _server(certs, WhoAmI(), graceful_timeout=0.3)
    url = await server.start()
    async with _client(certs, url) as client:
        stuck = asyncio.create_task(client.get(f"{url}/stuck"))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await server.stop()
        assert time.monotonic() - started < 1.5
        # uvicorn answers 500 for a handler cancelled before it responded.
        assert (await asyncio.wait_for(stuck, 2)).status_code == 500
