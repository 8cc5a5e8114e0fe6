"""HTTPS with client certificates on uvicorn, and a shutdown that never hangs on a watch.

Why this exists: kube-apiserver authenticates most callers by the client certificate
they present in the TLS handshake, but uvicorn 0.54 verifies that certificate and
then keeps it to itself. Each uvicorn protocol instance serves one connection and
calls ``self.app`` per request, so once the handshake is done our subclasses add the
ASGI TLS extension to every request's scope (the httptools one as it builds the scope,
``apiserver.httpcycle``; the others by wrapping ``self.app``)::

    scope["extensions"]["tls"] = {
        "client_cert_chain": [PEM str, ...],   # [] when the client sent no certificate
        "client_cert_name": "CN=...,O=...",    # RFC 4514, or None
        "client_cert_error": None,             # a bad certificate never gets this far
        "peer_cert": {...} | None,             # ssl.SSLObject.getpeercert()
        "peer_cert_sha256": hex | None,        # the credential id kube-apiserver audits
        "tls_version": 0x0304, "cipher_suite": 0x1302, "server_cert": PEM str,
    }

The handshake itself enforces what kube-apiserver's x509 authenticator checks: a
client certificate, if sent, must chain to ``--client-ca-file``, be within its validity
period and carry the clientAuth extended key usage (OpenSSL applies the "ssl_client"
purpose when a server verifies a peer). A refused handshake is logged with its reason;
the client only sees the connection close (asyncio drops the TLS alert, cpython
gh-98078). A client without a certificate still connects, as with kube-apiserver:
authentication then fails with 401 unless another method (tokens, anonymous)
applies. Only TLS 1.2 and 1.3 are spoken.

Shutdown: on SIGTERM/SIGINT or :meth:`TLSServer.stop` the server stops accepting,
lets in-flight requests finish and closes idle connections. Requests that never end
on their own (watches, ``logs -f``) must end when ``scope["extensions"]["kubesim.shutdown"]``
(an :class:`asyncio.Event`, also :attr:`TLSServer.shutting_down`) is set: await it,
or iterate the stream through :func:`until_shutdown`. Whatever still runs after
``graceful_timeout`` seconds is cancelled. A second SIGINT skips the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Generator, MutableMapping
from pathlib import Path
from types import FrameType
from typing import Any, Literal, TypeVar

import uvicorn
from cryptography import x509
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from apiserver.httpcycle import CycleHttpTools
from apiserver.limits import MAX_HEADER_BYTES

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Any]
T = TypeVar("T")

log = logging.getLogger(__name__)
SHUTDOWN_EXTENSION = "kubesim.shutdown"
_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
# Longer than Go's client-side idle timeout (90 s), so a client never sends a request
# on a connection we are closing at that very moment; kubectl retries only GETs.
KEEP_ALIVE_SECONDS = 120


class _HandshakeLoggingSSLObject(ssl.SSLObject):
    """Logs why a handshake failed: asyncio and uvloop only debug-log it, and drop the TLS
    alert that would tell the client (cpython gh-98078), so clients just see the
    connection close. kube-apiserver logs these too ("http: TLS handshake error")."""

    def do_handshake(self) -> None:
        try:
            super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise  # not an error: the handshake waits for more bytes
        except ssl.SSLError as err:
            reason = getattr(err, "verify_message", None) or err.reason or str(err)
            log.info("TLS handshake error: %s", reason)
            raise


def server_ssl_context(*, certfile: Path, keyfile: Path, client_ca: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(client_ca))
    ctx.sslobject_class = _HandshakeLoggingSSLObject
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(certfile), str(keyfile))
    ctx.verify_mode = ssl.CERT_OPTIONAL  # verify a certificate if one is sent; allow none
    # We speak HTTP/1.1 only; saying so stops Go clients from attempting h2.
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class _Config(uvicorn.Config):
    """uvicorn's Config plus what our protocols add to each scope, computed once."""

    def __init__(self, app: ASGIApp, *, tls: ssl.SSLContext, server_cert_pem: str, **kwargs: Any) -> None:
        super().__init__(app, ssl_context_factory=lambda _config, _default: tls, **kwargs)
        self.server_cert_pem = server_cert_pem
        self.cipher_ids = {c["name"]: c["id"] & 0xFFFF for c in tls.get_ciphers()}
        self.shutting_down = asyncio.Event()


