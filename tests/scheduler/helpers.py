"""Helpers shared by the scheduler and command-line tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tradestore import BackgroundTask, TaskPriority

__all__ = ["START", "FakeClock", "make_task"]

START = datetime(2025, 3, 3, 14, 30, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def make_task(
    task_id: str,
    task_type: str = "job",
    *,
    at: datetime = START,
    priority: TaskPriority = TaskPriority.MEDIUM,
    **fields: Any,
) -> BackgroundTask:
    """A task due at ``at``."""
    return BackgroundTask(
        task_id=task_id, task_type=task_type, priority=priority, execute_at=at, **fields
    )
