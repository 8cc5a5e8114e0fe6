"""Loops the API server runs beside request handling (quota status, default service
accounts, aggregated cluster roles).

Each is one asyncio task with the same life: started once the watch caches are up,
cancelled and awaited at shutdown so no loop outlives the server. Subclasses give the
task a ``task_name`` (it shows in asyncio debugging) and a ``_run`` coroutine.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import ClassVar


class BackgroundLoop:
    task_name: ClassVar[str] = "background"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        raise NotImplementedError
