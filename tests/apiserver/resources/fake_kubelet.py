"""A kubelet's HTTPS log endpoint, enough to test the API server's proxy to it.

It serves ``/containerLogs/<ns>/<pod>/<container>`` over TLS with a certificate from a
test CA, asks for (and records) the client certificate, records every request, and
answers with the lines it is given — chunked, one chunk per line, optionally waiting
for a signal between lines so a test can see the API server stream rather than buffer.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from kube import pki


@dataclass
class Seen:
    path: str
    client_cn: str


@dataclass
class FakeKubelet:
    pki_dir: Path
    lines: list[bytes] = field(default_factory=lambda: [b"line 1\n", b"line 2\n"])
    status: int = 200
    error_body: bytes = b""
    hold_after_first: asyncio.Event | None = None
    """When set, the stream pauses after the first line until the event fires."""
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    def write_ca(self) -> None:
        """A CA in ``pki_dir`` as the API server's first start leaves it (ca.crt, ca.key)."""
        ca = pki.new_ca()
        pki.save_pair(ca, self.pki_dir / "ca.crt", self.pki_dir / "ca.key")

    async def start(self) -> int:
        ca = pki.load_pair(self.pki_dir / "ca.crt", self.pki_dir / "ca.key")
        serving = pki.issue_cert(
            ca=ca, common_name="kubelet", ip_addresses=["127.0.0.1"], server=True, client=False
        )
        pki.save_pair(serving, self.pki_dir / "kubelet.crt", self.pki_dir / "kubelet.key", overwrite=True)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.pki_dir / "kubelet.crt"), str(self.pki_dir / "kubelet.key"))
        context.load_verify_locations(str(self.pki_dir / "ca.crt"))
        context.verify_mode = ssl.CERT_OPTIONAL
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            cert = writer.get_extra_info("peercert") or {}
            cn = next((v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"), "")
            self.seen.append(Seen(path=path, client_cn=cn))
            if self.status != 200:
                writer.write(
                    f"HTTP/1.1 {self.status} Oops\r\nContent-Type: text/plain\r\nContent-Length: "
                    f"{len(self.error_body)}\r\nConnection: close\r\n\r\n".encode()
                    + self.error_body
                )
                await writer.drain()
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            for index, line in enumerate(self.lines):
                writer.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                await writer.drain()
                if index == 0 and self.hold_after_first is not None:
                    await self.hold_after_first.wait()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()
