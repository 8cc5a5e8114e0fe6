"""Adding a key later: retries with backoff, and periodic re-checks (``AddAfter``).

A controller that must look at an object again in 30 s (a pod's grace period ending)
or after a failure does not sleep in its worker: it hands the key to the queue with a
delay and moves on. Each waiting key holds one timer on the injected clock. A key added
again while waiting keeps the *earlier* time, so a burst of retries cannot push a key
further and further into the future; once its time comes it goes through ``add`` and is
de-duplicated like any other add.

:class:`RateLimitingQueue` picks the delay from a :class:`RateLimiter` (client-go's
``AddRateLimited``/``Forget``/``NumRequeues``).
"""

from __future__ import annotations

from kube.client.clock import Clock, RealClock, Timer
from kube.workqueue.queue import Queue, T
from kube.workqueue.ratelimiter import RateLimiter, default_controller_rate_limiter


class DelayingQueue(Queue[T]):
    def __init__(self, *, clock: Clock | None = None, name: str = "") -> None:
        super().__init__(name=name)
        self.clock: Clock = clock or RealClock()
        self._waiting: dict[T, tuple[float, Timer]] = {}

    def add_after(self, item: T, delay: float) -> None:
        if self.shutting_down():
            return
        if delay <= 0:
            self.add(item)
            return
        ready_at = self.clock.now() + delay
        known = self._waiting.get(item)
        if known is not None:
            if known[0] <= ready_at:
                return
            known[1].cancel()
        timer = self.clock.call_later(delay, lambda: self._ready(item, ready_at))
        self._waiting[item] = (ready_at, timer)

    def _ready(self, item: T, ready_at: float) -> None:
        known = self._waiting.get(item)
        if known is not None and known[0] == ready_at:
            del self._waiting[item]
            self.add(item)

    def waiting(self) -> int:
        """Keys whose delay has not yet run out."""
        return len(self._waiting)

    def shut_down(self) -> None:
        for _, timer in self._waiting.values():
            timer.cancel()
        self._waiting.clear()
        super().shut_down()


class RateLimitingQueue(DelayingQueue[T]):
    def __init__(
        self, rate_limiter: RateLimiter | None = None, *, clock: Clock | None = None, name: str = ""
    ) -> None:
        super().__init__(clock=clock, name=name)
        self.rate_limiter: RateLimiter = rate_limiter or default_controller_rate_limiter(clock=self.clock)

    def add_rate_limited(self, item: T) -> None:
        """Add ``item`` once the rate limiter allows: after a failure, back off."""
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """``item`` was processed successfully: its next failure starts from the smallest delay."""
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.rate_limiter.num_requeues(item)
