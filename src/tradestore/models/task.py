"""Background tasks run by the scheduler."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Self, TypeVar

import msgspec

from tradestore.errors import ValidationError
from tradestore.models._base import Model
from tradestore.models._checks import (
    ensure_aware,
    ensure_bool,
    ensure_finite,
    ensure_identifier,
    ensure_non_negative_int,
    ensure_optional_aware,
    ensure_task_id,
    ensure_text,
)
from tradestore.models._copies import copy_json
from tradestore.models._json_checks import ensure_json_object
from tradestore.models.run import TaskRun, copy_history, ensure_history

__all__ = ["BackgroundTask", "TaskPriority", "TaskStatus", "TaskType", "count_statuses",
           "ensure_status"]


class TaskType(StrEnum):
    """The well-known task types; ``BackgroundTask.task_type`` accepts other identifiers too."""

    MARKET_MONITORING = "market_monitoring"
    EARNINGS_CHECK = "earnings_check"
    EARNINGS_SCHEDULER = "earnings_scheduler"
    STOP_LOSS_MONITOR = "stop_loss_monitor"
    NEWS_MONITORING = "news_monitoring"
    NEWS_DAILY = "news_daily"
    FUNDAMENTAL_MONITORING = "fundamental_monitoring"
    RECOMMENDATION_GENERATION = "recommendation_generation"
    HEALTH_CHECK = "health_check"
    PORTFOLIO_SCAN = "portfolio_scan"
    MARKET_SCREENING = "market_screening"
    AI_PLANNING = "ai_planning"
    EARNINGS_FUNDAMENTALS = "earnings_fundamentals"
    MARKET_NEWS_ANALYSIS = "market_news_analysis"
    DEEP_FUNDAMENTAL_ANALYSIS = "deep_fundamental_analysis"


_KNOWN_TYPES: dict[str, str] = {member.value: member for member in TaskType}


class TaskPriority(StrEnum):
    """How urgent a task is; ``rank`` orders them, CRITICAL (0) first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for CRITICAL up to 3 for LOW: sort ascending to run the most urgent first."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {priority: index for index, priority in enumerate(TaskPriority)}


class TaskStatus(StrEnum):
    """Where a task is in its life cycle."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


_E = TypeVar("_E", bound=StrEnum)


def _coerce_enum(enum: type[_E], value: object, field: str) -> _E:
    """Return ``value`` as a member of ``enum`` (members and their str values accepted)."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    choices = ", ".join(repr(member.value) for member in enum)
    raise ValidationError(f"{field}: expected one of {choices}, got {value!r:.80}", field=field)


def ensure_status(value: object, field: str = "status") -> TaskStatus:
    """``value`` (a TaskStatus or its value, any case) as a TaskStatus, or ValidationError."""
    if isinstance(value, str) and not isinstance(value, TaskStatus):
        value = value.strip().lower()
    return _coerce_enum(TaskStatus, value, field)


def count_statuses(tasks: Iterable[BackgroundTask]) -> dict[TaskStatus, int]:
    """How many of ``tasks`` have each status; every status is a key (0 when none)."""
    counts = dict.fromkeys(TaskStatus, 0)
    for task in tasks:
        counts[task.status] += 1
    return counts


class BackgroundTask(Model):
    """A task the scheduler runs once at ``execute_at`` or every ``interval_seconds``.

    ``history`` holds the task's last runs (``TaskRun``), oldest first, at most
    ``MAX_TASK_HISTORY``; the scheduler appends to it in the same write that
    records each outcome.

    ``lease_owner``, ``lease_expires_at`` and ``lease_token`` belong to the
    scheduler: while a task is RUNNING they say which scheduler holds it and
    until when; ``lease_token`` grows by one at every claim, and a scheduler's
    outcome write only lands while the task still carries the token it claimed
    (a fencing token: a scheduler whose lease was taken over changes nothing).
    """

    task_id: str
    task_type: str
    priority: TaskPriority
    execute_at: datetime
    interval_seconds: float | None = None
    max_retries: int = 3
    retry_count: int = 0
    last_executed: datetime | None = None
    next_execution: datetime | None = None
    is_active: bool = True
    status: TaskStatus = TaskStatus.PENDING
    last_error: str | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    history: list[TaskRun] = msgspec.field(default_factory=list)
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    lease_token: int = 0

    def _normalize(self) -> None:
        # A well-known type is always a TaskType, before and after a reopen (decoding
        # yields a str); any other identifier stays a plain str.
        kind = self.task_type
        if type(kind) is str:
            self.task_type = _KNOWN_TYPES.get(kind, kind)

    def validate(self) -> None:
        """Check every field; raise ``ValidationError`` naming the first bad one."""
        self.task_id = ensure_task_id(self.task_id)
        self.task_type = ensure_identifier(self.task_type, "task_type")
        self._normalize()
        self.priority = _coerce_enum(TaskPriority, self.priority, "priority")
        self.execute_at = ensure_aware(self.execute_at, "execute_at")
        if self.interval_seconds is not None:
            interval = ensure_finite(self.interval_seconds, "interval_seconds")
            if interval <= 0:
                raise ValidationError(
                    f"interval_seconds: expected None or a number > 0, "
                    f"got {self.interval_seconds!r}",
                    field="interval_seconds",
                )
            self.interval_seconds = interval
        self.max_retries = ensure_non_negative_int(self.max_retries, "max_retries")
        self.retry_count = ensure_non_negative_int(self.retry_count, "retry_count")
        self.last_executed = ensure_optional_aware(self.last_executed, "last_executed")
        self.next_execution = ensure_optional_aware(self.next_execution, "next_execution")
        ensure_bool(self.is_active, "is_active")
        self.status = _coerce_enum(TaskStatus, self.status, "status")
        if self.last_error is not None:
            self.last_error = ensure_text(self.last_error, "last_error")
        ensure_json_object(self.metadata, "metadata")
        ensure_history(self.history)
        if self.lease_owner is not None:
            ensure_identifier(self.lease_owner, "lease_owner")
        self.lease_expires_at = ensure_optional_aware(self.lease_expires_at, "lease_expires_at")
        ensure_non_negative_int(self.lease_token, "lease_token")

    @property
    def run_at(self) -> datetime:
        """When the task should run next: ``next_execution``, else ``execute_at``."""
        return self.next_execution if self.next_execution is not None else self.execute_at

    def clone(self) -> Self:
        """A deep copy sharing no mutable container with this task."""
        copied = super().clone()
        if self.metadata:
            copied.metadata = copy_json(self.metadata)
        else:
            copied.metadata = {}
        copied.history = copy_history(self.history)
        return copied
