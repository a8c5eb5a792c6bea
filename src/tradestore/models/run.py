"""What the scheduler records about its work: one ``TaskRun`` per run, and heartbeats.

- ``TaskRun``: one finished (or abandoned) run of a task, kept in
  ``BackgroundTask.history``, oldest first, at most ``MAX_TASK_HISTORY``. The
  scheduler appends it in the same store write that records the outcome, so a
  task's status and its history never disagree, even after a crash.
- ``SchedulerHeartbeat``: written by a running scheduler every
  ``interval_seconds`` (see ``TaskStore.record_heartbeat``), so that a status
  page or a health check can tell a live scheduler from a dead one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from tradestore.errors import ValidationError
from tradestore.models._base import Model
from tradestore.models._validation import (
    MAX_LIST_ITEMS,
    copy_container,
    ensure_aware,
    ensure_finite,
    ensure_non_negative_int,
    ensure_optional_aware,
    ensure_text,
    validate_identifier,
    validate_task_id,
)

__all__ = [
    "MAX_HOST_CHARS",
    "MAX_TASK_HISTORY",
    "RunOutcome",
    "SchedulerHeartbeat",
    "TaskRun",
    "append_run",
    "coerce_outcome",
    "copy_history",
    "validate_history",
]

MAX_TASK_HISTORY = 20
"""How many runs ``BackgroundTask.history`` keeps (the newest; older ones are dropped)."""

MAX_HOST_CHARS = 255
"""The longest host name a run or a heartbeat may carry (a DNS name's limit)."""

STALE_AFTER_BEATS = 3
"""A heartbeat older than this many intervals is stale: its scheduler is presumed dead."""


class RunOutcome(StrEnum):
    """How one run of a task ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"  # failed, and no retry is left: the task is FAILED
    RETRY = "retry"  # failed, and will be retried after a backoff
    CANCELLED = "cancelled"  # stopped by a scheduler shutdown; runs again, not counted as a retry
    CRASHED = "crashed"  # found RUNNING at recovery (its scheduler died) or its lease was lost


def coerce_outcome(value: object, field: str = "outcome") -> RunOutcome:
    """``value`` as a ``RunOutcome`` (members and their str values accepted), or raise."""
    if isinstance(value, RunOutcome):
        return value
    if isinstance(value, str):
        try:
            return RunOutcome(value)
        except ValueError:
            pass
    choices = ", ".join(repr(member.value) for member in RunOutcome)
    raise ValidationError(f"{field}: expected one of {choices}, got {value!r:.80}", field=field)


def _check_host(value: object, field: str) -> str:
    return ensure_text(value, field, max_chars=MAX_HOST_CHARS)


def _check_scheduler_id(value: object, field: str, *, allow_empty: bool) -> str:
    if allow_empty and value == "":
        return ""
    return validate_identifier(value, field)


class TaskRun(Model):
    """One run of a task: when it started and ended, how it ended, where it ran.

    ``planned_at`` is the run time the run was started for (its slot on the
    schedule; a retry keeps the slot of the run it retries), which together with
    the task id makes the run's idempotency key.
    """

    started_at: datetime
    finished_at: datetime
    outcome: RunOutcome
    duration_seconds: float
    error: str | None = None
    host: str = ""
    scheduler_id: str = ""
    planned_at: datetime | None = None

    def validate(self) -> None:
        """Check every field; raise ``ValidationError`` naming the first bad one."""
        self.started_at = ensure_aware(self.started_at, "started_at")
        self.finished_at = ensure_aware(self.finished_at, "finished_at")
        self.outcome = coerce_outcome(self.outcome)
        duration = ensure_finite(self.duration_seconds, "duration_seconds")
        if duration < 0:
            raise ValidationError(
                f"duration_seconds: expected a number >= 0, got {self.duration_seconds!r}",
                field="duration_seconds",
            )
        self.duration_seconds = duration
        if self.error is not None:
            ensure_text(self.error, "error")
        _check_host(self.host, "host")
        _check_scheduler_id(self.scheduler_id, "scheduler_id", allow_empty=True)
        self.planned_at = ensure_optional_aware(self.planned_at, "planned_at")


def validate_history(value: object, field: str = "history") -> list[TaskRun]:
    """``value`` if it is a list of at most ``MAX_TASK_HISTORY`` valid ``TaskRun``, or raise."""
    if not isinstance(value, list):
        raise ValidationError(f"{field}: expected a list of TaskRun, got "
                              f"{type(value).__name__}", field=field)
    if len(value) > MAX_TASK_HISTORY:
        raise ValidationError(
            f"{field}: at most {MAX_TASK_HISTORY} runs are kept, got {len(value)} "
            "(use append_run to add one and drop the oldest)", field=field,
        )
    for index, run in enumerate(value):
        if not isinstance(run, TaskRun):
            raise ValidationError(f"{field}[{index}]: expected a TaskRun, got "
                                  f"{type(run).__name__}", field=field)
        try:
            run.validate()
        except ValidationError as exc:
            raise ValidationError(f"{field}[{index}].{exc.message}", field=field) from None
    return value


def copy_history(value: Any) -> Any:
    """A copy of a history list sharing no run with it (never raises, whatever ``value`` is)."""
    if type(value) is list:
        return [run.clone() if isinstance(run, TaskRun) else run for run in value]
    return copy_container(value)


def append_run(history: Iterable[TaskRun], run: TaskRun) -> list[TaskRun]:
    """``history`` plus ``run`` at the end, as a new list of the newest ``MAX_TASK_HISTORY``."""
    runs = [*history, run]
    return runs[-MAX_TASK_HISTORY:]


class SchedulerHeartbeat(Model):
    """The last sign of life of one scheduler run (one per ``scheduler_id``).

    ``running`` holds the ids of the tasks it had in flight at ``last_beat``;
    ``stopped_at`` is set when it stopped cleanly. A heartbeat is stale when
    ``now - last_beat > 3 * interval_seconds``: see ``is_alive``.
    """

    scheduler_id: str
    host: str
    pid: int
    started_at: datetime
    last_beat: datetime
    interval_seconds: float = 5.0
    running: list[str] = msgspec.field(default_factory=list)
    stopped_at: datetime | None = None

    def validate(self) -> None:
        """Check every field; raise ``ValidationError`` naming the first bad one."""
        _check_scheduler_id(self.scheduler_id, "scheduler_id", allow_empty=False)
        _check_host(self.host, "host")
        ensure_non_negative_int(self.pid, "pid")
        self.started_at = ensure_aware(self.started_at, "started_at")
        self.last_beat = ensure_aware(self.last_beat, "last_beat")
        interval = ensure_finite(self.interval_seconds, "interval_seconds")
        if interval <= 0:
            raise ValidationError(
                f"interval_seconds: expected a number > 0, got {self.interval_seconds!r}",
                field="interval_seconds",
            )
        self.interval_seconds = interval
        if not isinstance(self.running, list):
            raise ValidationError(f"running: expected a list of task ids, got "
                                  f"{type(self.running).__name__}", field="running")
        if len(self.running) > MAX_LIST_ITEMS:
            raise ValidationError(f"running: at most {MAX_LIST_ITEMS} task ids",
                                  field="running")
        for task_id in self.running:
            validate_task_id(task_id, "running")
        self.stopped_at = ensure_optional_aware(self.stopped_at, "stopped_at")

    def clone(self) -> SchedulerHeartbeat:
        """A copy sharing no mutable container with this heartbeat."""
        copied = msgspec.structs.replace(self)
        running: Any = self.running
        copied.running = list(running) if isinstance(running, list) else running
        return copied

    def age(self, now: datetime) -> timedelta:
        """How long ago the last beat was, at ``now``."""
        return now - self.last_beat

    def is_alive(self, now: datetime) -> bool:
        """Whether the scheduler looks alive at ``now``: not stopped, beat recently.

        False once it stopped cleanly (``stopped_at``), or when the last beat is
        older than ``3 * interval_seconds`` (it died, hangs, or lost its disk).

        :raises ValidationError: ``now`` is naive.
        """
        at = ensure_aware(now, "now")
        if self.stopped_at is not None:
            return False
        return (at - self.last_beat).total_seconds() <= STALE_AFTER_BEATS * self.interval_seconds
