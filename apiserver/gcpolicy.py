"""How the API server keeps Python's full garbage collections from stalling it.

CPython's cycle collector stops the event loop while it runs, and a full (oldest
generation) collection walks every tracked object. A server with a thousand watch
connections and a busy watch cache holds hundreds of thousands of them, and a full
collection then takes ~90 ms (measured in bench/watch_http.py); under load it runs
every few seconds, and each stall lands on every request and watch event in flight.

So: what exists once the server has started is frozen (``gc.freeze``: moved to a
permanent generation no collection walks), and so is whatever survives each later
full collection — the next one then walks only what is newer. Frozen objects that
later become cyclic garbage (a closed connection's transport/protocol cycle, say)
would never be reclaimed, so every ``thaw_interval`` everything is unfrozen,
collected once (one full-length pause, minutes apart instead of seconds) and frozen
again.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

THAW_INTERVAL = 300.0


class FreezeSurvivors:
    """Installed once the server has started; ``stop`` removes it."""

    def __init__(self, *, thaw_interval: float = THAW_INTERVAL) -> None:
        self._thaw_interval = thaw_interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        gc.freeze()
        gc.callbacks.append(self._after)
        self._task = asyncio.create_task(self._thaw_periodically(), name="gc thaw")

    async def stop(self) -> None:
        if self._after in gc.callbacks:
            gc.callbacks.remove(self._after)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def _after(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()

    async def _thaw_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._thaw_interval)
            self.thaw()

    def thaw(self) -> int:
        """Unfreeze, collect everything once, freeze again; returns what was collected."""
        started = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()  # the hook froze the survivors already if installed; again costs nothing
        logger.debug("gc thaw: %d collected in %.1f ms", collected, (time.perf_counter() - started) * 1e3)
        return collected
