"""The event recorder's workers: every buffered event is sent, one idle worker per event."""

from __future__ import annotations

import asyncio
from typing import Any

from scheduler.recorder import EventRecorder


class _Client:
    def __init__(self) -> None:
        self.created: list[str] = []
        self.gate = asyncio.Event()

    async def create(self, _info: Any, body: dict[str, Any], *, namespace: str) -> dict[str, Any]:
        await self.gate.wait()
        self.created.append(body["involvedObject"]["name"])
        return body


def _pod(i: int) -> dict[str, Any]:
    return {"metadata": {"name": f"p{i}", "namespace": "default", "uid": f"u{i}"}}


async def test_each_event_wakes_one_worker_and_all_are_sent() -> None:
    client = _Client()
    recorder = EventRecorder(client, component="default-scheduler", workers=4)  # type: ignore[arg-type]
    recorder.start()
    await asyncio.sleep(0)
    assert len(recorder._idle_workers) == 4
    recorder.event(_pod(0), reason="Scheduled", message="m0")
    assert len(recorder._idle_workers) == 3  # one woken, three still asleep
    for i in range(1, 10):  # more events than workers: the busy ones take the rest
        recorder.event(_pod(i), reason="Scheduled", message=f"m{i}")
    client.gate.set()
    await recorder.stop(flush=5.0)
    assert sorted(client.created) == sorted(f"p{i}" for i in range(10))
    assert recorder.sent == 10 and recorder.pending() == 0


async def test_restart_after_stop_skips_cancelled_workers() -> None:
    client = _Client()
    client.gate.set()
    recorder = EventRecorder(client, component="default-scheduler", workers=2)  # type: ignore[arg-type]
    recorder.start()
    await asyncio.sleep(0)
    await recorder.stop()
    recorder.start()
    await asyncio.sleep(0)
    recorder.event(_pod(1), reason="Scheduled", message="again")
    await recorder.stop(flush=5.0)
    assert client.created == ["p1"]
