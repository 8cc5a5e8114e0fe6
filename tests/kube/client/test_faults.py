"""What the client does when the server misbehaves: retries, Retry-After, odd bodies, broken watches.

These failures cannot be produced on cue by the real server, so a scripted
``httpx.MockTransport`` (our own boundary) stands in for it.
"""

from __future__ import annotations

import httpx
import orjson
import pytest

from kube.client import BOOKMARK, RetryPolicy, TransportError
from kube.errors import (
    Expired,
    Gone,
    InternalError,
    NotFound,
    ServiceUnavailable,
    StatusError,
    TooManyRequests,
)
from kube.resources import default_registry
from tests.kube.fakes import FakeServer, InstantClock, Stream, event_line, json_response, status

R = default_registry()
CONFIGMAPS = R.lookup("configmaps")[0]
PODS = R.lookup("pods")[0]
OK = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a", "namespace": "ns"}}


def throttled(seconds: str = "3") -> httpx.Response:
    return json_response(429, status(429, "TooManyRequests", "slow down"), {"Retry-After": seconds})


async def test_429_is_retried_after_retry_after_for_any_verb() -> None:
    clock = InstantClock()
    server = FakeServer(throttled("3"), json_response(201, OK))
    async with server.client(clock=clock) as client:
        created = await client.create(CONFIGMAPS, OK, namespace="ns")
    assert created["metadata"]["name"] == "a"
    assert [r.method for r in server.requests] == ["POST", "POST"]
    assert clock.sleeps == [3.0]


async def test_retry_after_from_the_status_details_and_capped() -> None:
    clock = InstantClock()
    body = status(429, "TooManyRequests", "slow", details={"retryAfterSeconds": 7})
    server = FakeServer(json_response(429, body), throttled("100000"), json_response(200, OK))
    async with server.client(clock=clock) as client:
        await client.get(CONFIGMAPS, name="a", namespace="ns")
    assert clock.sleeps == [7.0, 60.0]


async def test_503_is_retried_with_growing_backoff_for_idempotent_verbs() -> None:
    clock = InstantClock()
    unavailable = json_response(503, status(503, "ServiceUnavailable", "starting"))
    server = FakeServer(unavailable, unavailable, unavailable, json_response(200, OK))
    policy = RetryPolicy(initial=0.1, cap=10, jitter=0)
    async with server.client(clock=clock, retry=policy) as client:
        await client.get(CONFIGMAPS, name="a", namespace="ns")
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.4])


async def test_503_on_a_post_is_not_retried() -> None:
    server = FakeServer(json_response(503, status(503, "ServiceUnavailable", "busy")))
    async with server.client() as client:
        with pytest.raises(ServiceUnavailable) as info:
            await client.create(CONFIGMAPS, OK, namespace="ns")
    assert info.value.message == "busy"
    assert len(server.requests) == 1


async def test_retries_give_up_and_raise_the_last_typed_error() -> None:
    server = FakeServer(*(throttled("1") for _ in range(4)))
    async with server.client(retry=RetryPolicy(max_retries=3)) as client:
        with pytest.raises(TooManyRequests) as info:
            await client.get(CONFIGMAPS, name="a", namespace="ns")
    assert info.value.code == 429
    assert len(server.requests) == 4


async def test_connection_refused_is_retried_for_a_post_but_a_reset_is_not() -> None:
    server = FakeServer(httpx.ConnectError("refused"), json_response(201, OK))
    async with server.client() as client:
        await client.create(CONFIGMAPS, OK, namespace="ns")
    assert len(server.requests) == 2

    server = FakeServer(httpx.ReadError("reset mid-request"))
    async with server.client() as client:
        with pytest.raises(TransportError, match="reset mid-request"):
            await client.create(CONFIGMAPS, OK, namespace="ns")
    assert len(server.requests) == 1


async def test_connection_loss_is_retried_for_a_get() -> None:
    server = FakeServer(httpx.ReadError("reset"), httpx.RemoteProtocolError("eof"), json_response(200, OK))
    async with server.client() as client:
        await client.get(CONFIGMAPS, name="a", namespace="ns")
    assert len(server.requests) == 3


async def test_a_body_that_is_not_a_status_still_becomes_a_typed_error() -> None:
    server = FakeServer(
        httpx.Response(404, content=b""),
        httpx.Response(502, content=b"<html>Bad Gateway</html>", headers={"content-type": "text/html"}),
    )
    async with server.client() as client:
        with pytest.raises(NotFound) as missing:
            await client.get(CONFIGMAPS, name="a", namespace="ns")
        assert missing.value.message == "the server could not find the requested resource"
        with pytest.raises(StatusError) as gateway:
            await client.get(CONFIGMAPS, name="a", namespace="ns")
    assert gateway.value.code == 502
    assert "Bad Gateway" in gateway.value.message and "configmaps a" in gateway.value.message


