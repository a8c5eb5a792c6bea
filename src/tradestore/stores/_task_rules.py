"""The pure rules of TaskStore: which tasks are due, in which order, and checked changes.

No dependency on the file layer: every backend validates updates and orders due
tasks with these (a SQL backend writes the same order in its query).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tradestore.errors import ValidationError
from tradestore.models import BackgroundTask, TaskPriority, TaskStatus

__all__ = ["checked_changes", "due_order", "is_due"]

_FIELDS = frozenset(BackgroundTask.__struct_fields__) - {"task_id"}  # the key is fixed
_PROBE = BackgroundTask(task_id="probe", task_type="probe", priority=TaskPriority.LOW,
                        execute_at=datetime(2000, 1, 1, tzinfo=UTC))


def checked_changes(changes: Mapping[str, Any], what: str, *,
                    refused: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``changes`` validated and normalised (enums...), for an update of a stored task.

    :raises ValidationError: a field is unknown or in ``refused``, or a value is invalid.
    """
    unknown = sorted(set(changes) - _FIELDS)
    if unknown:
        raise ValidationError(f"{what}: unknown BackgroundTask field(s) {unknown}",
                              field=unknown[0])
    forbidden = sorted(set(changes) & refused)
    if forbidden:
        raise ValidationError(f"{what}: field(s) {forbidden} are written by the store itself",
                              field=forbidden[0])
    probe = _PROBE.clone()  # no field check depends on another: validate on a stand-in
    for name, value in changes.items():
        setattr(probe, name, value)
    probe.validate()
    return {name: getattr(probe, name) for name in changes}


def is_due(task: BackgroundTask, at: datetime) -> bool:
    """Whether ``task`` is due at ``at``: active, PENDING, run time at or before ``at``."""
    return task.is_active and task.status == TaskStatus.PENDING and task.run_at <= at


def due_order(task: BackgroundTask) -> tuple[int, datetime, str]:
    """The order due tasks run in: priority (CRITICAL first), run time, task id."""
    return (task.priority.rank, task.run_at, task.task_id)
