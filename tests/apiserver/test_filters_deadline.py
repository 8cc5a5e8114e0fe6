"""The request deadline of ``apiserver.filters``: asyncio.timeout's semantics on a timer handle.

A request that runs out of time answers 504; a cancellation that is not the deadline's
(the client left, the server stops) propagates untouched; and the task's cancellation
count is left as it was, so a later ``asyncio.timeout`` in the same task still works.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from apiserver.authn import UserInfo
from apiserver.filters import TIMEOUT_MESSAGE, Filters

ADMIN = UserInfo("admin", ("system:masters",))


class Fixed:
    async def authenticate(self, scope: Any) -> UserInfo:
        return ADMIN


def _filters(app: Any, *, timeout: float = 5.0) -> Filters:
    return Filters(app, authenticator=Fixed(), audit=None, limiter=None, request_timeout=timeout)


async def _call(filters: Filters, query: bytes = b"") -> list[Any]:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/namespaces/default/configmaps/x",
        "query_string": query,
        "headers": [],
    }
    await filters(scope, receive, send)
    return sent


async def _respond(send: Any, status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


async def test_a_slow_request_answers_504_and_leaves_the_task_uncancelled() -> None:
    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(10)

    task = asyncio.current_task()
    assert task is not None
    sent = await _call(_filters(slow, timeout=0.05))
    assert sent[0]["status"] == 504
    assert orjson.loads(sent[1]["body"])["message"] == f"Timeout: {TIMEOUT_MESSAGE}"
    assert any(name == b"audit-id" for name, _ in sent[0]["headers"])
    assert task.cancelling() == 0
    # ?timeout= shortens the deadline.
    sent = await _call(_filters(slow, timeout=30), b"timeout=50ms")
    assert sent[0]["status"] == 504
    with pytest.raises(TimeoutError):  # the task's own timeouts still work afterwards
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)


async def test_a_fast_request_is_untouched() -> None:
    async def fast(scope: Any, receive: Any, send: Any) -> None:
        await _respond(send, 201)

    sent = await _call(_filters(fast, timeout=0.05))
    assert sent[0]["status"] == 201
    await asyncio.sleep(0.1)  # the deadline's timer was cancelled with the request
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_an_app_that_finishes_anyway_keeps_its_answer() -> None:
    async def stubborn(scope: Any, receive: Any, send: Any) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await _respond(send, 200)  # swallows the cancellation and answers

    sent = await _call(_filters(stubborn, timeout=0.05))
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200]
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_someone_elses_cancellation_propagates() -> None:
    entered = asyncio.Event()
    sent: list[Any] = []

    async def waiting(scope: Any, receive: Any, send: Any) -> None:
        entered.set()
        await asyncio.sleep(10)

    async def run() -> None:
        sent.extend(await _call(_filters(waiting, timeout=5)))

    task = asyncio.ensure_future(run())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sent == []


async def test_a_deadline_after_the_response_began_drops_the_connection() -> None:
    async def half(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
        await asyncio.sleep(10)

    with pytest.raises(TimeoutError):
        await _call(_filters(half, timeout=0.05))
