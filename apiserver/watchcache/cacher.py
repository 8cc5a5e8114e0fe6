"""The watch cache of one resource: one storage watch, served to many clients.

Every kubelet, controller and kubectl watches pods. Giving each its own storage watch
would make the storage decode and filter every change once per client; instead, as the
Kubernetes apiserver's cacher does, one reflector lists the resource's prefix, watches
storage from the list revision, and applies each change to an in-memory store (for
``resourceVersion=0`` LISTs and GETs) and a bounded history (for watches resuming from a
revision). Each change is then fanned out to the interested watchers (``dispatch``).

If the storage watch breaks, the reflector re-watches from the last revision it applied;
if that revision has been compacted away it relists, and since the history then has a
gap no open watcher can be continued exactly: they are all ended and their clients
relist, as Kubernetes does when its reflector restarts.

Reads return the cache's shared objects: callers must not mutate them (see ``events``).
Everything runs on one asyncio loop; no locks are needed because no method that touches
the store awaits in the middle.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from apiserver.storage.errors import too_large
from apiserver.storage.interface import EventType, ListResult, Obj, Storage, WatchEvent
from apiserver.watchcache.dispatch import Registry, Stats, TimeBudget
from apiserver.watchcache.events import CacheEvent, Change, Entry, Predicate, bookmark, resource_version
from apiserver.watchcache.history import History
from apiserver.watchcache.store import Store
from apiserver.watchcache.watcher import Watcher
from kube.errors import Expired, TooManyRequests

if TYPE_CHECKING:
    from kube.fields import FieldSelector
    from kube.labels import Selector

logger = logging.getLogger(__name__)

_RETRY_MIN = 0.1
_RETRY_MAX = 5.0


class Cacher:
    """Serves LIST (at ``resourceVersion=0``), GET and every WATCH of one resource."""

    def __init__(
        self,
        *,
        storage: Storage,
        resource: str,
        prefix: str,
        fields_of: Callable[[Obj], Mapping[str, str]],
        history_seconds: float = 75.0,
        history_max_events: int = 10_000,
        bookmark_interval: float = 60.0,
        watcher_buffer: int = 1000,
        slow_watcher_budget: float = 0.1,
        kind: str = "",
        api_version: str = "",
        index_field: str | None = "spec.nodeName",
    ) -> None:
        """``kind``/``api_version`` name the bookmark objects; when empty they are
        learned from the first object seen. ``index_field`` is the field whose exact
        selector (``spec.nodeName=<node>``) routes events only to matching watchers."""
        self.resource = resource
        self._storage = storage
        self._prefix = prefix if prefix.endswith("/") else prefix + "/"
        self._kind = kind
        self._api_version = api_version
        self._bookmark_interval = bookmark_interval
        self._watcher_buffer = watcher_buffer
        self._store = Store(fields_of=fields_of, index_field=index_field)
        self._history = History(max_age=history_seconds, max_events=history_max_events)
        self._registry = Registry()
        self._budget = TimeBudget(maximum=slow_watcher_budget)
        self._revision = 0
        # The newest revision every open watcher has been offered. Bookmarks carry this
        # one, never a revision whose event is still waiting for a full watcher.
        self._dispatched = 0
        self._fresh_waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._tiebreak = itertools.count()
        self._ready = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Load the current objects, then follow storage in the background."""
        if self._tasks:
            return
        self._load(await self._storage.list(self._prefix))
        self._ready = True
        self._tasks = [
            asyncio.create_task(self._reflect(), name=f"watchcache-{self.resource}"),
            asyncio.create_task(self._bookmarks(), name=f"watchcache-{self.resource}-bookmarks"),
        ]

    async def stop(self) -> None:
        """Stop following storage and end every watcher (they see the end of iteration
        after what they had buffered)."""
        self._ready = False
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._terminate_all("watch cache stopped")
        for _, _, waiter in self._fresh_waiters:
            if not waiter.done():
                waiter.set_exception(self._not_ready())
        self._fresh_waiters.clear()

    # -- reads -------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The newest revision the cache has applied."""
        return self._revision

    @property
    def stats(self) -> Stats:
        return self._registry.stats

    @property
    def watcher_count(self) -> int:
        return len(self._registry)

    # The name ``timeout`` is the API server core's agreed signature.
    async def wait_until_fresh(self, revision: int, *, timeout: float = 3.0) -> None:  # noqa: ASYNC109
        """Return once the cache has applied ``revision``; Timeout (504, "Timeout: Too
        large resource version", retry after 1 s) if it does not within ``timeout``.

        The cache only learns revisions from its own resource's changes (the storage
        watch has no progress notifications yet), so a revision produced by a write to
        another resource is reached only when this resource next changes — the same
        limit Kubernetes had before etcd progress requests."""
        if revision <= self._revision:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._fresh_waiters, (revision, next(self._tiebreak), waiter))
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            raise too_large(requested=revision, current=self._revision) from None

    def get(self, key: str) -> Obj | None:
        """The cached object at ``key`` (shared: do not mutate), or None."""
        self._check_ready()
        entry = self._store.get(key)
        return entry.obj if entry is not None else None

    def list(
        self,
        *,
        namespace: str = "",
        label_selector: Selector | None = None,
        field_selector: FieldSelector | None = None,
    ) -> tuple[list[Obj], int]:
        """Matching objects sorted by key (shared: do not mutate) and the revision they
        are consistent with."""
        self._check_ready()
        index_value = self._index_value(field_selector)
        predicate = _predicate(namespace=namespace, labels=label_selector, fields=field_selector)
        candidates = self._store.candidates(namespace=namespace, index_value=index_value)
        if predicate is None:
            return [entry.obj for entry in candidates], self._revision
        return [entry.obj for entry in candidates if predicate(entry)], self._revision

    def watch(
        self,
        *,
        revision: int,
        namespace: str = "",
        label_selector: Selector | None = None,
        field_selector: FieldSelector | None = None,
        allow_bookmarks: bool = False,
    ) -> Watcher:
        """Open a watch. ``revision=0``: an ADDED for every current matching object, then
        live changes. ``revision=R``: every change after R, then live ones (a future R
        simply waits for changes above it). Raises Expired here, synchronously, when the
        history no longer reaches back to R; TooManyRequests while (re)initializing."""
        self._check_ready()
        index_value = self._index_value(field_selector)
        full = _predicate(namespace=namespace, labels=label_selector, fields=field_selector)
        initial: Iterator[CacheEvent]
        if revision <= 0:
            after = self._revision
            entries = self._store.candidates(namespace=namespace, index_value=index_value)
            initial = _listing(entries, full)
        else:
            changes = self._history.since(revision)
            after = max(revision, self._revision)
            initial = _replay(changes, full)
        # Namespace-bucketed watchers are only ever offered changes of their namespace,
        # so their live filter need not check it again.
        bucketed_by_namespace = index_value is None and bool(namespace)
        live = full
        if bucketed_by_namespace:
            live = _predicate(namespace="", labels=label_selector, fields=field_selector)
        watcher = Watcher(
            predicate=live,
            after=after,
            capacity=self._watcher_buffer,
            initial=initial,
            allow_bookmarks=allow_bookmarks,
            namespace=namespace,
            index_value=index_value,
            forget=self._registry.remove,
            on_attach=self._registry.attached,
            on_slow=self._registry.count_slow,
        )
        self._registry.add(watcher)
        return watcher

    # -- following storage -------------------------------------------------------------

    async def _reflect(self) -> None:
        """List-and-watch loop: re-watch after a break, relist after Expired."""
        delay = _RETRY_MIN
        relist = False
        while True:
            try:
                if relist:
                    self._load(await self._storage.list(self._prefix))
                    relist = False
                    self._terminate_all("watch cache relisted: history has a gap, relist")
                stream = self._storage.watch(self._prefix, revision=self._revision)
                try:
                    async for event in stream:
                        await self._handle(event)
                        delay = _RETRY_MIN
                finally:
                    aclose = getattr(stream, "aclose", None)
                    if aclose is not None:
                        with contextlib.suppress(Exception):
                            await aclose()
                logger.info("storage watch of %s ended at revision %d; re-watching", self._prefix, self._revision)
            except Expired as err:
                logger.warning("storage watch of %s expired (%s); relisting", self._prefix, err.message)
                relist = True
                continue
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("storage watch of %s failed; retrying in %.1fs", self._prefix, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    async def _handle(self, event: WatchEvent) -> None:
        change = self._apply(event)
        if change is None:
            return
        blocked = self._registry.fan_out(change)
        if blocked:
            loop = asyncio.get_running_loop()
            await self._registry.deliver_blocked(blocked, budget=self._budget, now=loop.time())
        self._dispatched = change.revision

    def _apply(self, event: WatchEvent) -> Change | None:
        """Update store, history and revision; the change to fan out, if any."""
        revision = event.revision
        if revision <= self._revision:
            return None  # already applied (a re-watch may replay its starting point)
        key = event.key
        store = self._store
        old = store.get(key)
        now = asyncio.get_running_loop().time()
        if event.type == EventType.DELETED:
            store.delete(key)
            if old is None:
                self._advance(revision)
                self._dispatched = revision
                return None
            change = Change(revision=revision, cur=None, old=old, deleted_obj=event.object, recorded_at=now)
        else:
            obj = event.object
            if not self._kind:
                self._learn_kind(obj)
            cur = store.entry(key=key, obj=obj, revision=revision)
            store.put(cur)
            change = Change(revision=revision, cur=cur, old=old, deleted_obj=None, recorded_at=now)
        self._history.append(change)
        self._advance(revision)
        return change

    def _load(self, result: ListResult) -> None:
        entries = [self._entry_of(obj) for obj in result.items]
        self._store.replace(entries)
        self._history.reset(revision=result.revision)
        if result.items and not self._kind:
            self._learn_kind(result.items[0])
        self._revision = self._dispatched = result.revision
        self._advance(result.revision)

    def _entry_of(self, obj: Obj) -> Entry:
        meta = obj.get("metadata") or {}
        namespace, name = meta.get("namespace") or "", meta.get("name") or ""
        key = f"{self._prefix}{namespace}/{name}" if namespace else f"{self._prefix}{name}"
        return self._store.entry(key=key, obj=obj, revision=resource_version(obj))

    def _advance(self, revision: int) -> None:
        self._revision = revision
        waiters = self._fresh_waiters
        while waiters and waiters[0][0] <= revision:
            _, _, waiter = heapq.heappop(waiters)
            if not waiter.done():
                waiter.set_result(None)

    # -- bookmarks ---------------------------------------------------------------------

    async def _bookmarks(self) -> None:
        while True:
            await asyncio.sleep(self._bookmark_interval)
            self.send_bookmarks()

    def send_bookmarks(self) -> None:
        """Offer a BOOKMARK at the dispatched revision to every watcher that asked for
        them. Bookmarks are advisory, so a full buffer just misses this one."""
        revision = self._dispatched
        event = bookmark(kind=self._kind, api_version=self._api_version, revision=revision)
        for watcher in list(self._registry.bookmarking):
            if watcher.after <= revision:
                watcher.offer(event)

    # -- helpers -----------------------------------------------------------------------

    def _index_value(self, field_selector: FieldSelector | None) -> str | None:
        index_field = self._store.index_field
        if field_selector is None or index_field is None:
            return None
        return field_selector.exact(index_field) or None

    def _terminate_all(self, reason: str) -> None:
        for watcher in list(self._registry.all()):
            watcher.terminate(reason)

    def _learn_kind(self, obj: Obj) -> None:
        self._kind = obj.get("kind") or ""
        self._api_version = self._api_version or obj.get("apiVersion") or ""

    def _check_ready(self) -> None:
        if not self._ready:
            raise self._not_ready()

    def _not_ready(self) -> TooManyRequests:
        return TooManyRequests.of(message="storage is (re)initializing", retry_after=1)


def _predicate(
    *, namespace: str, labels: Selector | None, fields: FieldSelector | None
) -> Predicate | None:
    """The filter over an entry, or None when it would accept everything (the hot path
    then skips the call)."""
    label_selector = labels if labels is not None and not labels.empty else None
    field_selector = fields if fields is not None and not fields.empty else None
    if not namespace and label_selector is None and field_selector is None:
        return None

    def predicate(entry: Entry) -> bool:
        if namespace and entry.namespace != namespace:
            return False
        if label_selector is not None and not label_selector.matches(entry.labels):
            return False
        return field_selector is None or field_selector.matches(entry.fields)

    return predicate


def _listing(entries: Iterable[Entry], predicate: Predicate | None) -> Iterator[CacheEvent]:
    for entry in entries:
        if predicate is None or predicate(entry):
            yield entry.added()


def _replay(changes: Iterable[Change], predicate: Predicate | None) -> Iterator[CacheEvent]:
    for change in changes:
        event = change.event_for(predicate)
        if event is not None:
            yield event