def tls_extension(ssl_object: ssl.SSLObject, *, config: _Config) -> dict[str, Any]:
    der = ssl_object.getpeercert(binary_form=True)
    cipher = ssl_object.cipher()
    ext: dict[str, Any] = {
        "server_cert": config.server_cert_pem,
        "client_cert_chain": [],
        "client_cert_name": None,
        "client_cert_error": None,
        "peer_cert": None,
        "peer_cert_sha256": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or "", 0),
        "cipher_suite": config.cipher_ids.get(cipher[0], 0) if cipher else 0,
    }
    if der:
        ext["client_cert_chain"] = [ssl.DER_cert_to_PEM_cert(der)]
        ext["client_cert_name"] = x509.load_der_x509_certificate(der).subject.rfc4514_string()
        ext["peer_cert"] = ssl_object.getpeercert()
        ext["peer_cert_sha256"] = hashlib.sha256(der).hexdigest()
    return ext


TRANSPORT_EXTENSION = "kubesim.transport"
"""The connection's asyncio transport, for handlers that stream a chunked response by
writing it themselves (the watch fan-out): after ``http.response.start`` uvicorn's
httptools protocol writes each body chunk straight to the transport, so direct writes
stay in order as long as the handler is the only writer and still ends the response
through ASGI (``more_body: False``)."""


class _WithExtensions:
    """The app as one connection sees it: every request scope gets the connection's
    extensions (TLS identity, the shutdown event, the transport)."""

    __slots__ = ("app", "extensions")

    def __init__(self, app: ASGIApp, extensions: dict[str, Any]) -> None:
        self.app, self.extensions = app, extensions

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        scope["extensions"] = {**(scope.get("extensions") or {}), **self.extensions}
        await self.app(scope, receive, send)


def _extensions(transport: asyncio.BaseTransport, config: uvicorn.Config) -> dict[str, Any] | None:
    """What every request of this connection gets in ``scope["extensions"]``; None
    when the connection is not ours to describe (no TLS, or not a ``TLSServer``)."""
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(config, _Config) or ssl_object is None:
        return None
    return {
        "tls": tls_extension(ssl_object, config=config),
        SHUTDOWN_EXTENSION: config.shutting_down,
        TRANSPORT_EXTENSION: transport,
    }


def _wrap_app(app: Any, transport: asyncio.BaseTransport, config: uvicorn.Config) -> Any:
    extensions = _extensions(transport, config)
    return app if extensions is None else _WithExtensions(app, extensions)


# asyncio calls connection_made after the handshake, so the peer certificate is known.
class HttpToolsTLSProtocol(CycleHttpTools):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Put in each scope as the protocol builds it: no app wrapper to await per request.
        self.scope_extensions = _extensions(transport, self.config)


class H11TLSProtocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.app = _wrap_app(self.app, transport, self.config)


class WebSocketTLSProtocol(WebSocketsSansIOProtocol):
    """Upgraded connections (kubectl exec/attach/port-forward) keep the client's identity."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.app = _wrap_app(self.app, transport, self.config)


_PROTOCOLS: dict[str, type[asyncio.Protocol]] = {"httptools": HttpToolsTLSProtocol, "h11": H11TLSProtocol}


def shutdown_event(scope: Scope) -> asyncio.Event:
    """The server's shutdown event, or one that never fires when not served by :class:`TLSServer`."""
    event = (scope.get("extensions") or {}).get(SHUTDOWN_EXTENSION)
    return event if isinstance(event, asyncio.Event) else asyncio.Event()


async def until_shutdown(scope: Scope, source: AsyncIterator[T]) -> AsyncIterator[T]:
    """Items of ``source`` until it ends or the server begins shutting down, then close it.

    Costs a task per item: fine for one stream, but a watch cache fanning out to
    thousands of watchers should rather await :func:`shutdown_event` once and close
    its watcher queues itself.
    """
    stop = asyncio.ensure_future(shutdown_event(scope).wait())
    try:
        while True:
            item = asyncio.ensure_future(anext(source))
            await asyncio.wait((item, stop), return_when=asyncio.FIRST_COMPLETED)
            if not item.done():
                item.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await item
                return
            try:
                value = item.result()
            except StopAsyncIteration:
                return
            yield value
    finally:
        stop.cancel()
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


def bind(host: str, port: int, *, reuse_port: bool = False, listen: bool = True) -> socket.socket:
    """A TCP socket bound to ``host:port``, listening unless ``listen`` is False (which
    only holds the port: ``--workers``' supervisor keeps it so that port 0 stays put)."""
    # We bind, not uvicorn: a busy port is then an OSError for the caller, not sys.exit.
    # An explicit IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only when the
    # listening socket says it is TCP, and create_server leaves proto at 0. Without
    # NODELAY every small response waits ~40 ms for the peer's delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:  # one of several worker processes: the kernel spreads connections
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


