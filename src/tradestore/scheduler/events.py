"""What the scheduler reports: task events for subscribers, and run counts."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from tradestore.models import TaskRun

__all__ = ["EventBus", "EventKind", "RunStats", "Subscriber", "TaskEvent", "UnknownTaskTypeError"]

logger = logging.getLogger(__name__)

EventKind = Literal["recovered", "started", "succeeded", "retry", "failed", "cancelled", "lost"]
"""``lost``: the run's outcome could not be recorded (its lease was taken over, or the
write failed); the task is left to crash recovery."""


class UnknownTaskTypeError(LookupError):
    """No handler is registered for a task's type."""

    def __init__(self, task_type: str) -> None:
        super().__init__(f"no handler registered for task type {task_type!r}")
        self.task_type = task_type


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One thing that happened to a task, for progress displays, logs and metrics.

    Every outcome event (all kinds but ``started``) is emitted after the outcome
    is durable in the store; ``run`` is the ``TaskRun`` appended to the task's
    history (None for ``started`` and ``lost``).
    """

    kind: EventKind
    task_id: str
    task_type: str
    at: datetime
    error: str | None = None
    next_run: datetime | None = None
    duration: float | None = None
    result: dict[str, Any] | None = None
    run: TaskRun | None = None
    scheduler_id: str = ""


Subscriber: TypeAlias = "Callable[[TaskEvent], Awaitable[None] | None]"
"""A sync callable, or an async one, called with every ``TaskEvent``."""


@dataclass(slots=True)
class RunStats:
    """Counts of what a scheduler did since it was created (each counted once durable)."""

    started: int = 0
    succeeded: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    lost: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


class EventBus:
    """Delivers events to any number of subscribers, sync or async, in subscription order.

    A sync subscriber runs inline; an async one is scheduled as a task, so a
    slow subscriber never holds up the scheduler. A subscriber that raises is
    logged and kept; it never stops the scheduler or the other subscribers.
    """

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._pending: set[asyncio.Task[None]] = set()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Add ``callback``; returns a function that removes it (idempotent)."""
        if not callable(callback):
            raise TypeError(f"a subscriber must be callable, got {type(callback).__name__}")
        token: list[Subscriber] = [callback]
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if token:
                with contextlib.suppress(ValueError):
                    self._subscribers.remove(token.pop())

        return unsubscribe

    def __len__(self) -> int:
        return len(self._subscribers)

    def emit(self, event: TaskEvent) -> None:
        """Give ``event`` to every subscriber."""
        for callback in list(self._subscribers):
            try:
                result = callback(event)
            except Exception:  # a broken subscriber must not stop the scheduler
                logger.exception("an event subscriber failed on %s %s", event.kind,
                                 event.task_id)
                continue
            if inspect.isawaitable(result):
                job = asyncio.get_running_loop().create_task(_await(result))
                self._pending.add(job)
                job.add_done_callback(self._done)

    def _done(self, job: asyncio.Task[None]) -> None:
        self._pending.discard(job)
        if not job.cancelled() and job.exception() is not None:
            logger.error("an async event subscriber failed", exc_info=job.exception())

    async def drain(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for async subscribers still running; cancel the rest."""
        if not self._pending:
            return
        _, late = await asyncio.wait(set(self._pending), timeout=grace)
        for job in late:
            job.cancel()
        if late:
            logger.warning("cancelled %d async event subscriber(s) still running at stop",
                           len(late))
            await asyncio.wait(late)


async def _await(awaitable: Awaitable[None]) -> None:
    await awaitable
