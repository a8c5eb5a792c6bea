"""The pure rules of TaskStore that both backends share: what ``update`` may change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tradestore.errors import ValidationError
from tradestore.models import BackgroundTask, TaskPriority

__all__ = ["FIELDS", "check_changes"]

FIELDS = frozenset(BackgroundTask.__struct_fields__) - {"task_id"}  # the key is fixed
_PROBE = BackgroundTask(task_id="probe", task_type="probe", priority=TaskPriority.LOW,
                        execute_at=datetime(2000, 1, 1, tzinfo=UTC))


def check_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The validated, normalised values of ``update(**changes)`` (enums as members...).

    :raises ValidationError: a field name is unknown or a value is invalid.
    """
    unknown = sorted(set(changes) - FIELDS)
    if unknown:
        raise ValidationError(f"update: unknown BackgroundTask field(s) {unknown}",
                              field=unknown[0])
    probe = _PROBE.clone()  # no field check depends on another: validate on a stand-in
    for name, value in changes.items():
        setattr(probe, name, value)
    probe.validate()
    return {name: getattr(probe.clone(), name) for name in changes}
