"""The timed pieces under the client — token bucket, backoff, fake clock — with time stepped by hand."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from kube.client import Backoff, FakeClock, RetryPolicy, TokenBucket
from kube.client.retry import retry_after


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


# --- FakeClock --------------------------------------------------------------------------------


async def test_fake_clock_fires_timers_in_order_at_their_own_time() -> None:
    clock = FakeClock(start=0)
    fired: list[tuple[str, float]] = []
    clock.call_later(3, lambda: fired.append(("c", clock.now())))
    clock.call_later(1, lambda: fired.append(("a", clock.now())))
    cancelled = clock.call_later(2, lambda: fired.append(("x", clock.now())))
    cancelled.cancel()
    clock.step(2.5)
    assert fired == [("a", 1)]
    assert clock.now() == 2.5 and clock.pending() == 1
    clock.step(10)
    assert fired == [("a", 1), ("c", 3)]
    assert clock.next_deadline() is None


async def test_fake_clock_sleepers_wake_only_when_stepped() -> None:
    clock = FakeClock()
    sleeper = asyncio.create_task(clock.sleep(5))
    await settle()
    clock.step(4.9)
    await settle()
    assert not sleeper.done()
    clock.step(0.1)
    await settle()
    assert sleeper.done()


async def test_a_cancelled_sleeper_leaves_no_timer() -> None:
    clock = FakeClock()
    sleeper = asyncio.create_task(clock.sleep(5))
    await settle()
    sleeper.cancel()
    await settle()
    assert clock.pending() == 0


# --- token bucket ---------------------------------------------------------------------------------


def test_token_bucket_burst_then_qps() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=5, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0, 0, 0]
    assert bucket.reserve() == pytest.approx(0.2)
    assert bucket.reserve() == pytest.approx(0.4)
    assert not bucket.try_accept()
    clock.step(0.4)  # pays back the two borrowed tokens
    assert not bucket.try_accept()
    clock.step(0.2)
    assert bucket.try_accept()


def test_token_bucket_refill_is_capped_at_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=10, burst=2, clock=clock)
    clock.step(3600)
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0, 0, 0.1])


def test_token_bucket_unlimited_and_bad_burst() -> None:
    bucket = TokenBucket(qps=0, burst=0)
    assert bucket.unlimited and bucket.reserve() == 0 and bucket.try_accept()
    with pytest.raises(ValueError):
        TokenBucket(qps=1, burst=0)


async def test_token_bucket_acquire_waits_on_the_clock() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=1, burst=1, clock=clock)
    await bucket.acquire()
    waiter = asyncio.create_task(bucket.acquire())
    await settle()
    assert not waiter.done()
    clock.step(1)
    await settle()
    assert waiter.done()


# --- backoff ----------------------------------------------------------------------------------------


def test_backoff_doubles_to_the_cap_and_resets() -> None:
    backoff = Backoff(initial=0.8, cap=30, factor=2, clock=FakeClock())
    assert [backoff.next() for _ in range(7)] == pytest.approx([0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30])
    backoff.reset()
    assert backoff.next() == pytest.approx(0.8)


def test_backoff_jitter_stays_within_its_fraction() -> None:
    backoff = Backoff(initial=1, cap=1, jitter=1.0, clock=FakeClock(), rng=random.Random(7))
    delays = [backoff.next() for _ in range(200)]
    assert all(1.0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 100  # actually random


def test_backoff_resets_after_a_quiet_period() -> None:
    clock = FakeClock()
    backoff = Backoff(initial=1, cap=100, reset_after=120, clock=clock)
    for _ in range(5):
        backoff.next()
    clock.step(60)
    assert backoff.next() == 32  # still failing often: keeps growing
    clock.step(121)
    assert backoff.next() == 1  # quiet for two minutes: start small


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(initial=5, cap=1)


# --- retry rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("GET", 429, True),
        ("POST", 429, True),  # refused before any work
        ("GET", 503, True),
        ("PUT", 503, True),
        ("POST", 503, False),  # might have created something
        ("PATCH", 503, False),
        ("GET", 500, False),
        ("GET", 404, False),
    ],
)
def test_which_statuses_are_retried(method: str, status: int, expected: bool) -> None:
    assert RetryPolicy().should_retry_status(method=method, status=status) is expected


@pytest.mark.parametrize(
    ("method", "error", "expected"),
    [
        ("POST", httpx.ConnectError("refused"), True),  # never reached the server
        ("POST", httpx.ConnectTimeout("slow"), True),
        ("POST", httpx.ReadError("reset"), False),
        ("DELETE", httpx.ReadError("reset"), True),
        ("GET", httpx.ReadTimeout("slow"), True),
    ],
)
def test_which_transport_errors_are_retried(method: str, error: Exception, expected: bool) -> None:
    assert RetryPolicy.should_retry_error(method=method, error=error) is expected


def test_retry_after_parsing() -> None:
    assert retry_after(httpx.Response(429, headers={"Retry-After": "4"})) == 4
    assert retry_after(httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) is None
    assert retry_after(httpx.Response(429), {"details": {"retryAfterSeconds": 2}}) == 2
    assert retry_after(httpx.Response(429)) is None
    assert retry_after(httpx.Response(429, headers={"Retry-After": "-3"})) == 0
