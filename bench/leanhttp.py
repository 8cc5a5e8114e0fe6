"""What the HTTPS benchmarks share: a lean HTTP/1.1 client and /proc readings.

httpx costs several milliseconds of client CPU per request, which on a 2-core machine
would be measured instead of the server; this client writes a request and parses the
answer with plain asyncio streams. Imported by the bench scripts, which run with
``bench/`` first on ``sys.path``.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from pathlib import Path


def split_url(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("https://").rsplit(":", 1)
    return host, int(port)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_pids(pid: int) -> list[int]:
    """A process and its children (an API server's workers under ``--workers``)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def tree_cpu(pid: int) -> float:
    return sum(process_cpu(p) for p in tree_pids(pid))


def tree_rss(pid: int) -> int:
    return sum(rss_kib(p) for p in tree_pids(pid))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Connection:
    """One keep-alive HTTPS connection; requests are sent one at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str, ctx: ssl.SSLContext) -> Connection:
        host, port = split_url(url)
        reader, writer = await asyncio.open_connection(host, port, ssl=ctx, limit=2**20)
        return cls(reader, writer)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        self.writer.write(head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status = int((await self.reader.readuntil(b"\r\n")).split()[1])
        length, chunked = -1, False
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        parts: list[bytes] = []
        while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        await self.reader.readuntil(b"\r\n")
        return status, b"".join(parts)

    def close(self) -> None:
        self.writer.close()
