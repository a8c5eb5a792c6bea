"""What the scheduler reports: task events for progress displays, and run counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["EventKind", "RunStats", "TaskEvent", "UnknownTaskTypeError"]

EventKind = Literal["recovered", "started", "succeeded", "retry", "failed", "cancelled"]


class UnknownTaskTypeError(LookupError):
    """No handler is registered for a task's type."""

    def __init__(self, task_type: str) -> None:
        super().__init__(f"no handler registered for task type {task_type!r}")
        self.task_type = task_type


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One thing that happened to a task, for progress displays and logs."""

    kind: EventKind
    task_id: str
    task_type: str
    at: datetime
    error: str | None = None
    next_run: datetime | None = None
    duration: float | None = None
    result: dict[str, Any] | None = None


@dataclass(slots=True)
class RunStats:
    """Counts of what a scheduler did since it was created."""

    started: int = 0
    succeeded: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
