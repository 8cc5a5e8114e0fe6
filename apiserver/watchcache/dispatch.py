"""Fan-out: which watchers hear about a change, and what happens when one is full.

This is the hot path (every change × every interested watcher), so the work per change
is arranged to be proportional to the watchers that can care, not to all of them:

* Watchers are bucketed. One whose field selector pins the index field (a kubelet's
  ``spec.nodeName=<node>``) sits in that value's bucket; one limited to a namespace sits
  in that namespace's bucket; the rest are unindexed. A change is offered only to the
  buckets of its new and previous index value, its namespace, and the unindexed — so
  a pod event on node Y costs nothing for the kubelets of other nodes. Kubernetes'
  "trigger functions" cut apiserver CPU ~75% on an idle 2k-node cluster this way.
* The event a watcher receives is one of at most three shared ``CacheEvent`` objects per
  change, built on first use, so a thousand watchers cost a thousand appends.
* Most watchers of a busy cache are push-mode watches with no filter beyond their
  bucket (informers, the kubelet's node watch, kubectl -w). For each bucket the
  registry keeps a plan: the sinks of those watchers, which take every change as it
  is, and the rest, which are checked one by one. Sinks that can share a ``Feed``
  (the HTTP server's, which all write pre-encoded frames through one flusher) are
  grouped into one, so a change costs one push per feed, not one per watcher: with
  a thousand watchers that per-watcher call was a tenth of the server's event loop.
  Plans are dropped whenever a watcher comes, goes or switches to push mode (their
  feeds dissolved, each sink keeping what it was still owed), and rebuilt on the
  next change.
* Offering is synchronous and never waits. Watchers whose buffer is full are collected
  and, after everyone else has been served, given a short grace period from a *shared*
  time budget (refilled over time, as Kubernetes' ``timeBudget``): a reader that frees
  room in time gets the event, one that does not is terminated and will relist. A
  stuck client therefore delays the others by at most the budget, once, and then is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from apiserver.watchcache.events import CacheEvent, Change
from apiserver.watchcache.watcher import Feed, Group, Sink, Watcher

SLOW_REASON = "watcher too slow: its buffer stayed full beyond the dispatch budget"


@dataclass(slots=True)
class Plan:
    """How one bucket is served: feeds and lone sinks take every change unchecked;
    ``others`` are checked one by one. ``size`` counts the sinks behind the feeds."""

    feeds: list[Feed]
    size: int
    sinks: list[Sink]
    others: list[Watcher]


@dataclass(slots=True)
class Stats:
    """Counters for tests and metrics."""

    considered: int = 0
    """Watcher × change pairs examined: what indexing saves shows up here."""
    delivered: int = 0
    closed_slow: int = 0


class TimeBudget:
    """How long dispatch may wait for full watchers, shared across them and refilled at
    half the maximum per second, so repeated stalls cannot add up."""

    def __init__(self, *, maximum: float) -> None:
        self._max = max(0.0, maximum)
        self._refill = self._max / 2
        self._available = self._max
        self._at: float | None = None

    def take(self, *, now: float) -> float:
        if self._at is not None:
            self._available = min(self._max, self._available + (now - self._at) * self._refill)
        self._at = now
        taken, self._available = self._available, 0.0
        return taken

    def give_back(self, unused: float) -> None:
        self._available = min(self._max, self._available + max(0.0, unused))


class Registry:
    """The open watchers, bucketed by what they are pinned to."""

    def __init__(self) -> None:
        self._by_index: dict[str, set[Watcher]] = {}
        self._by_namespace: dict[str, set[Watcher]] = {}
        self._unindexed: set[Watcher] = set()
        self.bookmarking: set[Watcher] = set()
        self.stats = Stats()
        self._plans: dict[int, Plan] = {}  # per bucket, by identity

    def __len__(self) -> int:
        return sum(1 for _ in self.all())

    def count_slow(self) -> None:
        self.stats.closed_slow += 1

    def _drop_plans(self) -> None:
        plans, self._plans = self._plans, {}
        for plan in plans.values():
            for feed in plan.feeds:
                feed.dissolve()

    def add(self, watcher: Watcher) -> None:
        self._drop_plans()
        if watcher.index_value is not None:
            self._by_index.setdefault(watcher.index_value, set()).add(watcher)
        elif watcher.namespace:
            self._by_namespace.setdefault(watcher.namespace, set()).add(watcher)
        else:
            self._unindexed.add(watcher)
        if watcher.allow_bookmarks:
            self.bookmarking.add(watcher)

    def remove(self, watcher: Watcher) -> None:
        self._drop_plans()  # before a bucket emptied here goes (and its id may be reused)
        if watcher.index_value is not None:
            _discard(self._by_index, watcher.index_value, watcher)
        elif watcher.namespace:
            _discard(self._by_namespace, watcher.namespace, watcher)
        else:
            self._unindexed.discard(watcher)
        self.bookmarking.discard(watcher)

    def attached(self, watcher: Watcher) -> None:
        """``watcher`` switched to push mode: it may now belong in its bucket's plan."""
        self._drop_plans()

    def all(self) -> Iterator[Watcher]:
        for bucket in self._by_index.values():
            yield from bucket
        for bucket in self._by_namespace.values():
            yield from bucket
        yield from self._unindexed

    def fan_out(self, change: Change) -> list[tuple[Watcher, CacheEvent]]:
        """Offer ``change`` to every watcher that may care. Returns the (watcher, event)
        pairs that did not fit, for the caller to wait on with the budget."""
        blocked: list[tuple[Watcher, CacheEvent]] = []
        entry = change.cur or change.old
        assert entry is not None
        buckets: list[set[Watcher]] = []
        new_value = change.cur.index_value if change.cur is not None else None
        old_value = change.old.index_value if change.old is not None else None
        if new_value is not None and new_value in self._by_index:
            buckets.append(self._by_index[new_value])
        if old_value is not None and old_value != new_value and old_value in self._by_index:
            buckets.append(self._by_index[old_value])
        namespaced = self._by_namespace.get(entry.namespace) if entry.namespace else None
        if namespaced:
            buckets.append(namespaced)
        if self._unindexed:
            buckets.append(self._unindexed)

        revision = change.revision
        plain: CacheEvent | None = None
        considered = delivered = 0
        plans = self._plans
        for bucket in buckets:
            considered += len(bucket)
            plan = plans.get(id(bucket))
            if plan is None:
                plan = plans[id(bucket)] = _plan(bucket, revision)
            if plan.size:
                if plain is None:
                    plain = change.plain()
                for feed in plan.feeds:
                    feed.push(plain)
                for sink in plan.sinks:
                    sink.push(plain)
                delivered += plan.size
            for watcher in plan.others:
                if watcher.after >= revision:
                    continue
                predicate = watcher.predicate
                event: CacheEvent | None
                if predicate is None:
                    if plain is None:
                        plain = change.plain()
                    event = plain
                else:
                    event = change.event_for(predicate)
                    if event is None:
                        continue
                # A push-mode watcher always takes the event: skip ``offer``'s call.
                pushed_to = watcher.sink
                if pushed_to is not None:
                    pushed_to.push(event)
                elif not watcher.offer(event):
                    blocked.append((watcher, event))
                    continue
                delivered += 1
        stats = self.stats
        stats.considered += considered
        stats.delivered += delivered
        return blocked

    async def deliver_blocked(
        self, blocked: list[tuple[Watcher, CacheEvent]], *, budget: TimeBudget, now: float
    ) -> None:
        """Give full watchers the shared grace period, in turn; end those still full."""
        remaining = budget.take(now=now)
        # A reader that is merely not scheduled yet drains its whole buffer in one step
        # (it only suspends when empty), so one turn of the loop separates the busy from
        # the stuck, even when the budget is spent.
        await asyncio.sleep(0)
        for watcher, event in blocked:
            if watcher.done:
                continue
            if not watcher.offer(event):
                started = _loop_time()
                fitted = await watcher.wait_for_room(within=remaining)
                remaining = max(0.0, remaining - (_loop_time() - started))
                if not fitted or not watcher.offer(event):
                    watcher.terminate_slow(SLOW_REASON)
                    continue
            self.stats.delivered += 1
        budget.give_back(remaining)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def _plan(bucket: set[Watcher], revision: int) -> Plan:
    """Split ``bucket``: sinks that take every change from ``revision`` on unchecked
    (push mode, no filter, nothing to skip: revisions only grow), fed together where
    they share a group, and the rest."""
    grouped: dict[int, tuple[Group, list[Sink]]] = {}
    lone: list[Sink] = []
    others: list[Watcher] = []
    for watcher in bucket:
        sink = watcher.sink
        if sink is not None and watcher.predicate is None and watcher.after < revision:
            group: Group | None = getattr(sink, "group", None)
            if group is None:
                lone.append(sink)
            else:
                grouped.setdefault(id(group), (group, []))[1].append(sink)
        else:
            others.append(watcher)
    feeds = [group.feed(sinks) for group, sinks in grouped.values()]
    size = len(lone) + sum(len(sinks) for _, sinks in grouped.values())
    return Plan(feeds=feeds, size=size, sinks=lone, others=others)


def _discard(buckets: dict[str, set[Watcher]], value: str, watcher: Watcher) -> None:
    bucket = buckets.get(value)
    if bucket is not None:
        bucket.discard(watcher)
        if not bucket:
            del buckets[value]
