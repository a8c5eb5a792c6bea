"""Event-loop stall: a ticker coroutine sleeping 1 ms records how late it wakes up."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType

__all__ = ["StallMonitor"]

_TICK_S = 0.001


class StallMonitor:
    """Measure the largest event-loop stall while the ``async with`` body runs.

    ``max_stall_s`` is the largest lateness of a 1 ms sleep: how long the loop
    could not run a ready coroutine.
    """

    def __init__(self) -> None:
        self.max_stall_s = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None
        self._running = False

    async def _tick(self) -> None:
        while self._running:
            start = time.perf_counter()
            await asyncio.sleep(_TICK_S)
            late = time.perf_counter() - start - _TICK_S
            self.ticks += 1
            self.max_stall_s = max(self.max_stall_s, late)

    async def __aenter__(self) -> StallMonitor:
        self._running = True
        self._task = asyncio.get_running_loop().create_task(self._tick())
        await asyncio.sleep(0)  # let the ticker take its first timestamp
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._running = False
        if self._task is not None:
            await self._task  # ends after its current tick, recording it
            self._task = None
