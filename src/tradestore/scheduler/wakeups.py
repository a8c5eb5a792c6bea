"""Waking the scheduler when its store says tasks are due, instead of waiting for a poll.

A task store may offer ``wakeups()``: an endless async iterator of delays in
seconds until some task is due (0.0 = now), heard from other processes and
hosts (PostgreSQL: LISTEN/NOTIFY, ``tradestore.postgres._listen``). The file
backend has none; its scheduler is the only writer and wakes itself. The
relay calls ``wake()`` at once for a delay of 0, or sets one timer for the
soonest future delay; the poll loop stays the fallback either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Protocol, runtime_checkable

__all__ = ["TaskWakeups", "WakeupRelay"]

logger = logging.getLogger(__name__)


@runtime_checkable
class TaskWakeups(Protocol):
    """A task store that can tell when tasks become due (optional)."""

    def wakeups(self) -> AsyncIterator[float]:
        """Delays in seconds until tasks are due (0.0 = now), forever."""
        ...


class WakeupRelay:
    """Feeds a store's ``wakeups()`` into a scheduler's ``wake``."""

    def __init__(self, store: object, wake: Callable[[], None], *, name: str) -> None:
        self._store = store if isinstance(store, TaskWakeups) else None
        self._wake = wake
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def available(self) -> bool:
        """Whether the store offers wake-ups at all."""
        return self._store is not None

    def start(self) -> None:
        """Listen in the background until ``stop``."""
        if self._store is not None and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(
                self._relay(self._store.wakeups()), name=self._name)

    async def stop(self) -> None:
        """Stop listening (closes the store's iterator and its connection)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _relay(self, source: AsyncIterator[float]) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for delay in source:
                if delay <= 0:
                    self._wake()
                    continue
                at = loop.time() + delay
                if self._timer is None or self._timer.when() > at or self._timer.cancelled():
                    if self._timer is not None:
                        self._timer.cancel()
                    self._timer = loop.call_at(at, self._fire)
        except Exception:  # a broken listener must not stop the scheduler: polling goes on
            logger.exception("wake-ups stopped; the scheduler keeps polling")
        finally:
            closer = getattr(source, "aclose", None)
            if closer is not None:
                await closer()

    def _fire(self) -> None:
        self._timer = None
        self._wake()
