"""``FakeCluster``: a controller's whole world in one object, for tests that take milliseconds.

It holds a ``FakeAPI`` (the API server and its storage, in memory), a ``FakeClock``
(time moves only when the test says so) and the controllers under test running as
tasks on the test's event loop. The shape of a test::

    async with FakeCluster() as cluster:
        await cluster.apply(crd)                       # feed objects
        client = cluster.client()
        cluster.start(MyController(client, clock=cluster.clock).run())
        await cluster.apply(widget)
        await cluster.settle()                         # run until nothing moves
        assert cluster.get("deployments", "w1")        # assert on the result
        await cluster.advance(30)                      # fire timers (requeues) and settle

``settle`` returns once the controllers are idle: no API calls and no watch events
waiting for a number of consecutive event-loop turns. A controller that never goes
idle (a hot loop re-reconciling forever) makes it raise instead of hanging the test.
A failed controller task re-raises its exception from ``settle``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol

from kube import meta as kmeta
from kube.client.clock import FakeClock
from kube.errors import NotFound
from kube.model import FieldValidation
from kube.resources import ResourceInfo

from .api import FakeAPI
from .client import FakeClient

Obj = dict[str, Any]
NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
QUIET_TURNS = 25
"""Event-loop turns without activity after which the controllers count as idle."""
MAX_TURNS = 200_000


class Sized(Protocol):
    def __len__(self) -> int: ...


class NotSettled(AssertionError):
    """The controllers kept working (or a queue kept filling) beyond any sensible test."""


class FakeCluster:
    def __init__(self, *, clock: FakeClock | None = None, namespaces: Iterable[str] = NAMESPACES,
                 garbage_collection: bool = True, start_time: datetime | None = None) -> None:
        self.clock = clock or FakeClock()
        self._epoch = (start_time or datetime(2025, 1, 1, tzinfo=UTC)) - timedelta(seconds=self.clock.now())
        self.api = FakeAPI(now=self.now, garbage_collection=garbage_collection)
        self.activity = 0
        self._tasks: list[asyncio.Task[Any]] = []
        for name in namespaces:
            self.api.create(self.info("namespaces"), {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": name}})

    # -- time ----------------------------------------------------------------------------

    def now(self) -> str:
        """Wall time as the fake's timestamps show it: it moves with ``clock``."""
        return kmeta.format_time(self._epoch + timedelta(seconds=self.clock.now()))

    # -- access --------------------------------------------------------------------------

    def client(self, *, namespace: str = "default", field_manager: str = "",
               field_validation: FieldValidation = FieldValidation.WARN) -> FakeClient:
        return FakeClient(self.api, namespace=namespace, field_manager=field_manager,
                          field_validation=field_validation, on_call=self._touch)

    def _touch(self) -> None:
        self.activity += 1

    def info(self, name: str) -> ResourceInfo:
        """A served resource by any name kubectl accepts (``deploy``, ``widgets.example.com``)."""
        found = self.api.resources.lookup(name)
        if not found:
            raise KeyError(f"no served resource is called {name!r}")
        return sorted(found, key=lambda i: (not i.preferred, i.version))[0]

    def _info(self, resource: str | ResourceInfo) -> ResourceInfo:
        return resource if isinstance(resource, ResourceInfo) else self.info(resource)

    def get(self, resource: str | ResourceInfo, name: str, namespace: str = "default") -> Obj | None:
        info = self._info(resource)
        try:
            return self.api.get(info, name=name, namespace=namespace if info.namespaced else "")
        except NotFound:
            return None

    def objects(self, resource: str | ResourceInfo, namespace: str = "") -> list[Obj]:
        info = self._info(resource)
        items: list[Obj] = self.api.list(info, namespace=namespace if info.namespaced else "")["items"]
        return items

    def events(self, *, involved: Obj | None = None, reason: str = "") -> list[Obj]:
        """Events recorded through the API, optionally about one object and of one reason."""
        found = []
        for event in self.objects("events"):
            ref = event.get("involvedObject") or event.get("regarding") or {}
            if involved is not None and ref.get("uid") != kmeta.uid(involved):
                continue
            if reason and event.get("reason") != reason:
                continue
            found.append(event)
        return found

    async def apply(self, obj: Obj, *, field_manager: str = "kube-testing") -> Obj:
        """Create ``obj``, or replace the object of that name with it (a test's fixture
        step; it goes through validation and defaulting like any write)."""
        self._touch()
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        info = self.api.resources.by_api_version_kind(api_version=api_version, kind=kind)
        if info is None:
            raise NotFound(f'no resource serves kind "{kind}" in version "{api_version}"')
        namespace = (obj.get("metadata") or {}).get("namespace") or ("default" if info.namespaced else "")
        current = self.get(info, (obj.get("metadata") or {}).get("name", ""), namespace)
        if current is None:
            return self.api.create(info, obj, namespace=namespace, field_manager=field_manager)
        replacement = {**obj, "metadata": {**obj.get("metadata", {}),
                                           "resourceVersion": current["metadata"]["resourceVersion"]}}
        updated = self.api.update(info, replacement, namespace=namespace, field_manager=field_manager)
        if "status" in obj and "status" in info.subresources:
            updated = self.api.update(info, {**updated, "status": obj["status"]}, namespace=namespace,
                                      subresource="status", field_manager=field_manager)
        return updated

    # -- running controllers ---------------------------------------------------------------

    def start(self, work: Coroutine[Any, Any, Any], *, name: str = "") -> asyncio.Task[Any]:
        """Run ``work`` (a controller's ``run()``) in the background until ``stop``."""
        task = asyncio.get_running_loop().create_task(work, name=name or None)
        self._tasks.append(task)
        return task

    def _raise_failures(self) -> None:
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                self._tasks.remove(task)
                raise task.exception()  # type: ignore[misc]

    async def settle(self, *, queues: Iterable[Sized] = ()) -> None:
        """Return once nothing moves: no API calls, no undelivered watch events and no
        queued keys (of ``queues``) for ``QUIET_TURNS`` turns of the event loop."""
        watched = list(queues)
        quiet = turns = 0
        while quiet < QUIET_TURNS:
            before = self.activity
            await asyncio.sleep(0)
            turns += 1
            self._raise_failures()
            busy = (self.activity != before or any(w.pending for w in self.api.store.watches)
                    or any(len(q) for q in watched))
            quiet = 0 if busy else quiet + 1
            if turns > MAX_TURNS:
                raise NotSettled(f"controllers still busy after {MAX_TURNS} event-loop turns: a hot loop?")

    async def advance(self, seconds: float, *, queues: Iterable[Sized] = ()) -> None:
        """Move time forward by ``seconds``, stopping at each timer on the way (a requeue,
        a backoff) to let the controllers react to it, as in real time."""
        watched = list(queues)
        await self.settle(queues=watched)
        target = self.clock.now() + seconds
        while True:
            deadline = self.clock.next_deadline()
            if deadline is None or deadline > target:
                self.clock.step(max(target - self.clock.now(), 0.0))
                break
            self.clock.step(max(deadline - self.clock.now(), 0.0))
            await self.settle(queues=watched)
        await self.settle(queues=watched)

    def end_watches(self) -> None:
        """Close every open watch, as a server does on timeout or restart (informers resume)."""
        self.api.store.end_watches()

    def compact(self) -> None:
        """Forget history: informers resuming from an old revision get 410 and relist."""
        self.api.store.compact()

    async def stop(self) -> None:
        """Cancel the controllers, end the watches, and drop the CRDs' process-wide
        registrations (their schemas for server-side apply)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.end_watches()
        for name in list(self.api.crds.served):
            self.api.crds.unserve(name)

    async def __aenter__(self) -> FakeCluster:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
