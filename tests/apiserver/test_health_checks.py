"""The health checks' storage probe: a store that does not answer makes /livez and
/readyz fail within the timeout instead of hanging the probe."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apiserver import health
from apiserver.health import Health


class HangingStorage:
    def __init__(self) -> None:
        self.cancelled = False

    async def current_revision(self) -> int:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return 0


class AnsweringStorage:
    async def current_revision(self) -> int:
        return 7


def checks(storage: Any) -> Health:
    return Health(storage=storage, caches_ready=lambda: True, shutting_down=lambda: False)


async def test_a_storage_that_does_not_answer_fails_the_probe_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "STORAGE_TIMEOUT", 0.05)
    storage = HangingStorage()
    code, text = await asyncio.wait_for(checks(storage).run("/readyz", verbose=True), 5)
    assert code == 500
    assert "[-]etcd failed: reason withheld" in text and "[+]ping ok" in text
    assert storage.cancelled  # the storage call does not linger after the probe


async def test_a_storage_that_answers_passes() -> None:
    assert await checks(AnsweringStorage()).run("/livez") == (200, "ok")
    code, text = await checks(AnsweringStorage()).run("/readyz", only="etcd")
    assert (code, text) == (200, "ok")
