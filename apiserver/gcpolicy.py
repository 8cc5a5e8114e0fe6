"""How the API server keeps Python's full garbage collections from stalling it.

CPython's cycle collector stops the event loop while it runs, and a full (oldest
generation) collection walks every tracked object. A server with a thousand watch
connections and a busy watch cache holds hundreds of thousands of them, and a full
collection then takes ~90 ms (measured in bench/watch_http.py); under load it runs
every few seconds, and each stall lands on every request and watch event in flight.

So: what exists once the server has started is frozen (``gc.freeze``: moved to a
permanent generation no collection walks), and so is whatever survives each later
collection of the middle generation — so an object is walked at most twice, once
young and once in the middle generation, and the oldest generation stays nearly
empty. Freezing only after full collections (as at first) still let a full one walk
everything that had survived since the last: ~30 ms pauses every few seconds under a
create load, and a third of the collector's CPU (bench: in-process pod creates at
concurrency 32, the collector's own CPU time: 37–47 → 24–28 µs per create, longest
pause 28–30 → 3–4 ms). What a thaw found to reclaim was nothing, in runs with creates,
404s and watches coming and going, freezing after every collection or after middle ones. Frozen objects that
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
        if phase == "stop" and info["generation"] >= 1:
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
