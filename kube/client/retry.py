"""Exponential backoff with jitter, and the rules for which failed requests to retry.

Every component reconnects to the same API server after it restarts; without jitter
they would all come back in the same instant and knock it over again. :class:`Backoff`
is client-go's ``wait.Backoff``/``BackoffManager``: the delay doubles up to a cap, each
wait gets random extra time, and a quiet period resets it so a failure hours later
starts small again.

Retrying is only safe when the server cannot have acted on the request twice. So:

- a connection that failed before the request was sent, and 429 (the server's
  flow control refused it before doing anything) are retried for every verb, 429 after
  the server's ``Retry-After``;
- a connection lost mid-request and 503 are retried only for idempotent verbs, where
  doing the work twice changes nothing (a POST might create two objects).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from kube.client.clock import Clock, RealClock


class _WithHeaders(Protocol):
    @property
    def headers(self) -> Mapping[str, str]: ...


IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
MAX_RETRY_AFTER = 60.0
"""Never believe a server that asks us to wait longer than this."""


class Backoff:
    """Delays ``initial * factor**n`` capped at ``cap``, each plus up to ``jitter`` × itself."""

    def __init__(
        self,
        *,
        initial: float,
        cap: float,
        factor: float = 2.0,
        jitter: float = 0.0,
        reset_after: float | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if initial < 0 or cap < initial or factor < 1:
            raise ValueError("backoff needs 0 <= initial <= cap and factor >= 1")
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self.reset_after = reset_after
        self._clock = clock or RealClock()
        self._rng = rng or random.Random()
        self._current = initial
        self._last: float | None = None

    def next(self) -> float:
        """The next delay to wait; grows the one after it."""
        now = self._clock.now()
        if self.reset_after is not None and self._last is not None and now - self._last >= self.reset_after:
            self._current = self.initial
        self._last = now
        delay = self._current
        self._current = min(self._current * self.factor, self.cap)
        if self.jitter > 0:
            delay += delay * self.jitter * self._rng.random()
        return delay

    def reset(self) -> None:
        self._current = self.initial
        self._last = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How the REST client retries one request (see the module docstring for which)."""

    max_retries: int = 5
    initial: float = 0.1
    cap: float = 5.0
    jitter: float = 0.5
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 503}))

    def backoff(self, clock: Clock) -> Backoff:
        return Backoff(initial=self.initial, cap=self.cap, jitter=self.jitter, clock=clock)

    def should_retry_status(self, *, method: str, status: int) -> bool:
        if status not in self.retry_statuses:
            return False
        return status == 429 or method.upper() in IDEMPOTENT

    @staticmethod
    def should_retry_error(*, method: str, error: Exception) -> bool:
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            return True  # never reached the server
        return isinstance(error, httpx.TransportError) and method.upper() in IDEMPOTENT


def retry_after(response: _WithHeaders, body: object = None) -> float | None:
    """Seconds from ``Retry-After`` (or the Status' ``details.retryAfterSeconds``), if any."""
    header = response.headers.get("retry-after", "").strip()
    seconds: float | None = None
    if header:
        try:
            seconds = float(header)
        except ValueError:
            seconds = None  # an HTTP date: rare from API servers; fall back to backoff
    if seconds is None and isinstance(body, dict):
        details = body.get("details") or {}
        if isinstance(details, dict) and details.get("retryAfterSeconds"):
            seconds = float(details["retryAfterSeconds"])
    if seconds is None:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
