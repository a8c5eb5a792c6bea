"""TaskStore on PostgreSQL: one row per task in ``tradestore.tasks``."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tradestore.contracts import TaskStore
from tradestore.errors import NotFoundError, ValidationError
from tradestore.models import (
    BackgroundTask,
    ensure_aware,
    ensure_non_negative_int,
    validate_identifier,
    validate_task_id,
)
from tradestore.postgres._rows import RowCodec
from tradestore.postgres._store import PgStore
from tradestore.stores._task_rules import check_changes

__all__ = ["PgTaskStore"]

_log = logging.getLogger(__name__)
_TASKS = RowCodec(BackgroundTask, "tradestore.tasks")
_UPSERT = (
    f"INSERT INTO tradestore.tasks ({_TASKS.column_list}) VALUES ({_TASKS.placeholders}) "
    "ON CONFLICT (task_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _TASKS.columns if c != "task_id")
)
_SELECT = f"SELECT {_TASKS.select_list} FROM tradestore.tasks"


class PgTaskStore(PgStore, TaskStore):
    """Background tasks keyed by ``task_id``."""

    kind = "tasks"
    codecs = ((_TASKS, "task_id"),)

    async def save(self, task: BackgroundTask) -> None:
        stored = BackgroundTask.checked(task, "task", self.now())
        async with self._write("saving a task") as conn:
            await conn.execute(_UPSERT.encode(), _TASKS.dump(stored))

    async def save_many(self, tasks: Iterable[BackgroundTask]) -> None:
        if isinstance(tasks, str | bytes | BackgroundTask) or not isinstance(tasks, Iterable):
            raise ValidationError("tasks: expected an iterable of BackgroundTask", field="tasks")
        now = self.now()
        stored = {t.task_id: t for t in (BackgroundTask.checked(t, "tasks", now) for t in tasks)}
        if not stored:
            await self._ready()
            self._check_writable()
            return
        async with self._write("saving tasks") as conn, conn.cursor() as cur:
            await cur.executemany(_UPSERT.encode(), [_TASKS.dump(t) for t in stored.values()])

    async def get(self, task_id: str) -> BackgroundTask | None:
        key = validate_task_id(task_id)
        rows = await self._fetch("reading a task", f"{_SELECT} WHERE task_id = %s", (key,))
        return _TASKS.load(rows[0]) if rows else None

    async def delete(self, task_id: str) -> bool:
        key = validate_task_id(task_id)
        async with self._write("deleting a task") as conn:
            cur = await conn.execute("DELETE FROM tradestore.tasks WHERE task_id = %s", (key,))
            removed = cur.rowcount > 0
        _log.debug("delete task %s: %s", key, "removed" if removed else "absent")
        return removed

    async def update(self, task_id: str, **changes: Any) -> BackgroundTask:
        key = validate_task_id(task_id)
        values = check_changes(changes)
        async with self._write("updating a task") as conn:
            if values:
                cols, marks, params = _TASKS.dump_fields(values)
                sets = ", ".join(f"{c} = {m}" for c, m in zip(cols, marks, strict=True))
                cur = await conn.execute(
                    f"UPDATE tradestore.tasks SET {sets} WHERE task_id = %s "
                    f"RETURNING {_TASKS.select_list}".encode(), [*params, key])
            else:
                cur = await conn.execute(f"{_SELECT} WHERE task_id = %s".encode(), (key,))
            row = await cur.fetchone()
            if row is None:
                raise NotFoundError(f"no task with id {key!r}", key=key)
        return _TASKS.load(row)

    async def list_tasks(
        self, *, active_only: bool = False, task_type: str | None = None
    ) -> list[BackgroundTask]:
        where: list[str] = []
        params: list[Any] = []
        if task_type is not None:
            where.append("task_type = %s")
            params.append(str(validate_identifier(task_type, "task_type")))
        if active_only:
            where.append("is_active")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = await self._fetch("listing tasks", f"{_SELECT}{clause} ORDER BY task_id", params)
        return [_TASKS.load(row) for row in rows]

    async def due_tasks(
        self, now: datetime | None = None, *, limit: int | None = None
    ) -> list[BackgroundTask]:
        at = self.now() if now is None else ensure_aware(now, "now")
        cap = None if limit is None else ensure_non_negative_int(limit, "limit")
        rows = await self._fetch(
            "listing due tasks",
            f"{_SELECT} WHERE is_active AND status = 'pending' AND run_at <= %s "
            "ORDER BY priority_rank, run_at, task_id LIMIT %s", (at, cap))
        return [_TASKS.load(row) for row in rows]
