"""What a task becomes after each outcome: pure rules, persisted by the scheduler.

Every way a run can end (success, failure, retry, cancellation at shutdown, a
crash found at recovery) is described by one ``TaskOutcome``: the field changes
to write, the ``TaskRun`` to append to the task's history, the next run time, and
the event kind. The scheduler persists an outcome before it counts, logs or
emits it. These functions read only their arguments, so every backend shares them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tradestore.models import BackgroundTask, RunOutcome, TaskRun, TaskStatus
from tradestore.scheduler.events import EventKind
from tradestore.scheduler.timing import next_recurring_run, retry_delay

__all__ = [
    "TaskOutcome",
    "after_crash",
    "after_failure",
    "after_success",
    "cancelled",
    "crashed",
    "failed",
    "planned_time",
    "succeeded",
]

_UNFINISHED = frozenset({RunOutcome.RETRY, RunOutcome.CANCELLED, RunOutcome.CRASHED})
_KIND: dict[RunOutcome, EventKind] = {
    RunOutcome.SUCCEEDED: "succeeded",
    RunOutcome.FAILED: "failed",
    RunOutcome.RETRY: "retry",
    RunOutcome.CANCELLED: "cancelled",
    RunOutcome.CRASHED: "recovered",
}


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """How one run ended, and what the task becomes because of it.

    ``changes`` are the task's new field values (without ``history``: the
    store appends ``run`` to it in the same write); ``next_run`` is when the
    task runs again (None: not by itself); ``result`` is what a successful
    handler returned.
    """

    run: TaskRun
    changes: dict[str, Any]
    next_run: datetime | None = None
    result: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def outcome(self) -> RunOutcome:
        """How the run ended."""
        return self.run.outcome

    @property
    def kind(self) -> EventKind:
        """The event kind the scheduler reports it as (a crash is ``"recovered"``)."""
        return _KIND[self.run.outcome]

    @property
    def error(self) -> str | None:
        """The run's error message, if it did not succeed."""
        return self.run.error


def planned_time(task: BackgroundTask) -> datetime:
    """The schedule slot a run of ``task`` starting now is for.

    The task's run time, except for a retry (``retry_count > 0`` after a run
    that did not finish its slot: retried, cancelled or crashed), which keeps
    the slot of the run it repeats. With the task id it is the run's
    idempotency key, the same for every attempt of one slot.
    """
    if task.retry_count and task.history:
        last = task.history[-1]
        if last.outcome in _UNFINISHED and last.planned_at is not None:
            return last.planned_at
    return task.run_at


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


def _run(
    task: BackgroundTask, outcome: RunOutcome, started_at: datetime, finished_at: datetime,
    duration: float, error: str | None, host: str, scheduler_id: str,
    planned_at: datetime | None,
) -> TaskRun:
    return TaskRun(
        started_at=started_at, finished_at=finished_at, outcome=outcome,
        duration_seconds=max(0.0, duration), error=error, host=host,
        scheduler_id=scheduler_id,
        planned_at=planned_at if planned_at is not None else planned_time(task),
    )


def succeeded(
    task: BackgroundTask, result: dict[str, Any] | None, *, started_at: datetime,
    now: datetime, duration: float, host: str = "", scheduler_id: str = "",
    planned_at: datetime | None = None,
) -> TaskOutcome:
    """The outcome of a run whose handler returned ``result``."""
    changes, next_run = after_success(task, result, now)
    run = _run(task, RunOutcome.SUCCEEDED, started_at, now, duration, None, host,
               scheduler_id, planned_at)
    return TaskOutcome(run, changes, next_run, result)


def failed(
    task: BackgroundTask, error: str, *, started_at: datetime, now: datetime,
    duration: float, final: bool, backoff_base: float, backoff_max: float, host: str = "",
    scheduler_id: str = "", planned_at: datetime | None = None,
) -> TaskOutcome:
    """The outcome of a run that raised: a retry after a backoff, or FAILED (``final``: at once)."""
    changes, next_run, kind = after_failure(task, error, now, final=final,
                                            backoff_base=backoff_base, backoff_max=backoff_max)
    outcome = RunOutcome.RETRY if kind == "retry" else RunOutcome.FAILED
    run = _run(task, outcome, started_at, now, duration, error, host, scheduler_id, planned_at)
    return TaskOutcome(run, changes, next_run)


def cancelled(
    task: BackgroundTask, error: str, *, started_at: datetime, now: datetime,
    duration: float, host: str = "", scheduler_id: str = "",
    planned_at: datetime | None = None,
) -> TaskOutcome:
    """The outcome of a run cancelled at shutdown: PENDING again, not counted as a retry."""
    changes: dict[str, Any] = {"status": TaskStatus.PENDING, "last_error": error}
    run = _run(task, RunOutcome.CANCELLED, started_at, now, duration, error, host,
               scheduler_id, planned_at)
    return TaskOutcome(run, changes, task.run_at)


def crashed(
    task: BackgroundTask, error: str, *, now: datetime, host: str = "", scheduler_id: str = "",
) -> TaskOutcome:
    """The outcome of a run found RUNNING with no live scheduler: a retry (FAILED if none left).

    The run's end is unknown: ``finished_at`` is when the crash was found, so
    its ``duration_seconds`` is an upper bound. ``scheduler_id`` is the one
    that held it, when known.
    """
    changes = after_crash(task, error)
    started = task.last_executed if task.last_executed is not None else now
    started = min(started, now)
    run = _run(task, RunOutcome.CRASHED, started, now, (now - started).total_seconds(), error,
               host, scheduler_id, None)
    next_run = task.run_at if changes["status"] == TaskStatus.PENDING else None
    return TaskOutcome(run, changes, next_run)
