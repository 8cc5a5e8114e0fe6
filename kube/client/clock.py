"""The clock that every timed piece of the client machinery reads.

Work queues, rate limiters, reflector backoff and leader election all wait and measure
time. They take a :class:`Clock` instead of calling ``time`` and ``asyncio.sleep``
directly so that tests can swap in :class:`FakeClock` and step time forward by hand:
a 1000-second backoff is then checked in microseconds, and no test depends on how
busy the machine is (as k8s.io/utils/clock's fake clock does for client-go).

``now()`` is monotonic seconds: it measures durations, never wall time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` (on the event loop) once ``seconds`` have passed."""
        ...


class RealClock:
    """The event loop's clock (``loop.time()`` is ``time.monotonic()`` by default)."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(max(seconds, 0.0), callback)


class _FakeTimer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """Time that moves only when a test calls :meth:`step`.

    Timers fire synchronously inside ``step`` in deadline order, each seeing ``now()``
    equal to its own deadline, so a test observes exactly the state after the step.
    Coroutines blocked in ``sleep`` are woken by ``step`` and resume the next time the
    test yields to the loop (``await asyncio.sleep(0)``).
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._seq = itertools.count()
        self._timers: list[tuple[float, int, _FakeTimer]] = []

    def now(self) -> float:
        return self._now

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        timer = _FakeTimer(self._now + max(seconds, 0.0), callback)
        heapq.heappush(self._timers, (timer.when, next(self._seq), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await future
        finally:
            timer.cancel()

    def step(self, seconds: float) -> None:
        """Advance time by ``seconds``, firing every timer that falls due on the way."""
        target = self._now + seconds
        while self._timers and self._timers[0][0] <= target:
            when, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            timer.callback()
        self._now = target

    def pending(self) -> int:
        """Timers (including sleepers) still waiting to fire."""
        return sum(1 for _, _, t in self._timers if not t.cancelled)

    def next_deadline(self) -> float | None:
        live = [when for when, _, t in self._timers if not t.cancelled]
        return min(live) if live else None
