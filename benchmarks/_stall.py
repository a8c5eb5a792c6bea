"""Event-loop stall: a ticker coroutine sleeping 1 ms records how late it wakes up.

The monitor also records the longest pass of CPython's cyclic garbage collector
in the same window (``max_gc_s``): a full pass visits every tracked object of
the process, the interpreter's own (its modules, functions and classes) among
them, and holds the GIL meanwhile, so it stalls the loop whatever the store;
the report shows it beside the stall it may explain.

By default the monitor first collects and then freezes the heap
(``gc.freeze()``), as the README tells a bot to do once after start-up and as
``tradestore run`` does: what the case set up (the interpreter's modules, the
store's cache) is then left out of the collector's passes in the window, which
visit only what the window allocates. ``freeze=False`` measures an unfrozen
process instead (``python -m benchmarks --gc-unfrozen``).
"""

from __future__ import annotations

import asyncio
import gc
import time
from types import TracebackType
from typing import Any

__all__ = ["StallMonitor"]

_TICK_S = 0.001


class StallMonitor:
    """Measure the largest event-loop stall while the ``async with`` body runs.

    ``max_stall_s`` is the largest lateness of a 1 ms sleep: how long the loop
    could not run a ready coroutine.
    """

    def __init__(self, *, freeze: bool = True) -> None:
        self.freeze = freeze
        self.max_stall_s = 0.0
        self.max_gc_s = 0.0
        self.ticks = 0
        self._gc_began = 0.0
        self._task: asyncio.Task[None] | None = None
        self._running = False

    async def _tick(self) -> None:
        while self._running:
            start = time.perf_counter()
            await asyncio.sleep(_TICK_S)
            late = time.perf_counter() - start - _TICK_S
            self.ticks += 1
            self.max_stall_s = max(self.max_stall_s, late)

    def metrics(self) -> dict[str, float]:
        """``stall_ms`` and ``gc_ms``, the figures every workload reports from its window."""
        return {"stall_ms": self.max_stall_s * 1000.0, "gc_ms": self.max_gc_s * 1000.0}

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.max_gc_s = max(self.max_gc_s, time.perf_counter() - self._gc_began)

    async def __aenter__(self) -> StallMonitor:
        self._running = True
        if self.freeze:
            gc.collect()  # outside the window: its garbage is not frozen for good
            gc.freeze()
        gc.callbacks.append(self._on_gc)
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
        gc.callbacks.remove(self._on_gc)
        if self.freeze:
            gc.unfreeze()
