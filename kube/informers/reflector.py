"""The reflector: keep a sink equal to the server's state by listing once and then watching.

This is client-go's ``Reflector`` and it does only that job. It lists (page by page,
all at one revision), hands the whole list to the sink (``on_replace``), then watches
from the list's ``resourceVersion`` and hands over every event (``on_watch_event``). It
remembers the last revision it saw, so:

- when the server ends a watch cleanly (its ``timeoutSeconds`` ran out) it resumes the
  watch from there, with nothing missed and nothing listed again;
- when the watch says 410 Expired (the revision was compacted away), breaks mid-stream,
  or cannot be opened, it waits a jittered, growing backoff and relists: the new list
  is the truth and the sink works out what changed, including deletions it never saw;
- it asks for BOOKMARK events and advances its revision on them, so a quiet watch on
  a busy server resumes from a recent revision instead of an expired one.

A watch that ends "cleanly" at once with no events is treated as broken, so a server
that closes every stream immediately gets backoff rather than a hot loop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any, Protocol

from kube import meta
from kube.client.clock import Clock, RealClock
from kube.client.errors import TransportError
from kube.client.rest import DEFAULT_PAGE_SIZE, Client
from kube.client.retry import Backoff
from kube.client.watch import ADDED, BOOKMARK, DELETED, MODIFIED, WatchEvent
from kube.errors import InternalError, StatusError
from kube.resources import ResourceInfo

log = logging.getLogger(__name__)

Obj = dict[str, Any]
MIN_WATCH_TIMEOUT = 300.0
"""client-go's minWatchTimeout: each watch asks for 5–10 minutes, so reconnects spread out."""
SHORT_WATCH = 1.0


class ReflectorSink(Protocol):
    def on_replace(self, objs: list[Obj]) -> None:
        """The complete current state, from a list."""
        ...

    def on_watch_event(self, event: WatchEvent) -> None:
        """One ADDED, MODIFIED or DELETED event (never BOOKMARK or ERROR)."""
        ...


def default_backoff(clock: Clock | None = None) -> Backoff:
    """client-go's reflector backoff: 800 ms doubling to 30 s, full jitter, reset after 2 quiet minutes."""
    return Backoff(initial=0.8, cap=30.0, factor=2.0, jitter=1.0, reset_after=120.0, clock=clock)


class ShortWatch(Exception):
    """The server closed a watch at once without sending anything."""


class Reflector:
    def __init__(
        self,
        client: Client,
        info: ResourceInfo,
        *,
        sink: ReflectorSink,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        page_size: int = DEFAULT_PAGE_SIZE,
        min_watch_timeout: float = MIN_WATCH_TIMEOUT,
        backoff: Backoff | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.info = info
        self.sink = sink
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.page_size = page_size
        self.min_watch_timeout = min_watch_timeout
        self.clock: Clock = clock or RealClock()
        self.backoff = backoff or default_backoff(self.clock)
        self.last_sync_resource_version = ""
        self.lists = 0
        """Lists done so far (the first sync and every relist); tests and metrics read it."""
        self.name = f"{info.group_resource}{'/' + namespace if namespace else ''}"

    async def run(self) -> None:
        """List and watch until cancelled; every failure ends in backoff and a relist."""
        while True:
            try:
                await self.list_and_watch()
            except asyncio.CancelledError:
                raise
            except StatusError as err:
                level = logging.INFO if err.code == 410 else logging.WARNING
                log.log(level, "reflector %s: %s (%s); relisting", self.name, err.message, err.reason)
            except (TransportError, ShortWatch) as err:
                log.warning("reflector %s: watch broken: %s; relisting", self.name, err)
            except Exception:
                log.exception("reflector %s: unexpected failure; relisting", self.name)
            await self.clock.sleep(self.backoff.next())

    async def list_and_watch(self) -> None:
        await self.list()
        while True:
            await self.watch()

    async def list(self) -> None:
        result = await self.client.list_all(
            self.info,
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            limit=self.page_size,
        )
        items: list[Obj] = result.get("items") or []
        for item in items:
            # A List leaves kind and apiVersion off its items; handlers that log or
            # dispatch on kind should not need to know the object came from a list.
            item.setdefault("kind", self.info.kind)
            item.setdefault("apiVersion", self.info.api_version)
        self.sink.on_replace(items)
        self.last_sync_resource_version = str((result.get("metadata") or {}).get("resourceVersion") or "")
        self.lists += 1

    async def watch(self) -> None:
        """One watch from the last revision until the server ends it (returns) or it fails (raises)."""
        timeout = int(self.min_watch_timeout * (1.0 + random.random()))
        # Real time, not the injected clock: this guards against a real server's behaviour.
        started = time.monotonic()
        received = 0
        async with self.client.watch(
            self.info,
            namespace=self.namespace,
            resource_version=self.last_sync_resource_version,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            timeout_seconds=max(timeout, 1),
            allow_bookmarks=True,
        ) as events:
            async for event in events:
                received += 1
                if event.type in (ADDED, MODIFIED, DELETED):
                    self.sink.on_watch_event(event)
                elif event.type != BOOKMARK:
                    raise InternalError.of(f"unexpected watch event type {event.type!r}")
                rv = meta.resource_version(event.object)
                if rv:
                    self.last_sync_resource_version = rv
        if received == 0 and time.monotonic() - started < SHORT_WATCH:
            raise ShortWatch(f"the server closed the watch of {self.name} at once, with no events")
