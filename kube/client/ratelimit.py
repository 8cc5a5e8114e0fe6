"""A token bucket: the client's QPS/burst limit and the work queue's overall limit.

Without a limit, one controller stuck in a hot loop (or a relist storm after an API
server restart) can flood the server; client-go caps every client at QPS/burst
(``util/flowcontrol``) and every controller queue at 10 qps / 100 burst. Both are the
same bucket as Go's ``golang.org/x/time/rate``: ``burst`` tokens at most, refilled at
``qps`` per second; a caller that finds it empty takes a token "on credit" and is told
how long to wait, so waiters are served in arrival order without a lock or a queue.
"""

from __future__ import annotations

from kube.client.clock import Clock, RealClock


class TokenBucket:
    def __init__(self, *, qps: float, burst: int, clock: Clock | None = None) -> None:
        if qps > 0 and burst < 1:
            raise ValueError(f"burst must be at least 1 when qps is set, got {burst}")
        self.qps = qps
        self.burst = burst
        self._clock = clock or RealClock()
        self._tokens = float(burst)
        self._last = self._clock.now()

    @property
    def unlimited(self) -> bool:
        return self.qps <= 0

    def _refill(self, now: float) -> None:
        elapsed = max(now - self._last, 0.0)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.qps)
        self._last = now

    def reserve(self) -> float:
        """Take one token now; return the seconds to wait before using it (0 if in hand)."""
        if self.unlimited:
            return 0.0
        self._refill(self._clock.now())
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def try_accept(self) -> bool:
        """Take a token only if one is available right now."""
        if self.unlimited:
            return True
        self._refill(self._clock.now())
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    async def acquire(self) -> None:
        """Wait for a token. A cancelled waiter's token is not returned (as Go's Wait)."""
        delay = self.reserve()
        if delay > 0:
            await self._clock.sleep(delay)