class _Uvicorn(uvicorn.Server):
    def __init__(self, config: _Config, *, owner: TLSServer) -> None:
        super().__init__(config)
        self._owner = owner
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's startup, but with ssl_shutdown_timeout: asyncio's TLS close waits for
        # the client's close_notify (30 s by default). Python clients never send it for a
        # pooled connection, so every shutdown would hang that long; Go does not wait at all.
        await self.lifespan.startup()
        if self.lifespan.should_exit:  # where uvicorn would sys.exit
            raise RuntimeError("the ASGI app failed to start (lifespan startup); see the log")
        config = self.config

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        loop = asyncio.get_running_loop()
        self.servers = [
            await loop.create_server(
                protocol,
                sock=sock,
                ssl=config.ssl,
                backlog=config.backlog,
                ssl_shutdown_timeout=self._owner.tls_close_timeout,
            )
            for sock in sockets or ()
        ]
        self.started = True
        self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Unlike uvicorn we do not re-raise the signal afterwards: the caller decides how
        # the process ends, after its own cleanup (closing storage, leases).
        if not self._owner.handle_signals or threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()

        def handler(sig: int, _frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(self._owner.on_signal, sig)

        originals = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, original in originals.items():
                signal.signal(sig, original)


class TLSServer:
    """One HTTPS listener: ``url = await start()``, then ``await wait()`` or ``await stop()``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str,
        port: int,
        certfile: Path,
        keyfile: Path,
        client_ca: Path,
        graceful_timeout: float = 10,
        http: Literal["httptools", "h11"] = "httptools",
        handle_signals: bool = True,
        access_log: bool = False,
        tls_close_timeout: float = 1.0,
        reuse_port: bool = False,
    ) -> None:
        self.handle_signals = handle_signals
        self._reuse_port = reuse_port
        # Long enough to flush the tail of a response (flow control keeps at most ~64 KiB
        # buffered), short enough that clients which never answer close_notify cannot
        # hold up a shutdown.
        self.tls_close_timeout = tls_close_timeout
        self._host, self._port = host, port
        self._config = _Config(
            app,
            tls=server_ssl_context(certfile=certfile, keyfile=keyfile, client_ca=client_ca),
            server_cert_pem=certfile.read_text(),
            http=_PROTOCOLS[http],
            ws=WebSocketTLSProtocol,
            log_config=None,  # leave the process's logging alone
            access_log=access_log,
            proxy_headers=False,  # nobody may claim another client address via X-Forwarded-For
            server_header=False,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,  # httptools: HeaderLimitedHttpTools
            # uvicorn annotates int but only hands it to asyncio.wait_for, which takes float.
            timeout_graceful_shutdown=graceful_timeout,
        )
        self._server = _Uvicorn(self._config, owner=self)
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    @property
    def shutting_down(self) -> asyncio.Event:
        return self._config.shutting_down

    async def start(self) -> str:
        """Listen (port 0 picks a free port) and return the URL clients should use."""
        sock = bind(self._host, self._port, reuse_port=self._reuse_port)
        self.url = _url(sock)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        ready = asyncio.create_task(self._server.ready.wait())
        await asyncio.wait((ready, self._task), return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            sock.close()
            self._task.result()  # raises what went wrong
            raise RuntimeError("the server stopped while starting")
        return self.url

    def request_shutdown(self) -> None:
        """Begin a graceful shutdown (call from the server's event loop)."""
        self.shutting_down.set()
        self._server.should_exit = True

    def on_signal(self, sig: int) -> None:
        if self.shutting_down.is_set() and sig == signal.SIGINT:
            self._server.force_exit = True  # a second Ctrl+C: stop waiting for requests
        self.request_shutdown()

    async def wait(self) -> None:
        """Until the server has shut down. Cancelling this shuts the server down gracefully."""
        if self._task is None:
            raise RuntimeError("TLSServer.wait() before start()")
        try:
            await asyncio.shield(self._task)
        except asyncio.CancelledError:
            self.request_shutdown()
            await self._task
            raise

    async def stop(self) -> None:
        self.request_shutdown()
        await self.wait()

    async def serve(self, *, on_ready: Callable[[str], None] | None = None) -> None:
        url = await self.start()
        if on_ready is not None:
            on_ready(url)
        await self.wait()


async def serve(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    certfile: Path,
    keyfile: Path,
    client_ca: Path,
    on_ready: Callable[[str], None] | None = None,
    graceful_timeout: float = 10,
) -> None:
    """Serve ``app`` over HTTPS until SIGTERM/SIGINT, then drain and return."""
    server = TLSServer(
        app,
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        client_ca=client_ca,
        graceful_timeout=graceful_timeout,
    )
    await server.serve(on_ready=on_ready)
