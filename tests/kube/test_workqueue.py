"""The work queue's contract, with a FakeClock so every delay is stepped, never slept."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from kube.workqueue import (
    BucketRateLimiter,
    DelayingQueue,
    FakeClock,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    Queue,
    RateLimitingQueue,
    ShutDown,
    default_controller_rate_limiter,
)


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(10):
        await asyncio.sleep(0)


# --- de-duplication and the processing set -------------------------------------------------


async def test_adds_while_queued_collapse_into_one() -> None:
    q: Queue[str] = Queue()
    for _ in range(5):
        q.add("a")
    q.add("b")
    assert len(q) == q.len() == 2
    assert await q.get() == "a"
    assert await q.get() == "b"
    assert len(q) == 0


async def test_a_key_is_never_handed_to_two_workers_and_an_add_while_processing_requeues_after_done() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    key = await q.get()
    q.add("a")  # changed while a worker holds it
    q.add("a")
    assert len(q) == 0  # not handed out again while processing
    second = asyncio.create_task(q.get())
    await settle()
    assert not second.done()
    q.done(key)
    assert await asyncio.wait_for(second, 1) == "a"  # exactly once more
    q.done("a")
    assert len(q) == 0


async def test_done_without_readd_does_not_requeue() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.done(await q.get())
    assert len(q) == 0


async def test_fifo_order_and_waiting_get_is_woken() -> None:
    q: Queue[int] = Queue()
    getter = asyncio.create_task(q.get())
    await settle()
    assert not getter.done()
    q.add(1)
    q.add(2)
    assert await getter == 1
    assert await q.get() == 2


async def test_cancelled_getter_does_not_swallow_a_wakeup() -> None:
    q: Queue[str] = Queue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await settle()
    q.add("a")  # wakes `first`...
    first.cancel()  # ...which is cancelled before it runs
    await settle()
    assert first.cancelled()
    assert await asyncio.wait_for(second, 1) == "a"


async def test_shut_down_wakes_idle_workers_and_ignores_new_adds() -> None:
    q: Queue[str] = Queue()
    q.add("left-over")
    idle = asyncio.create_task(q.get())
    await settle()
    assert await idle == "left-over"
    waiting = asyncio.create_task(q.get())
    await settle()
    q.shut_down()
    with pytest.raises(ShutDown):
        await waiting
    q.add("late")
    assert len(q) == 0
    with pytest.raises(ShutDown):
        await q.get()


async def test_queued_keys_are_still_handed_out_after_shut_down() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.add("b")
    q.shut_down()
    assert [await q.get(), await q.get()] == ["a", "b"]
    with pytest.raises(ShutDown):
        await q.get()


async def test_shut_down_with_drain_waits_for_keys_being_processed() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    held = await q.get()
    drain = asyncio.create_task(q.shut_down_with_drain())
    await settle()
    assert not drain.done()
    q.done(held)
    await asyncio.wait_for(drain, 1)


async def test_shut_down_with_drain_returns_at_once_when_idle() -> None:
    q: Queue[str] = Queue()
    await asyncio.wait_for(q.shut_down_with_drain(), 1)
    assert q.shutting_down()


async def test_workers_process_every_key_once_per_round_and_exit_on_shut_down() -> None:
    q: Queue[int] = Queue()
    seen: list[int] = []
    in_flight: set[int] = set()

    async def worker() -> None:
        while True:
            try:
                key = await q.get()
            except ShutDown:
                return
            assert key not in in_flight
            in_flight.add(key)
            await asyncio.sleep(0)
            seen.append(key)
            in_flight.discard(key)
            q.done(key)

    workers = [asyncio.create_task(worker()) for _ in range(4)]
    for i in range(20):
        q.add(i % 10)
    await settle()
    await q.shut_down_with_drain()
    await asyncio.wait_for(asyncio.gather(*workers), 1)
    assert sorted(seen) == list(range(10))


# --- delays ------------------------------------------------------------------------------------


async def test_add_after_appears_only_when_its_time_comes() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("a", 10)
    assert len(q) == 0 and q.waiting() == 1
    clock.step(9.999)
    assert len(q) == 0
    clock.step(0.001)
    assert len(q) == 1 and q.waiting() == 0
    assert await q.get() == "a"


async def test_add_after_keeps_the_earlier_time() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("a", 10)
    q.add_after("a", 5)  # sooner wins
    q.add_after("a", 20)  # later is ignored
    clock.step(5)
    assert len(q) == 1
    await q.get()
    q.done("a")
    clock.step(100)
    assert len(q) == 0  # the superseded timers never fire a second add


async def test_add_after_zero_is_an_add_and_waiting_getter_wakes_on_the_step() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("now", 0)
    assert len(q) == 1
    assert await q.get() == "now"
    getter = asyncio.create_task(q.get())
    q.add_after("later", 1)
    await settle()
    assert not getter.done()
    clock.step(1)
    assert await asyncio.wait_for(getter, 1) == "later"


async def test_delayed_items_are_dropped_on_shut_down() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("a", 1)
    q.shut_down()
    assert clock.pending() == 0
    clock.step(2)
    assert len(q) == 0
    q.add_after("b", 1)
    assert q.waiting() == 0


# --- rate limiters --------------------------------------------------------------------------


def test_item_exponential_doubles_from_5ms_to_the_1000s_cap_per_item() -> None:
    limiter = ItemExponentialFailureRateLimiter()
    delays = [limiter.when("a") for _ in range(20)]
    assert delays[:4] == pytest.approx([0.005, 0.01, 0.02, 0.04])
    assert delays[-1] == 1000.0
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert limiter.when("b") == pytest.approx(0.005)  # per item
    assert limiter.num_requeues("a") == 20
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0
    assert limiter.when("a") == pytest.approx(0.005)
    for _ in range(200):
        limiter.when("huge")
    assert limiter.when("huge") == 1000.0  # no overflow


def test_bucket_limiter_allows_the_burst_then_spaces_at_qps() -> None:
    clock = FakeClock()
    limiter = BucketRateLimiter(qps=10, burst=100, clock=clock)
    assert all(limiter.when(i) == 0 for i in range(100))
    assert limiter.when("x") == pytest.approx(0.1)
    assert limiter.when("y") == pytest.approx(0.2)  # waits queue up behind each other
    clock.step(10)  # refills (the debt of 2 first)
    assert limiter.when("z") == 0
    assert limiter.num_requeues("x") == 0


def test_default_controller_limiter_is_the_max_of_both() -> None:
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock=clock)
    assert limiter.when("a") == pytest.approx(0.005)  # bucket has tokens: per-item wins
    for _ in range(200):
        limiter.when(f"k{_}")  # drain the bucket
    assert limiter.when("fresh") > 1.0  # the bucket's wait is now the larger
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0


def test_max_of_needs_a_limiter() -> None:
    with pytest.raises(ValueError):
        MaxOfRateLimiter()


async def test_rate_limited_adds_back_off_per_key_and_forget_resets() -> None:
    clock = FakeClock()
    q: RateLimitingQueue[str] = RateLimitingQueue(
        ItemExponentialFailureRateLimiter(base=1, cap=8), clock=clock
    )
    waits = []
    for _ in range(5):
        q.add_rate_limited("a")
        ready = clock.next_deadline()
        assert ready is not None
        waits.append(ready - clock.now())
        clock.step(waits[-1])
        q.done(await q.get())
    assert waits == [1, 2, 4, 8, 8]
    assert q.num_requeues("a") == 5
    q.forget("a")
    assert q.num_requeues("a") == 0
    q.add_rate_limited("a")
    assert clock.next_deadline() == clock.now() + 1


async def test_default_rate_limiting_queue_uses_the_controller_limiter() -> None:
    clock = FakeClock()
    q: RateLimitingQueue[str] = RateLimitingQueue(clock=clock)
    q.add_rate_limited("a")
    assert len(q) == 0
    clock.step(0.005)
    assert len(q) == 1
