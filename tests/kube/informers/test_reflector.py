"""The reflector's recovery paths, driven by a scripted server: 410, dropped and short watches,
clean ends, failing lists. The real server cannot be made to do these on cue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kube.client import Backoff
from kube.informers import DeletedFinalStateUnknown, SharedInformer
from kube.informers.reflector import MIN_WATCH_TIMEOUT
from kube.resources import default_registry
from tests.kube.fakes import (
    WAIT,
    FakeServer,
    InstantClock,
    Recorder,
    Stream,
    event_line,
    json_response,
    status,
)

CONFIGMAPS = default_registry().lookup("configmaps")[0]


def cm(name: str, rv: int) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": str(rv)}, "data": {}}


def listing(rv: int, *items: dict[str, Any]) -> httpx.Response:
    return json_response(
        200,
        {
            "kind": "ConfigMapList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(rv)},
            "items": list(items),
        },
    )


def watch(*lines: bytes, error: Exception | None = None, hold: bool = False) -> httpx.Response:
    stream = Stream(list(lines), error=error, hold=asyncio.Event() if hold else None)
    return httpx.Response(200, stream=stream, headers={"content-type": "application/json"})


def held() -> httpx.Response:
    return watch(hold=True)


class Harness:
    def __init__(self, *script: Any, backoff: Backoff | None = None) -> None:
        self.server = FakeServer(*script)
        self.clock = InstantClock()
        self.client = self.server.client()
        self.informer = SharedInformer(
            self.client,
            CONFIGMAPS,
            namespace="ns",
            page_size=50,
            clock=self.clock,
            backoff=backoff or Backoff(initial=0.5, cap=4, clock=self.clock),
        )
        self.rec = Recorder()
        self.informer.add_event_handler(**self.rec.handlers())

    def requests(self) -> list[tuple[str, dict[str, str]]]:
        return [
            ("watch" if r.url.params.get("watch") else "list", dict(r.url.params))
            for r in self.server.requests
        ]

    async def until_script_done(self) -> None:
        """The reflector works in sequence: once it asks for the last scripted answer (a
        held watch), it has handled every earlier one."""
        async with asyncio.timeout(WAIT):
            await self.server.drained.wait()


@pytest.fixture
async def harnesses() -> AsyncIterator[list[Harness]]:
    made: list[Harness] = []
    yield made
    for h in made:
        await h.informer.stop()
        await h.client.close()


async def run(harnesses: list[Harness], *script: Any, **kw: Any) -> Harness:
    h = Harness(*script, **kw)
    harnesses.append(h)
    h.informer.start()
    await h.until_script_done()
    return h


async def test_lists_paged_then_watches_from_the_list_revision_with_bookmarks(
    harnesses: list[Harness],
) -> None:
    h = await run(harnesses, listing(5, cm("a", 3)), held())
    (kind1, list_params), (kind2, watch_params) = h.requests()
    assert (kind1, list_params) == ("list", {"limit": "50"})
    assert kind2 == "watch"
    assert watch_params["resourceVersion"] == "5"
    assert watch_params["allowWatchBookmarks"] == "true"
    assert MIN_WATCH_TIMEOUT <= int(watch_params["timeoutSeconds"]) <= 2 * MIN_WATCH_TIMEOUT
    assert h.informer.has_synced()


async def test_410_expired_relists_and_tombstones_objects_gone_meanwhile(harnesses: list[Harness]) -> None:
    h = await run(
        harnesses,
        listing(5, cm("a", 3), cm("b", 4)),
        watch(event_line("ERROR", status(410, "Expired", "too old resource version: 5 (7)"))),
        listing(9, cm("a", 8), cm("c", 9)),
        held(),
    )
    assert [k for k, _ in h.requests()] == ["list", "watch", "list", "watch"]
    assert h.requests()[3][1]["resourceVersion"] == "9"
    assert h.informer.reflector.lists == 2
    await h.rec.wait_for(lambda: len(h.rec.events) == 5)
    assert sorted(h.rec.names("add")) == ["a", "b", "c"]
    assert h.rec.names("update") == ["a"]
    (gone,) = h.rec.of("delete")
    assert isinstance(gone, DeletedFinalStateUnknown) and gone.key == "ns/b"
    assert gone.obj["metadata"]["resourceVersion"] == "4"  # the last state we knew
    assert sorted(h.informer.store.list_keys()) == ["ns/a", "ns/c"]
    assert len(h.clock.sleeps) == 1  # one backoff before the relist


async def test_a_dropped_watch_relists_after_backoff(harnesses: list[Harness]) -> None:
    h = await run(
        harnesses,
        listing(5, cm("a", 3)),
        watch(event_line("MODIFIED", cm("a", 6)), error=httpx.ReadError("reset")),
        listing(7, cm("a", 7)),
        held(),
    )
    assert [k for k, _ in h.requests()] == ["list", "watch", "list", "watch"]
    assert h.requests()[3][1]["resourceVersion"] == "7"
    assert h.clock.sleeps == [0.5]


async def test_a_clean_end_resumes_from_the_last_revision_without_relisting(harnesses: list[Harness]) -> None:
    bookmark = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": "12"}}
    h = await run(
        harnesses,
        listing(5),
        watch(event_line("ADDED", cm("n", 6)), event_line("BOOKMARK", bookmark)),
        held(),
    )
    assert [k for k, _ in h.requests()] == ["list", "watch", "watch"]
    assert h.requests()[2][1]["resourceVersion"] == "12"  # advanced by the bookmark
    assert h.informer.reflector.lists == 1
    assert h.clock.sleeps == []  # nothing failed: no backoff
    await h.rec.wait_for(lambda: h.rec.names("add") == ["n"])
    assert h.informer.last_sync_resource_version() == "12"


async def test_a_watch_closed_at_once_with_nothing_is_a_failure(harnesses: list[Harness]) -> None:
    h = await run(harnesses, listing(5), watch(), listing(5), held())
    assert [k for k, _ in h.requests()] == ["list", "watch", "list", "watch"]
    assert h.clock.sleeps == [0.5]


async def test_failing_lists_back_off_exponentially(harnesses: list[Harness]) -> None:
    down = json_response(500, status(500, "InternalError", "etcd is down"))
    h = await run(harnesses, down, down, down, down, listing(5, cm("a", 1)), held())
    assert h.clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert h.informer.has_synced()


async def test_an_unknown_event_type_relists(harnesses: list[Harness]) -> None:
    h = await run(harnesses, listing(5), watch(event_line("WEIRD", cm("a", 6))), listing(6), held())
    assert [k for k, _ in h.requests()] == ["list", "watch", "list", "watch"]
    assert h.rec.of("add") == []


async def test_watch_events_for_known_and_unknown_objects(harnesses: list[Harness]) -> None:
    h = await run(
        harnesses,
        listing(5, cm("a", 3)),
        watch(
            event_line("ADDED", cm("a", 6)),  # already known: an update
            event_line("MODIFIED", cm("z", 7)),  # never seen: an add
            event_line("DELETED", cm("ghost", 8)),  # never seen: still a delete
            hold=True,
        ),
    )
    await h.rec.wait_for(lambda: len(h.rec.events) == 4)
    assert [(k, n["metadata"]["name"]) for k, n, _ in h.rec.events] == [
        ("add", "a"),
        ("update", "a"),
        ("add", "z"),
        ("delete", "ghost"),
    ]
    assert h.informer.last_sync_resource_version() == "8"