async def test_requests_carry_token_agent_content_types_and_options() -> None:
    server = FakeServer(*(json_response(200, OK) for _ in range(5)))
    async with server.client(user_agent="kube-scheduler/v0") as client:
        await client.patch(PODS, name="p", namespace="ns", patch={"a": 1}, patch_type="strategic")
        await client.patch(
            PODS, name="p", namespace="ns", patch=OK, patch_type="apply", field_manager="me", force=True
        )
        await client.patch(PODS, name="p", namespace="ns", patch=[], patch_type="json", dry_run=True)
        await client.delete(PODS, name="p", namespace="ns", grace_period=0, propagation_policy="Foreground")
        await client.list(PODS, label_selector="a=b", limit=10, continue_="tok")
    strategic, apply, jsonpatch, delete, listing = server.requests
    assert strategic.headers["authorization"] == "Bearer t0k"
    assert strategic.headers["user-agent"] == "kube-scheduler/v0"
    assert strategic.headers["content-type"] == "application/strategic-merge-patch+json"
    assert strategic.url.path == "/api/v1/namespaces/ns/pods/p"
    assert apply.headers["content-type"] == "application/apply-patch+yaml"
    assert dict(apply.url.params) == {"fieldManager": "me", "force": "true"}
    assert jsonpatch.headers["content-type"] == "application/json-patch+json"
    assert dict(jsonpatch.url.params) == {"dryRun": "All"}
    assert delete.method == "DELETE"
    assert orjson.loads(delete.content) == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "gracePeriodSeconds": 0,
        "propagationPolicy": "Foreground",
    }
    assert listing.url.path == "/api/v1/pods"
    assert dict(listing.url.params) == {"labelSelector": "a=b", "limit": "10", "continue": "tok"}


async def test_client_side_rate_limit_spaces_requests_at_qps_after_the_burst() -> None:
    clock = InstantClock()
    server = FakeServer(*(json_response(200, OK) for _ in range(5)))
    async with server.client(clock=clock, qps=2, burst=2) as client:
        for _ in range(5):
            await client.get(CONFIGMAPS, name="a", namespace="ns")
    # Two from the burst, then one every 0.5 s (each sleep moves the instant clock on).
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.5])


async def test_list_all_falls_back_to_a_full_list_when_the_continue_token_expires() -> None:
    page1 = {"kind": "ConfigMapList", "metadata": {"resourceVersion": "5", "continue": "c1"}, "items": [OK]}
    full = {"kind": "ConfigMapList", "metadata": {"resourceVersion": "9"}, "items": [OK, OK]}
    server = FakeServer(
        json_response(200, page1),
        json_response(410, status(410, "Expired", "continue token expired")),
        json_response(200, full),
    )
    async with server.client() as client:
        result = await client.list_all(CONFIGMAPS, limit=1)
    assert len(result["items"]) == 2 and result["metadata"]["resourceVersion"] == "9"
    assert "limit" not in server.requests[-1].url.params


# --- watch ---------------------------------------------------------------------------------


def watch_response(stream: Stream) -> httpx.Response:
    return httpx.Response(200, stream=stream, headers={"content-type": "application/json"})


async def test_watch_error_event_raises_expired() -> None:
    lines = [
        event_line("ADDED", OK),
        event_line("ERROR", status(410, "Expired", "too old resource version: 1 (5)")),
    ]
    server = FakeServer(watch_response(Stream(lines)))
    async with server.client() as client:
        seen = []
        with pytest.raises(Expired, match="too old resource version"):
            async for event in client.watch(CONFIGMAPS, resource_version="1"):
                seen.append(event.type)
    assert seen == ["ADDED"]
    params = dict(server.requests[0].url.params)
    assert params == {"watch": "true", "resourceVersion": "1", "allowWatchBookmarks": "true"}


async def test_watch_error_with_plain_gone_is_typed_too() -> None:
    server = FakeServer(watch_response(Stream([event_line("ERROR", status(410, "Gone", "gone"))])))
    async with server.client() as client:
        with pytest.raises(Gone):
            async for _ in client.watch(CONFIGMAPS):
                pass


async def test_a_watch_dropped_mid_stream_raises_transport_error() -> None:
    stream = Stream(
        [event_line("ADDED", OK), event_line("BOOKMARK", {"metadata": {"resourceVersion": "7"}})],
        error=httpx.ReadError("connection reset by peer"),
    )
    server = FakeServer(watch_response(stream))
    async with server.client() as client:
        seen = []
        with pytest.raises(TransportError, match="connection reset"):
            async for event in client.watch(CONFIGMAPS):
                seen.append(event.type)
    assert seen == ["ADDED", BOOKMARK]


async def test_a_watch_line_split_across_chunks_and_a_garbage_line() -> None:
    line = event_line("MODIFIED", OK)
    stream = Stream([line[:10], line[10:], b"\n", b"{not json\n"])
    server = FakeServer(watch_response(stream))
    async with server.client() as client:
        events = client.watch(CONFIGMAPS)
        first = await anext(events)
        assert first.type == "MODIFIED" and first.object["metadata"]["name"] == "a"
        with pytest.raises(InternalError, match="not JSON"):
            await anext(events)
        await events.aclose()


async def test_watch_open_is_retried_on_429_and_errors_are_typed() -> None:
    clock = InstantClock()
    server = FakeServer(
        throttled("2"),
        watch_response(Stream([event_line("ADDED", OK)])),
        json_response(403, status(403, "Forbidden", 'configmaps is forbidden: User "x" cannot watch')),
    )
    async with server.client(clock=clock) as client:
        assert [e.type async for e in client.watch(CONFIGMAPS)] == ["ADDED"]
        with pytest.raises(StatusError) as info:
            async with client.watch(CONFIGMAPS):
                pass
    assert clock.sleeps == [2.0]
    assert info.value.code == 403 and "cannot watch" in info.value.message


async def test_closing_a_watch_early_releases_it() -> None:
    import asyncio

    hold = asyncio.Event()
    server = FakeServer(watch_response(Stream([event_line("ADDED", OK)], hold=hold)))
    async with server.client() as client:
        async with client.watch(CONFIGMAPS) as events:
            async for _ in events:
                break
        # aclose ran: iterating again ends at once instead of waiting on the held stream.
        assert [e async for e in events] == []
