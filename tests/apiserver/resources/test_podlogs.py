"""pods/log: checked here, proxied to the node's kubelet, streamed back."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver.app import KubeApp
from apiserver.registry import API
from apiserver.registry.resources import ResourceOptions, client_config_from_pki, configure

from .fake_kubelet import FakeKubelet
from .helpers import PODS, create_pod, pod


@pytest.fixture
async def kubelet(tmp_path: Path, api: API) -> AsyncIterator[FakeKubelet]:
    fake = FakeKubelet(pki_dir=tmp_path / "pki")
    fake.pki_dir.mkdir()
    fake.write_ca()
    await fake.start()
    # The API server's kubelet client certificate, issued from the same CA on first use.
    configure(api, ResourceOptions(kubelet=client_config_from_pki(fake.pki_dir)))
    try:
        yield fake
    finally:
        await fake.stop()


async def node(
    client: httpx.AsyncClient, name: str, *, port: int, addresses: list[dict[str, str]] | None = None
) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}] if addresses is None else addresses,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        },
    }
    response = await client.post("/api/v1/nodes", json=body)
    assert response.status_code == 201, response.text


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        (
            "tailLines=-1",
            422,
            'PodLogOptions "p" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0',
        ),
        ("tailLines=ten", 400, 'invalid value for query parameter tailLines: "ten" is not an integer'),
        ("limitBytes=0", 422, "limitBytes: Invalid value: 0: must be greater than 0"),
        (
            "sinceSeconds=5&sinceTime=2025-01-01T00:00:00Z",
            422,
            "at most one of `sinceTime` or `sinceSeconds`",
        ),
        ("sinceTime=yesterday", 400, "is not an RFC 3339 time"),
        ("follow=maybe", 400, "is not a boolean"),
        ("container=nope", 400, "container nope is not valid for pod p"),
    ],
)
async def test_bad_requests(client: httpx.AsyncClient, query: str, code: int, message: str) -> None:
    await create_pod(client, pod("p", node="n1"))
    response = await client.get(f"{PODS}/p/log?{query}")
    assert response.status_code == code and message in response.json()["message"], response.text


async def test_a_container_must_be_named_when_there_are_several(client: httpx.AsyncClient) -> None:
    body = pod("p", initContainers=[{"name": "init", "image": "busybox"}])
    body["spec"]["containers"].append({"name": "d", "image": "nginx"})
    await create_pod(client, body)
    response = await client.get(f"{PODS}/p/log")
    assert response.status_code == 400
    assert (
        response.json()["message"]
        == "a container name must be specified for pod p, choose one of: [init c d]"
    )


async def test_a_missing_pod_is_404_and_an_unscheduled_one_has_no_log(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{PODS}/ghost/log")).json()["message"] == 'pods "ghost" not found'
    await create_pod(client, pod("p"))
    response = await client.get(f"{PODS}/p/log")
    assert response.status_code == 204 and response.content == b""


async def test_a_node_that_cannot_be_reached(client: httpx.AsyncClient) -> None:
    await create_pod(client, pod("p", node="n1"))
    missing = await client.get(f"{PODS}/p/log")
    assert missing.status_code == 404 and missing.json()["message"] == 'nodes "n1" not found'
    port = closed_port()
    await node(client, "n1", port=port)
    refused = await client.get(f"{PODS}/p/log?follow=true")
    assert refused.status_code == 503
    assert refused.json()["message"] == (
        f'Get "https://127.0.0.1:{port}/containerLogs/default/p/c?follow=true": dial tcp 127.0.0.1:{port}: '
        'connect: connection refused (the kubelet of node "n1")'
    )
    await create_pod(client, pod("q", node="n2"))
    await node(client, "n2", port=port, addresses=[])
    nowhere = await client.get(f"{PODS}/q/log")
    assert (
        nowhere.status_code == 503
        and 'no preferred addresses found for node "n2"' in nowhere.json()["message"]
    )


async def test_the_log_is_proxied_with_the_options_and_a_client_certificate(
    client: httpx.AsyncClient, kubelet: FakeKubelet
) -> None:
    await node(client, "n1", port=kubelet.port)
    await create_pod(client, pod("p", node="n1"))
    response = await client.get(
        f"{PODS}/p/log?container=c&tailLines=10&timestamps=true&previous=false&limitBytes=500"
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content == b"line 1\nline 2\n"
    [seen] = kubelet.seen
    assert seen.path == "/containerLogs/default/p/c?timestamps=true&tailLines=10&limitBytes=500"
    assert seen.client_cn == "kube-apiserver-kubelet-client"


async def test_kubelet_errors_keep_their_code(client: httpx.AsyncClient, kubelet: FakeKubelet) -> None:
    await node(client, "n1", port=kubelet.port)
    await create_pod(client, pod("p", node="n1"))
    kubelet.status, kubelet.error_body = (
        400,
        b'container "c" in pod "p" is waiting to start: ContainerCreating',
    )
    response = await client.get(f"{PODS}/p/log")
    assert response.status_code == 400
    assert response.json()["message"] == 'container "c" in pod "p" is waiting to start: ContainerCreating'
    kubelet.status, kubelet.error_body = 500, b"runtime exploded"
    response = await client.get(f"{PODS}/p/log")
    assert response.status_code == 503 and response.json()["message"] == "runtime exploded"


async def test_follow_streams_each_chunk_as_it_comes(
    app: KubeApp, client: httpx.AsyncClient, kubelet: FakeKubelet
) -> None:
    await node(client, "n1", port=kubelet.port)
    await create_pod(client, pod("p", node="n1"))
    kubelet.hold_after_first = asyncio.Event()
    chunks: list[bytes] = []
    first = asyncio.Event()
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": f"{PODS}/p/log",
        "raw_path": f"{PODS}/p/log".encode(),
        "query_string": b"follow=true",
        "headers": [(b"host", b"test")],
        "scheme": "http",
        "http_version": "1.1",
        "server": ("test", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    disconnected = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            chunks.append(message["body"])
            first.set()

    served = asyncio.create_task(app(scope, receive, send))
    await asyncio.wait_for(first.wait(), timeout=5)
    assert chunks == [b"line 1\n"]  # delivered while the kubelet still holds the stream
    kubelet.hold_after_first.set()
    await asyncio.wait_for(served, timeout=5)
    assert b"".join(chunks) == b"line 1\nline 2\n"


def test_the_kubelet_client_certificate_follows_the_ca(tmp_path: Path) -> None:
    from kube import pki

    assert client_config_from_pki(tmp_path).cert_file is None  # no CA key: no certificate of ours
    first_ca = pki.new_ca()
    pki.save_pair(first_ca, tmp_path / "ca.crt", tmp_path / "ca.key")
    config = client_config_from_pki(tmp_path)
    assert config.cert_file is not None and config.key_file is not None
    issued = pki.load_pair(config.cert_file, config.key_file)
    issued.cert.verify_directly_issued_by(first_ca.cert)
    assert client_config_from_pki(tmp_path).cert_file == config.cert_file  # reused
    # A new CA (pyctl pki init --force): issued again instead of refusing to start.
    second_ca = pki.new_ca()
    pki.save_pair(second_ca, tmp_path / "ca.crt", tmp_path / "ca.key", overwrite=True)
    again = client_config_from_pki(tmp_path)
    assert again.cert_file is not None and again.key_file is not None
    pki.load_pair(again.cert_file, again.key_file).cert.verify_directly_issued_by(second_ca.cert)
