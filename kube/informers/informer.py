"""The shared informer: one list+watch, one cache, many consumers (client-go's ``sharedIndexInformer``).

A scheduler, a controller manager or a kubelet has several parts interested in the same
resource; one watch each would multiply the API server's load for no gain. The
informer runs one :class:`~kube.informers.reflector.Reflector` into one indexed
:class:`~kube.informers.store.Store` and fans each change out to every registered
consumer as add / update(old, new) / delete:

- a relist (after 410 Expired or a broken watch) becomes updates for objects still
  there, adds for new ones, and deletes carrying a
  :class:`~kube.informers.store.DeletedFinalStateUnknown` tombstone for objects that
  vanished while nobody was watching;
- a consumer that registers after the cache is full first receives every cached object
  as an add, so late and early consumers see the same world;
- a consumer may ask for a periodic resync: update(obj, obj) for everything in the
  cache, a safety net for level-based controllers whose last reconcile failed quietly.

``has_synced`` turns true once the first list is in the cache; controllers wait for
it before working so that "absent from the cache" really means "absent".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from kube.client.clock import Clock, RealClock
from kube.client.rest import DEFAULT_PAGE_SIZE, Client
from kube.client.retry import Backoff
from kube.client.watch import DELETED, WatchEvent
from kube.informers.listener import SYNCED, Notification, OnAdd, OnDelete, OnUpdate, Registration
from kube.informers.reflector import MIN_WATCH_TIMEOUT, Reflector
from kube.informers.store import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    IndexFunc,
    Store,
    namespace_index,
    object_key,
)
from kube.resources import ResourceInfo

Obj = dict[str, Any]


class SharedInformer:
    def __init__(
        self,
        client: Client,
        info: ResourceInfo,
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        resync_period: float = 0.0,
        indexers: Mapping[str, IndexFunc] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        min_watch_timeout: float = MIN_WATCH_TIMEOUT,
        backoff: Backoff | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.info = info
        self.clock: Clock = clock or RealClock()
        self.default_resync_period = resync_period
        self.store = Store(indexers={NAMESPACE_INDEX: namespace_index, **(indexers or {})})
        self.reflector = Reflector(
            client,
            info,
            sink=self,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            page_size=page_size,
            min_watch_timeout=min_watch_timeout,
            backoff=backoff,
            clock=self.clock,
        )
        self._registrations: list[Registration] = []
        self._synced = asyncio.Event()
        self._resync_changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False

    # --- consumers ------------------------------------------------------------------------

    def add_event_handler(
        self,
        on_add: OnAdd | None = None,
        on_update: OnUpdate | None = None,
        on_delete: OnDelete | None = None,
        *,
        resync_period: float | None = None,
        name: str = "",
    ) -> Registration:
        """Register handlers (plain functions or coroutines). ``resync_period`` (seconds,
        default the informer's) asks for update(obj, obj) of every cached object that often."""
        period = self.default_resync_period if resync_period is None else resync_period
        reg = Registration(
            on_add=on_add, on_update=on_update, on_delete=on_delete, resync_period=period, name=name
        )
        # Everything already cached arrives first, as adds: the consumer joins the same world.
        for obj in self.store.list():
            reg.push(Notification("add", new=obj))
        if self.has_synced():
            reg.push(SYNCED)
        if period > 0:
            reg.next_resync = self.clock.now() + period
            self._resync_changed.set()
        self._registrations.append(reg)
        if self._running:
            reg.start()
        return reg

    async def remove_event_handler(self, registration: Registration) -> None:
        with contextlib.suppress(ValueError):
            self._registrations.remove(registration)
        await registration.stop()

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        self.store.add_indexers(indexers)

    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_for_sync(self) -> None:
        """Return once the first list is cached (bound it with ``asyncio.timeout``)."""
        await self._synced.wait()

    def last_sync_resource_version(self) -> str:
        return self.reflector.last_sync_resource_version

    # --- running --------------------------------------------------------------------------

    def start(self) -> None:
        """Start watching in the background (idempotent); ``stop`` ends it."""
        if self._running:
            return
        self._running = True
        loop = asyncio.get_running_loop()
        name = self.reflector.name
        self._tasks = [
            loop.create_task(self.reflector.run(), name=f"reflector-{name}"),
            loop.create_task(self._resync_loop(), name=f"resync-{name}"),
        ]
        for reg in self._registrations:
            reg.start()

    async def run(self) -> None:
        """Run until cancelled (``start`` + wait + ``stop``)."""
        self.start()
        try:
            await asyncio.gather(*self._tasks)
        finally:
            await self.stop()

    async def stop(self) -> None:
        self._running = False
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for reg in self._registrations:
            await reg.stop()

    # --- the reflector's sink -----------------------------------------------------------

    def _distribute(self, notification: Notification) -> None:
        for reg in self._registrations:
            reg.push(notification)

    def on_replace(self, objs: list[Obj]) -> None:
        old = {object_key(obj): obj for obj in self.store.list()}
        self.store.replace(objs)
        seen: set[str] = set()
        for obj in objs:
            key = object_key(obj)
            seen.add(key)
            previous = old.get(key)
            if previous is None:
                self._distribute(Notification("add", new=obj))
            else:
                self._distribute(Notification("update", new=obj, old=previous))
        for key, previous in old.items():
            if key not in seen:
                self._distribute(Notification("delete", new=DeletedFinalStateUnknown(key, previous)))
        if not self._synced.is_set():
            self._synced.set()
            self._distribute(SYNCED)

    def on_watch_event(self, event: WatchEvent) -> None:
        obj = event.object
        if event.type == DELETED:
            self.store.delete(obj)
            self._distribute(Notification("delete", new=obj))
            return
        previous = self.store.get(obj)
        self.store.update(obj)
        if previous is None:
            self._distribute(Notification("add", new=obj))
        else:
            self._distribute(Notification("update", new=obj, old=previous))

    # --- resync ---------------------------------------------------------------------------

    async def _resync_loop(self) -> None:
        await self._synced.wait()
        while True:
            self._resync_due()
            self._resync_changed.clear()
            due = [r.next_resync for r in self._registrations if r.resync_period > 0]
            # One timer for the earliest due consumer; a new consumer with a period
            # sets the same event, so the timer is re-armed for the new earliest.
            timer = (
                self.clock.call_later(min(due) - self.clock.now(), self._resync_changed.set) if due else None
            )
            try:
                await self._resync_changed.wait()
            finally:
                if timer is not None:
                    timer.cancel()

    def _resync_due(self) -> None:
        now = self.clock.now()
        objs: list[Obj] | None = None
        for reg in self._registrations:
            if reg.resync_period > 0 and now >= reg.next_resync:
                objs = self.store.list() if objs is None else objs
                for obj in objs:
                    reg.push(Notification("update", new=obj, old=obj))
                reg.next_resync = now + reg.resync_period
