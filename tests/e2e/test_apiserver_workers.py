"""``python -m apiserver --workers 2`` on etcd: one server, two processes on one port.

The kernel spreads connections over the workers (``SO_REUSEPORT``); each has its own
watch caches fed by etcd, so a watch held on one connection sees the writes made over
every other connection, whichever worker took them. The supervisor passes SIGTERM on
and exits 0 once both drained; a worker that dies on its own takes the server down
(exit 1) so that whatever runs it restarts the whole.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.support.apiserver import REPO, ApiserverProcess, start_apiserver

pytestmark = [pytest.mark.e2e, pytest.mark.etcd]

WATCHES = 16


@pytest.fixture
def workers(tmp_path: Path, etcd_endpoint: str) -> Iterator[ApiserverProcess]:
    with start_apiserver(tmp_path / "data", "--etcd-servers", etcd_endpoint, "--workers", "2") as server:
        yield server


def worker_pids(server: ApiserverProcess) -> list[int]:
    text = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text()
    return [int(pid) for pid in text.split()]


def registered_watchers(server: ApiserverProcess) -> float:
    """One scrape over a fresh connection: the gauge of whichever worker took it."""
    with server.client() as client:
        body = client.get("/metrics").text
    match = re.search(r"^apiserver_registered_watchers (\S+)$", body, re.M)
    assert match, body[:500]
    return float(match.group(1))


def test_connections_are_spread_over_both_workers(workers: ApiserverProcess) -> None:
    assert "with 2 workers" in "".join(workers.output)
    assert len(worker_pids(workers)) == 2
    namespace = f"spread-{uuid.uuid4().hex[:8]}"
    with workers.client() as client:
        assert client.post("/api/v1/namespaces", json={"metadata": {"name": namespace}}).status_code == 201
    clients = [workers.client(timeout=60) for _ in range(WATCHES)]
    streams = [
        c.stream("GET", f"/api/v1/namespaces/{namespace}/configmaps", params={"watch": "true"}) for c in clients
    ]
    try:
        for stream in streams:
            assert stream.__enter__().status_code == 200
        # Each worker counts only its own watches, so any worker's gauge between 0 and all
        # of them shows the watches split over both (the other holds the rest).
        seen = {registered_watchers(workers) for _ in range(10)}
        assert all(0 < count < WATCHES for count in seen), seen
        assert len(seen) == 1 or (len(seen) == 2 and sum(seen) == WATCHES), seen
    finally:
        for stream, client in zip(streams, clients, strict=True):
            stream.__exit__(None, None, None)
            client.close()


def test_a_watch_sees_the_writes_made_through_every_worker(workers: ApiserverProcess) -> None:
    namespace = f"all-{uuid.uuid4().hex[:8]}"
    with workers.client() as client:
        assert client.post("/api/v1/namespaces", json={"metadata": {"name": namespace}}).status_code == 201
    names = [f"cm-{i}" for i in range(20)]
    seen: list[str] = []
    opened = threading.Event()

    def watch() -> None:
        with workers.client(timeout=60) as client, client.stream(
            "GET", f"/api/v1/namespaces/{namespace}/configmaps", params={"watch": "true", "timeoutSeconds": "30"}
        ) as response:
            opened.set()
            for line in response.iter_lines():
                event = orjson.loads(line)
                seen.append(event["object"]["metadata"]["name"])
                if len(seen) == len(names):
                    return

    reader = threading.Thread(target=watch)
    reader.start()
    assert opened.wait(30)  # the watch is registered before its response head is sent
    for name in names:  # a new connection each: both workers take some of them
        with workers.client() as client:
            body = {"metadata": {"name": name}, "data": {"k": "v"}}
            assert client.post(f"/api/v1/namespaces/{namespace}/configmaps", json=body).status_code == 201
    reader.join(40)
    assert sorted(seen) == sorted(names)
    # And every worker lists them all from its own cache.
    for _ in range(10):
        with workers.client() as client:
            listed = client.get(f"/api/v1/namespaces/{namespace}/configmaps", params={"resourceVersion": "0"})
        assert sorted(i["metadata"]["name"] for i in listed.json()["items"]) == sorted(names)


def test_sigterm_stops_both_workers_cleanly(workers: ApiserverProcess) -> None:
    pids = worker_pids(workers)
    assert workers.stop(sig=signal.SIGTERM) == 0
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_a_worker_that_dies_takes_the_server_down(workers: ApiserverProcess) -> None:
    first, second = worker_pids(workers)
    subprocess.run(["kill", "-KILL", str(first)], check=True)
    assert workers.proc.wait(timeout=30) == 1
    deadline = time.monotonic() + 10
    while Path(f"/proc/{second}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{second}").exists()
    assert "exited with code" in workers.log()


def test_workers_need_etcd(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "apiserver", "--data-dir", str(tmp_path), "--workers", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--workers > 1 needs --etcd-servers" in result.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "apiserver", "--data-dir", str(tmp_path), "--workers", "0"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and 'invalid --workers "0"' in bad.stderr
    assert not list(tmp_path.iterdir())  # refused before anything was created
