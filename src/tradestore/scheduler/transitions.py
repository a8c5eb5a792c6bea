"""What a task's fields become after each outcome: pure rules, persisted by the scheduler."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from tradestore.models import BackgroundTask, TaskStatus
from tradestore.scheduler.timing import next_recurring_run, retry_delay

__all__ = ["after_crash", "after_failure", "after_success"]


def after_success(
    task: BackgroundTask, result: dict[str, Any] | None, now: datetime
) -> tuple[dict[str, Any], datetime | None]:
    """The changes after a successful run, and the next run (None for a one-shot task)."""
    changes: dict[str, Any] = {"retry_count": 0, "last_error": None}
    if result is not None:
        changes["metadata"] = {**task.metadata, "last_result": result}
    if task.interval_seconds is None:
        changes["status"] = TaskStatus.SUCCEEDED
        return changes, None
    # After a retry, next_execution holds a backoff time, not a slot of the
    # schedule: go back to the grid of execute_at so failures cause no drift.
    planned = task.execute_at if task.retry_count else task.next_execution or task.execute_at
    next_run = next_recurring_run(planned, float(task.interval_seconds), now)
    changes.update(status=TaskStatus.PENDING, next_execution=next_run)
    return changes, next_run


def after_failure(
    task: BackgroundTask, message: str, now: datetime, *, final: bool, backoff_base: float,
    backoff_max: float,
) -> tuple[dict[str, Any], datetime | None, Literal["failed", "retry"]]:
    """The changes after a failed run: a retry with exponential backoff, or FAILED."""
    retries = task.retry_count + 1
    changes: dict[str, Any] = {"retry_count": retries, "last_error": message}
    if final or retries > task.max_retries:
        changes["status"] = TaskStatus.FAILED
        return changes, None, "failed"
    next_run = now + retry_delay(retries, base=backoff_base, maximum=backoff_max)
    changes.update(status=TaskStatus.PENDING, next_execution=next_run)
    return changes, next_run, "retry"


def after_crash(task: BackgroundTask, message: str) -> dict[str, Any]:
    """The changes for a task found RUNNING at start-up: back to PENDING as a retry."""
    retries = task.retry_count + 1
    status = TaskStatus.PENDING if retries <= task.max_retries else TaskStatus.FAILED
    return {"status": status, "retry_count": retries, "last_error": message}
