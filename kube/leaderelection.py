"""Leader election over a ``coordination.k8s.io/v1`` Lease (client-go's ``tools/leaderelection``).

Two schedulers (or controller managers) may run for availability, but only one may act,
or both would bind the same pod. Each candidate reads one Lease; whoever holds it and
keeps renewing it leads. The rules that make this safe without synchronized clocks:

- **Expiry is judged by the observer's own clock.** A candidate does not trust the
  holder's ``renewTime``; it notes *when it saw* the lease record change, and takes the
  lease only if the record has not changed for ``leaseDurationSeconds`` since.
- **The leader gives up first.** A leader measures ``renew_deadline`` from the moment
  it *sent* its last successful renewal; by then it calls ``on_stopped_leading`` and
  cancels its work. Any other candidate saw that renewal no earlier than it was sent and
  waits ``lease_duration`` (> ``renew_deadline``, checked at construction) after seeing
  it, so the old leader has stopped before anyone else can start.
- **Writes are compare-and-swap** on the Lease's ``resourceVersion``; a 409 means
  another candidate wrote first, and the next attempt re-reads.

Leadership lasts while ``on_started_leading`` runs: if it returns or raises, the elector
stops leading too (and re-raises), so a crashed leader hands over instead of holding the
lease idle. With ``release_on_cancel`` a leader that stops clears the holder, so a
successor need not wait for the lease to expire.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import random
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from kube import meta
from kube.client.clock import Clock, RealClock
from kube.client.errors import TransportError
from kube.client.rest import Client
from kube.errors import AlreadyExists, Conflict, NotFound, StatusError
from kube.resources import BUILTIN, ResourceInfo

log = logging.getLogger(__name__)

LEASES: ResourceInfo = next(i for i in BUILTIN if i.group == "coordination.k8s.io" and i.resource == "leases")
JITTER_FACTOR = 1.2
"""Candidates retry after retry_period × (1 + up to 1.2), so they do not all hit the server at once."""

Obj = dict[str, Any]


async def _call(fn: Callable[..., Any] | None, *args: Any) -> None:
    if fn is None:
        return
    result = fn(*args)
    if inspect.isawaitable(result):
        await result


class LeaderElector:
    def __init__(
        self,
        client: Client,
        *,
        lease_name: str,
        namespace: str = "kube-system",
        identity: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        on_started_leading: Callable[[], Coroutine[Any, Any, Any]],
        on_stopped_leading: Callable[[], Awaitable[None] | None],
        on_new_leader: Callable[[str], Awaitable[None] | None] | None = None,
        release_on_cancel: bool = False,
        clock: Clock | None = None,
    ) -> None:
        if not identity:
            raise ValueError("leader election needs a non-empty identity")
        if lease_duration <= renew_deadline:
            raise ValueError(
                f"lease_duration ({lease_duration}) must be greater than renew_deadline ({renew_deadline})"
            )
        if renew_deadline <= JITTER_FACTOR * retry_period:
            raise ValueError(
                f"renew_deadline ({renew_deadline}) must be greater than {JITTER_FACTOR} × retry_period ({retry_period})"
            )
        if retry_period <= 0:
            raise ValueError("retry_period must be positive")
        self.client = client
        self.lease_name = lease_name
        self.namespace = namespace
        self.identity = identity
        # The Lease stores whole seconds; rounding up keeps others waiting at least as long.
        self.lease_seconds = math.ceil(lease_duration)
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.on_new_leader = on_new_leader
        self.release_on_cancel = release_on_cancel
        self.clock: Clock = clock or RealClock()
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._holder = ""
        self._leading = False
        self._renewed_at = 0.0

    def is_leader(self) -> bool:
        return self._leading

    def leader(self) -> str:
        """The holder this candidate last saw ("" if none)."""
        return self._holder

    # --- the one read-modify-write ---------------------------------------------------------

    async def _observe(self, spec: Obj) -> None:
        record = tuple(
            spec.get(k)
            for k in (
                "holderIdentity",
                "leaseDurationSeconds",
                "acquireTime",
                "renewTime",
                "leaseTransitions",
            )
        )
        if record != self._observed:
            self._observed = record
            self._observed_at = self.clock.now()
        holder = str(spec.get("holderIdentity") or "")
        if holder != self._holder:
            self._holder = holder
            if holder:
                await _call(self.on_new_leader, holder)

    def _spec(self, old: Obj, now: datetime) -> Obj:
        stamp = meta.format_micro_time(now)
        kept = old.get("holderIdentity") == self.identity
        transitions = int(old.get("leaseTransitions") or 0)
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.lease_seconds,
            "acquireTime": old.get("acquireTime") if kept and old.get("acquireTime") else stamp,
            "renewTime": stamp,
            "leaseTransitions": transitions if kept or not old else transitions + 1,
        }

    async def try_acquire_or_renew(self) -> bool:
        """One attempt: take the lease if free or expired, renew it if ours."""
        try:
            lease = await self.client.get(LEASES, name=self.lease_name, namespace=self.namespace)
        except NotFound:
            new = {
                "apiVersion": LEASES.api_version,
                "kind": LEASES.kind,
                "metadata": {"name": self.lease_name, "namespace": self.namespace},
                "spec": self._spec({}, datetime.now(UTC)),
            }
            try:
                created = await self.client.create(LEASES, new, namespace=self.namespace)
            except AlreadyExists:
                return False  # another candidate created it first
            await self._observe(created.get("spec") or {})
            return True
        spec: Obj = lease.get("spec") or {}
        await self._observe(spec)
        holder = str(spec.get("holderIdentity") or "")
        duration = float(spec.get("leaseDurationSeconds") or self.lease_seconds)
        if holder and holder != self.identity and self._observed_at + duration > self.clock.now():
            return False  # held by someone else and not expired
        lease["spec"] = self._spec(spec, datetime.now(UTC))
        try:
            updated = await self.client.update(LEASES, lease, namespace=self.namespace)
        except Conflict:
            return False  # someone else wrote since our read; re-read next time
        await self._observe(updated.get("spec") or {})
        return True

    async def _attempt(self, within: float) -> bool:
        """``try_acquire_or_renew`` bounded by the injected clock; any failure is False."""
        # The deadline is armed now, synchronously: a timer task would start its clock
        # only when first scheduled, and that lag would eat into the safety margin.
        expired: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def expire() -> None:
            if not expired.done():
                expired.set_result(None)

        timer = self.clock.call_later(within, expire)
        attempt: asyncio.Future[Any] = asyncio.ensure_future(self.try_acquire_or_renew())
        try:
            await asyncio.wait({attempt, expired}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            expired.cancel()
            if not attempt.done():
                attempt.cancel()
            await asyncio.gather(attempt, return_exceptions=True)
        if attempt.cancelled():
            log.warning("leader election %s: attempt timed out", self.lease_name)
            return False
        err = attempt.exception()
        if err is not None:
            if not isinstance(err, StatusError | TransportError):
                raise err
            log.warning("leader election %s: %s", self.lease_name, err)
            return False
        return bool(attempt.result())

    # --- the loops -------------------------------------------------------------------------

    async def _acquire(self) -> None:
        while True:
            sent = self.clock.now()
            if await self._attempt(self.renew_deadline):
                self._renewed_at = sent
                return
            await self.clock.sleep(self.retry_period * (1.0 + random.random() * JITTER_FACTOR))

    async def _renew(self) -> None:
        """Renew every retry_period; return once renew_deadline has passed since the last success."""
        while True:
            await self.clock.sleep(self.retry_period)
            while True:
                remaining = self._renewed_at + self.renew_deadline - self.clock.now()
                if remaining <= 0:
                    return
                sent = self.clock.now()
                if await self._attempt(remaining):
                    self._renewed_at = sent
                    break
                if self._holder and self._holder != self.identity:
                    return  # someone else holds it: we lost it already
                remaining = self._renewed_at + self.renew_deadline - self.clock.now()
                await self.clock.sleep(min(self.retry_period, max(remaining, 0.0)))

    async def run(self) -> None:
        """Wait to lead, lead while ``on_started_leading`` runs and renewals succeed, then return."""
        await self._acquire()
        self._leading = True
        log.info("leader election %s: %s became leader", self.lease_name, self.identity)
        work = asyncio.ensure_future(self.on_started_leading())
        renew = asyncio.ensure_future(self._renew())
        try:
            await asyncio.wait({work, renew}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Stop first (cancel the work, tell the owner), so nothing acts after our
            # deadline; only then wait for the work to wind down and tidy up.
            self._leading = False
            renew.cancel()
            work.cancel()
            log.info("leader election %s: %s stopped leading", self.lease_name, self.identity)
            await _call(self.on_stopped_leading)
            await asyncio.gather(renew, work, return_exceptions=True)
            if self.release_on_cancel:
                await self.release()
        if work.done() and not work.cancelled() and work.exception() is not None:
            raise work.exception()  # type: ignore[misc]

    async def release(self) -> bool:
        """Clear the holder if it is us, so a successor need not wait for expiry."""

        async def clear() -> bool:
            lease = await self.client.get(LEASES, name=self.lease_name, namespace=self.namespace)
            spec: Obj = lease.get("spec") or {}
            if spec.get("holderIdentity") != self.identity:
                return False
            stamp = meta.format_micro_time(datetime.now(UTC))
            lease["spec"] = {
                **spec,
                "holderIdentity": "",
                "leaseDurationSeconds": 1,
                "renewTime": stamp,
                "acquireTime": stamp,
            }
            await self.client.update(LEASES, lease, namespace=self.namespace)
            return True

        try:
            async with asyncio.timeout(self.renew_deadline):
                return await clear()
        except (StatusError, TransportError, TimeoutError) as err:
            log.warning("leader election %s: release failed: %s", self.lease_name, err)
            return False
