"""What the dashboard's buttons do, through the writer's own TaskStore (and scheduler)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from tradestore import TaskStatus, TaskStore
from tradestore.errors import NotFoundError

__all__ = ["ACTIONS", "Action", "ActionRefused", "apply_action", "new_token", "token_matches"]

Action = Literal["run", "pause", "resume", "retry"]
ACTIONS: tuple[Action, ...] = ("run", "pause", "resume", "retry")


class ActionRefused(Exception):
    """The action does not fit the task's state now (HTTP 409)."""


def new_token() -> str:
    """A fresh random token for the dashboard's actions."""
    return secrets.token_urlsafe(24)


def token_matches(expected: str | None, given: str | None) -> bool:
    """Whether ``given`` is the token (constant time); never with no token set."""
    if not expected or not given:
        return False
    return secrets.compare_digest(expected.encode(), given.encode())


async def apply_action(
    tasks: TaskStore, task_id: str, action: Action, now: datetime,
    wake: Callable[[], None] | None,
) -> dict[str, Any]:
    """Change the task for ``action``; return its new status. Wakes the scheduler.

    - run: due now (PENDING, ``next_execution`` now); a FAILED task starts over
      with no retries used. Refused while it runs or is paused.
    - pause / resume: ``is_active`` off / on (a running run finishes).
    - retry: a FAILED task back to PENDING, due now, retries reset.

    :raises NotFoundError: no such task.
    :raises ActionRefused: the task's state does not allow it.
    """
    task = await tasks.get(task_id)
    if task is None:
        raise NotFoundError(f"no task {task_id!r}", key=task_id)
    changes: dict[str, Any]
    if action == "pause":
        changes = {"is_active": False}
    elif action == "resume":
        changes = {"is_active": True}
    elif action == "run":
        if task.status == TaskStatus.RUNNING:
            raise ActionRefused(f"task {task_id} is running now")
        if not task.is_active:
            raise ActionRefused(f"task {task_id} is paused: resume it first")
        changes = {"status": TaskStatus.PENDING, "next_execution": now}
        if task.status in (TaskStatus.FAILED, TaskStatus.SUCCEEDED):
            changes["retry_count"] = 0
    else:
        if task.status != TaskStatus.FAILED:
            raise ActionRefused(f"task {task_id} has not failed (it is {task.status})")
        changes = {"status": TaskStatus.PENDING, "next_execution": now, "retry_count": 0}
    updated = await tasks.update(task_id, **changes)
    if wake is not None and action != "pause":
        wake()
    return {"task_id": task_id, "action": action, "status": str(updated.status),
            "active": updated.is_active}
