"""How long to wait before retrying a key that failed (client-go's ``workqueue`` rate limiters).

A controller whose reconcile fails re-adds the key rate-limited. Two limits apply, and
the longer wait wins (:class:`MaxOfRateLimiter`), as in client-go's
``DefaultControllerRateLimiter``:

- per key, exponential: 5 ms, 10 ms, 20 ms, ... capped at 1000 s, so one broken object
  backs off on its own without slowing the others, and ``forget`` (after a success)
  starts it from 5 ms again;
- overall, a token bucket of 10 qps with a burst of 100, so a failure that hits every
  key at once (the API server is down) cannot turn into a retry storm.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from kube.client.clock import Clock
from kube.client.ratelimit import TokenBucket


class RateLimiter(Protocol):
    def when(self, item: Hashable) -> float:
        """Seconds to wait before ``item`` is retried; counts this as one more failure."""
        ...

    def forget(self, item: Hashable) -> None:
        """``item`` succeeded: clear its failure history."""
        ...

    def num_requeues(self, item: Hashable) -> int: ...


class ItemExponentialFailureRateLimiter:
    def __init__(self, *, base: float = 0.005, cap: float = 1000.0) -> None:
        self.base = base
        self.cap = cap
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        exponent = self._failures.get(item, 0)
        self._failures[item] = exponent + 1
        if exponent > 62:  # 2**63 × base overflows any useful duration; the cap applies
            return self.cap
        return min(self.base * (2**exponent), self.cap)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter:
    """Overall limit for all keys; it has no memory of any one key."""

    def __init__(self, *, qps: float = 10.0, burst: int = 100, clock: Clock | None = None) -> None:
        self.bucket = TokenBucket(qps=qps, burst=burst, clock=clock)

    def when(self, item: Hashable) -> float:
        return self.bucket.reserve()

    def forget(self, item: Hashable) -> None:
        pass

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """The longest wait any of ``limiters`` asks for (each one counts the failure)."""

    def __init__(self, *limiters: RateLimiter) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(*, clock: Clock | None = None) -> MaxOfRateLimiter:
    """Per-key 5 ms → 1000 s exponential, and 10 qps / 100 burst overall."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(base=0.005, cap=1000.0),
        BucketRateLimiter(qps=10.0, burst=100, clock=clock),
    )
