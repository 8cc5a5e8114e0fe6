"""Leader election: against the real server with short durations, plus scripted servers for the
failures that must be injected (a hung server, a conflicting write)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from kube import meta
from kube.client import Client, FakeClock
from kube.errors import NotFound
from kube.kubeconfig import load_kubeconfig
from kube.leaderelection import LEASES, LeaderElector
from tests.kube.fakes import WAIT, BreakableTransport, FakeServer, eventually, json_response, status

SHORT = {"lease_duration": 2.0, "renew_deadline": 1.5, "retry_period": 0.2}


class Candidate:
    """One elector with its own client and transport, and a log of what happened to it."""

    def __init__(
        self, kubeconfig: Path, identity: str, lease: str, log: list[tuple[str, str, float]], **kw: Any
    ):
        config = load_kubeconfig(kubeconfig)
        self.identity = identity
        self.transport = BreakableTransport(config)
        self.client = Client(config, transport=self.transport)
        self.log = log
        self.work_cancelled = asyncio.Event()
        self.leaders_seen: list[str] = []
        self.elector = LeaderElector(
            self.client,
            lease_name=lease,
            namespace="kube-system",
            identity=identity,
            on_started_leading=self._work,
            on_stopped_leading=lambda: self._note("stopped"),
            on_new_leader=self.leaders_seen.append,
            **{**SHORT, **kw},
        )
        self.task: asyncio.Task[None] | None = None

    def _note(self, what: str) -> None:
        self.log.append((what, self.identity, time.monotonic()))

    async def _work(self) -> None:
        self._note("started")
        try:
            await asyncio.Event().wait()  # a controller's work: runs until cancelled
        except asyncio.CancelledError:
            self.work_cancelled.set()
            raise

    def start(self) -> None:
        self.task = asyncio.create_task(self.elector.run())

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.client.close()


@pytest.fixture
async def candidates(apiserver_kubeconfig: Path) -> AsyncIterator[Callable[..., Candidate]]:
    made: list[Candidate] = []

    def make(identity: str, lease: str, log: list[tuple[str, str, float]], **kw: Any) -> Candidate:
        c = Candidate(apiserver_kubeconfig, identity, lease, log, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        await c.close()


def lease_name(request: pytest.FixtureRequest) -> str:
    return "le-" + request.node.name.replace("_", "-")[-40:].strip("-")


async def test_exactly_one_leads_and_the_lease_records_it(
    candidates: Callable[..., Candidate], client: Client, request: pytest.FixtureRequest
) -> None:
    log: list[tuple[str, str, float]] = []
    name = lease_name(request)
    a, b = candidates("a", name, log), candidates("b", name, log)
    a.start()
    b.start()
    await eventually(lambda: any(what == "started" for what, _, _ in log))
    leader = a if a.elector.is_leader() else b
    follower = b if leader is a else a
    assert leader.elector.is_leader() and not follower.elector.is_leader()
    await eventually(lambda: follower.elector.leader() == leader.identity)
    assert follower.leaders_seen == [leader.identity]

    lease = await client.get(LEASES, name=name, namespace="kube-system")
    spec = lease["spec"]
    assert spec["holderIdentity"] == leader.identity
    assert spec["leaseDurationSeconds"] == 2
    assert spec["leaseTransitions"] == 0
    acquired = meta.parse_time(spec["acquireTime"])
    renewed = meta.parse_time(spec["renewTime"])
    assert spec["renewTime"].endswith("Z") and len(spec["renewTime"].split(".")[1]) == 7  # MicroTime
    # Renewals keep moving renewTime while acquireTime stays: watch for the next one.
    async with asyncio.timeout(WAIT):
        async with client.watch(
            LEASES,
            namespace="kube-system",
            field_selector=f"metadata.name={name}",
            resource_version=lease["metadata"]["resourceVersion"],
        ) as events:
            async for event in events:
                if event.type == "MODIFIED":
                    break
    later = (await client.get(LEASES, name=name, namespace="kube-system"))["spec"]
    assert meta.parse_time(later["renewTime"]) > renewed
    assert meta.parse_time(later["acquireTime"]) == acquired
    assert [what for what, _, _ in log] == ["started"]


async def test_a_partitioned_leader_stops_before_the_other_takes_over(
    candidates: Callable[..., Candidate], client: Client, request: pytest.FixtureRequest
) -> None:
    log: list[tuple[str, str, float]] = []
    name = lease_name(request)
    a, b = candidates("a", name, log), candidates("b", name, log)
    a.start()
    await eventually(a.elector.is_leader)
    b.start()
    await eventually(lambda: b.elector.leader() == "a")

    a.transport.fail_all = True  # a can no longer reach the server; b still can
    await eventually(lambda: any(what == "started" and who == "b" for what, who, _ in log))

    events = [(what, who) for what, who, _ in log]
    assert events == [("started", "a"), ("stopped", "a"), ("started", "b")]
    stopped_a = next(t for what, who, t in log if (what, who) == ("stopped", "a"))
    started_b = next(t for what, who, t in log if (what, who) == ("started", "b"))
    assert stopped_a < started_b
    assert a.work_cancelled.is_set()
    assert not a.elector.is_leader() and b.elector.is_leader()
    assert a.task is not None
    await asyncio.wait_for(a.task, 5)  # run() returns once leadership is lost

    spec = (await client.get(LEASES, name=name, namespace="kube-system"))["spec"]
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1
    assert b.leaders_seen == ["a", "b"]


async def test_release_on_cancel_hands_over_without_waiting_for_expiry(
    candidates: Callable[..., Candidate], client: Client, request: pytest.FixtureRequest
) -> None:
    log: list[tuple[str, str, float]] = []
    name = lease_name(request)
    # A long lease: b could only take over this quickly if a released it.
    slow = {"lease_duration": 60.0, "renew_deadline": 1.5, "retry_period": 0.2}
    a = candidates("a", name, log, release_on_cancel=True, **slow)
    b = candidates("b", name, log, **slow)
    a.start()
    await eventually(a.elector.is_leader)
    b.start()
    await eventually(lambda: b.elector.leader() == "a")
    assert a.task is not None
    a.task.cancel()
    await asyncio.gather(a.task, return_exceptions=True)
    released = (await client.get(LEASES, name=name, namespace="kube-system"))["spec"]
    assert released["holderIdentity"] in ("", "b")
    await eventually(b.elector.is_leader)
    assert [(w, who) for w, who, _ in log] == [("started", "a"), ("stopped", "a"), ("started", "b")]


async def test_leadership_ends_when_the_work_ends_and_errors_surface(
    apiserver_kubeconfig: Path, request: pytest.FixtureRequest
) -> None:
    stopped: list[str] = []

    async def crash() -> None:
        raise RuntimeError("controller crashed")

    async with Client.from_kubeconfig(apiserver_kubeconfig) as c:
        elector = LeaderElector(
            c,
            lease_name=lease_name(request),
            identity="x",
            on_started_leading=crash,
            on_stopped_leading=lambda: stopped.append("x"),
            release_on_cancel=True,
            **SHORT,
        )
        with pytest.raises(RuntimeError, match="controller crashed"):
            await asyncio.wait_for(elector.run(), 10)
        assert stopped == ["x"] and not elector.is_leader()
        spec = (await c.get(LEASES, name=lease_name(request), namespace="kube-system"))["spec"]
        assert spec["holderIdentity"] == ""


def test_durations_are_checked_at_construction() -> None:
    client: Any = object()
    ok = {
        "client": client,
        "lease_name": "l",
        "identity": "i",
        "on_started_leading": None,
        "on_stopped_leading": None,
    }
    with pytest.raises(ValueError, match="lease_duration"):
        LeaderElector(**ok, lease_duration=10, renew_deadline=10, retry_period=2)
    with pytest.raises(ValueError, match="renew_deadline"):
        LeaderElector(**ok, lease_duration=15, renew_deadline=2, retry_period=2)
    with pytest.raises(ValueError, match="identity"):
        LeaderElector(**{**ok, "identity": ""})


# --- injected failures ----------------------------------------------------------------------------


async def idle() -> None:
    await asyncio.Event().wait()


def lease_body(holder: str, rv: str, renew: str = "2020-01-01T00:00:00.000000Z") -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "l", "namespace": "kube-system", "resourceVersion": rv},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 15,
            "renewTime": renew,
            "leaseTransitions": 3,
        },
    }


async def test_a_conflicting_write_means_not_acquired_and_a_reread() -> None:
    server = FakeServer(
        json_response(200, lease_body("", "5")),
        json_response(409, status(409, "Conflict", 'Operation cannot be fulfilled on leases "l"')),
        json_response(200, lease_body("", "6")),
        lambda req: json_response(200, {**lease_body("me", "7"), "spec": orjson.loads(req.content)["spec"]}),
    )
    async with server.client() as c:
        elector = LeaderElector(
            c, lease_name="l", identity="me", on_started_leading=idle, on_stopped_leading=lambda: None
        )
        assert await elector.try_acquire_or_renew() is False
        assert await elector.try_acquire_or_renew() is True
    first_put, second_put = (r for r in server.requests if r.method == "PUT")
    assert b'"resourceVersion":"5"' in first_put.content and b'"resourceVersion":"6"' in second_put.content
    assert b'"leaseTransitions":4' in second_put.content  # a new holder: one more transition


async def test_a_lease_held_by_another_is_respected_until_it_stops_changing() -> None:
    clock = FakeClock()
    held = lease_body("other", "5", renew="2020-01-01T00:00:00.000000Z")
    server = FakeServer(
        json_response(200, held),
        json_response(200, held),
        json_response(200, held),
        lambda req: json_response(200, lease_body("me", "9")),
    )
    async with server.client() as c:
        elector = LeaderElector(
            c,
            lease_name="l",
            identity="me",
            on_started_leading=idle,
            on_stopped_leading=lambda: None,
            clock=clock,
        )
        # The holder's renewTime is years old, but expiry is judged by when *we* saw it change.
        assert await elector.try_acquire_or_renew() is False
        clock.step(14)
        assert await elector.try_acquire_or_renew() is False
        clock.step(1)
        assert await elector.try_acquire_or_renew() is True
    assert [r.method for r in server.requests] == ["GET", "GET", "GET", "PUT"]


async def test_a_hung_server_makes_the_leader_stop_at_its_renew_deadline() -> None:
    """A slow server, on the injected clock: renewals hang, the leader gives up on time."""
    clock = FakeClock()
    hang = asyncio.Event()
    created: dict[str, Any] = {}
    created_at: list[float] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        await hang.wait()
        raise AssertionError("unreachable")

    def create(request: httpx.Request) -> httpx.Response:
        created_at.append(clock.now())
        created.update(orjson.loads(request.content))
        created["metadata"]["resourceVersion"] = "1"
        return json_response(201, created)

    server = FakeServer(
        json_response(404, NotFound.of(resource="leases", name="l").status()), create, *([slow] * 50)
    )
    stopped_at: list[float] = []
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.Event().wait()

    async with server.client() as c:
        elector = LeaderElector(
            c,
            lease_name="l",
            identity="me",
            on_started_leading=work,
            on_stopped_leading=lambda: stopped_at.append(clock.now()),
            clock=clock,
            **SHORT,
        )
        run = asyncio.create_task(elector.run())
        await asyncio.wait_for(started.wait(), 5)
        # Event-driven fake time: let everything runnable run, then jump to the next timer.
        while True:
            for _ in range(50):
                await asyncio.sleep(0)
            deadline = clock.next_deadline()
            if run.done() or deadline is None:
                break
            clock.step(deadline - clock.now())
        await run
    assert len(stopped_at) == 1
    # The lease was written (sent no later than the server saw it) and never renewed:
    # the leader must have stopped within renew_deadline of that write.
    assert stopped_at[0] - created_at[0] <= SHORT["renew_deadline"] + 1e-9
