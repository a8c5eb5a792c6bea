"""TaskStore on PostgreSQL: one row per task in ``tradestore.tasks``."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tradestore.contracts import TaskStore
from tradestore.errors import NotFoundError, ValidationError
from tradestore.models import BackgroundTask, SchedulerHeartbeat, TaskStatus
from tradestore.models._checks import (
    ensure_aware,
    ensure_identifier,
    ensure_non_negative_int,
    ensure_task_id,
)
from tradestore.models.task import count_statuses, ensure_status
from tradestore.postgres._claims import PgClaims
from tradestore.postgres._listen import PgWakeups
from tradestore.postgres._rows import RowCodec
from tradestore.postgres._server_time import PgServerTime
from tradestore.stores._task_rules import checked_changes

__all__ = ["PgTaskStore"]

_log = logging.getLogger(__name__)
_TASKS = RowCodec(BackgroundTask, "tradestore.tasks")
_UPSERT = (
    f"INSERT INTO tradestore.tasks ({_TASKS.column_list}) VALUES ({_TASKS.placeholders}) "
    "ON CONFLICT (task_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _TASKS.columns if c != "task_id")
)
_SELECT = f"SELECT {_TASKS.select_list} FROM tradestore.tasks"
_ENSURE = (f"INSERT INTO tradestore.tasks ({_TASKS.column_list}) VALUES ({_TASKS.placeholders}) "
           "ON CONFLICT (task_id) DO NOTHING RETURNING task_id")
_BEATS = RowCodec(SchedulerHeartbeat, "tradestore.scheduler_heartbeats")
_SAVE_BEAT = (
    f"INSERT INTO {_BEATS.table} ({_BEATS.column_list}) VALUES ({_BEATS.placeholders}) "
    "ON CONFLICT (scheduler_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _BEATS.columns if c != "scheduler_id")
)


class PgTaskStore(PgClaims, PgWakeups, PgServerTime, TaskStore):
    """Background tasks keyed by ``task_id``."""

    kind = "tasks"
    codecs = ((_TASKS, "task_id"), (_BEATS, "scheduler_id"))
    _codec = _TASKS

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

    async def ensure(self, task: BackgroundTask) -> bool:
        return bool(await self.ensure_many([task]))

    async def ensure_many(self, tasks: Iterable[BackgroundTask]) -> list[str]:
        if isinstance(tasks, str | bytes | BackgroundTask) or not isinstance(tasks, Iterable):
            raise ValidationError("tasks: expected an iterable of BackgroundTask", field="tasks")
        now = self.now()
        staged: dict[str, BackgroundTask] = {}
        for item in tasks:
            checked = BackgroundTask.checked(item, "tasks", now)
            staged.setdefault(checked.task_id, checked)
        added: list[str] = []
        async with self._write("ensuring tasks") as conn:
            for stored in staged.values():  # one transaction: all or none
                cur = await conn.execute(_ENSURE.encode(), _TASKS.dump(stored))
                if await cur.fetchone() is not None:
                    added.append(stored.task_id)
        _log.debug("ensure: %d of %d task(s) inserted", len(added), len(staged))
        return added

    async def get(self, task_id: str) -> BackgroundTask | None:
        key = ensure_task_id(task_id)
        rows = await self._fetch("reading a task", f"{_SELECT} WHERE task_id = %s", (key,))
        return _TASKS.load(rows[0]) if rows else None

    async def delete(self, task_id: str) -> bool:
        key = ensure_task_id(task_id)
        async with self._write("deleting a task") as conn:
            cur = await conn.execute("DELETE FROM tradestore.tasks WHERE task_id = %s", (key,))
            removed = cur.rowcount > 0
        _log.debug("delete task %s: %s", key, "removed" if removed else "absent")
        return removed

    async def update(self, task_id: str, **changes: Any) -> BackgroundTask:
        key = ensure_task_id(task_id)
        values = checked_changes(changes, "update")
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
        self, *, active_only: bool = False, task_type: str | None = None,
        status: TaskStatus | str | None = None,
    ) -> list[BackgroundTask]:
        where: list[str] = []
        params: list[Any] = []
        if task_type is not None:
            where.append("task_type = %s")
            params.append(str(ensure_identifier(task_type, "task_type")))
        if status is not None:
            where.append("status = %s")
            params.append(ensure_status(status).value)
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

    async def count_by_status(self, *, active_only: bool = False) -> dict[TaskStatus, int]:
        clause = " WHERE is_active" if active_only else ""
        rows = await self._fetch("counting tasks", "SELECT status, count(*) FROM "
                                 f"tradestore.tasks{clause} GROUP BY status")
        counts = count_statuses(())
        for status, count in rows:
            counts[TaskStatus(status)] = int(count)
        return counts

    # -- heartbeats ------------------------------------------------------------------------

    async def record_heartbeat(self, beat: SchedulerHeartbeat) -> None:
        checked = SchedulerHeartbeat.checked(beat, "beat", self.now())
        async with self._write("recording a heartbeat") as conn:
            await conn.execute(_SAVE_BEAT.encode(), _BEATS.dump(checked))

    async def heartbeats(self) -> list[SchedulerHeartbeat]:
        rows = await self._fetch(
            "reading heartbeats", f"SELECT {_BEATS.select_list} FROM {_BEATS.table} "
            "ORDER BY last_beat DESC, scheduler_id")
        return [_BEATS.load(row) for row in rows]

    async def delete_heartbeat(self, scheduler_id: str) -> bool:
        key = ensure_identifier(scheduler_id, "scheduler_id")
        async with self._write("deleting a heartbeat") as conn:
            cur = await conn.execute(
                "DELETE FROM tradestore.scheduler_heartbeats WHERE scheduler_id = %s", (key,))
            return cur.rowcount > 0

    async def prune_heartbeats(self, before: datetime) -> int:
        cutoff = ensure_aware(before, "before")
        async with self._write("pruning heartbeats") as conn:
            cur = await conn.execute(
                "DELETE FROM tradestore.scheduler_heartbeats WHERE last_beat < %s", (cutoff,))
            return cur.rowcount
