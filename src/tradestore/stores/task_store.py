"""TaskStore: the scheduler's background tasks, durable in ``<data_dir>/tasks/``.

Tasks are spread over 16 documents by a stable hash of their id
(``zlib.crc32(task_id) % 16``), so one change rewrites a small document at
checkpoint time, and the whole collection is loaded at ``initialize()``.
Scheduler heartbeats are a second collection, in ``tasks/heartbeats/``. The
scheduler's claims, leases and outcome writes (``claims.TaskClaims``) come from
``_task_claims.FileClaims``.
"""

from __future__ import annotations

import logging
import os
import zlib
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
from tradestore.persistence import BaseStore, Clock
from tradestore.persistence._collection import Txn
from tradestore.persistence._fs import FileSystem
from tradestore.stores._heartbeats import HeartbeatBook
from tradestore.stores._task_claims import FileClaims
from tradestore.stores._task_rules import checked_changes, due_order, is_due

__all__ = ["FileTaskStore"]

_log = logging.getLogger(__name__)
_PARTITIONS = 16


def _partition(task_id: str) -> str:
    """The document a task id lives in: a stable hash, never the id itself."""
    return f"{zlib.crc32(task_id.encode()) % _PARTITIONS:x}"


class FileTaskStore(FileClaims, BaseStore, TaskStore):
    """Background tasks keyed by ``task_id``; reads return copies."""

    folder_name = "tasks"
    _partition_of = staticmethod(_partition)

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        durable: bool = True,
        read_only: bool = False,
        clock: Clock | None = None,
        exclusive: bool = False,
        fs: FileSystem | None = None,
        journal: str = "files",
    ) -> None:
        super().__init__(data_dir, durable=durable, read_only=read_only, clock=clock, fs=fs,
                         journal=journal)
        self._tasks = self._collection(None, "tasks", BackgroundTask, lazy=False)
        self._beats = HeartbeatBook(
            self._collection("heartbeats", "heartbeats", SchedulerHeartbeat, lazy=False)
        )
        self._claimants: set[str] = set()  # owners that claimed through this open store

    async def save(self, task: BackgroundTask) -> None:
        await self._ready()
        self._check_writable()
        stored = BackgroundTask.checked(task, "task", self.now())
        key = stored.task_id
        doc = _partition(key)

        def apply(txn: Txn[BackgroundTask]) -> None:
            txn.put(doc, key, stored)

        await self._tasks.mutate((doc,), apply)

    async def save_many(self, tasks: Iterable[BackgroundTask]) -> None:
        await self._ready()
        self._check_writable()
        stored = {t.task_id: t for t in self._checked_many(tasks)}
        if not stored:
            return
        placed = [(_partition(key), key, task) for key, task in stored.items()]

        def apply(txn: Txn[BackgroundTask]) -> None:
            for doc, key, task in placed:
                txn.put(doc, key, task)

        await self._tasks.mutate({doc for doc, _, _ in placed}, apply)

    async def ensure(self, task: BackgroundTask) -> bool:
        return bool(await self.ensure_many([task]))

    async def ensure_many(self, tasks: Iterable[BackgroundTask]) -> list[str]:
        await self._ready()
        self._check_writable()
        staged: dict[str, BackgroundTask] = {}
        for checked in self._checked_many(tasks):
            staged.setdefault(checked.task_id, checked)
        if not staged:
            return []

        def apply(txn: Txn[BackgroundTask]) -> list[str]:
            added: list[str] = []
            for key, stored in staged.items():
                doc = _partition(key)
                if txn.get(doc, key) is None:
                    txn.put(doc, key, stored)
                    added.append(key)
            return added

        added = await self._tasks.mutate({_partition(key) for key in staged}, apply)
        _log.debug("ensure: %d of %d task(s) inserted", len(added), len(staged))
        return added

    async def get(self, task_id: str) -> BackgroundTask | None:
        await self._ready()
        key = ensure_task_id(task_id)
        task = await self._tasks.get(_partition(key), key)
        return None if task is None else task.clone()

    async def delete(self, task_id: str) -> bool:
        await self._ready()
        self._check_writable()
        key = ensure_task_id(task_id)
        doc = _partition(key)

        def apply(txn: Txn[BackgroundTask]) -> bool:
            if txn.get(doc, key) is None:
                return False
            txn.delete(doc, key)
            return True

        removed = await self._tasks.mutate((doc,), apply)
        _log.debug("delete task %s: %s", key, "removed" if removed else "absent")
        return removed

    async def update(self, task_id: str, **changes: Any) -> BackgroundTask:
        await self._ready()
        self._check_writable()
        key = ensure_task_id(task_id)
        values = checked_changes(changes, "update")  # normalised (enums...)
        doc = _partition(key)

        def apply(txn: Txn[BackgroundTask]) -> BackgroundTask:
            current = txn.get(doc, key)
            if current is None:
                raise NotFoundError(f"no task with id {key!r}", key=key)
            if not values:
                return current.clone()
            draft = current.clone()
            for name, value in values.items():
                setattr(draft, name, value)
            stored = draft.clone()  # shares no container with the caller's values
            txn.put(doc, key, stored)
            return stored.clone()

        return await self._tasks.mutate((doc,), apply)

    async def list_tasks(
        self, *, active_only: bool = False, task_type: str | None = None,
        status: TaskStatus | str | None = None,
    ) -> list[BackgroundTask]:
        await self._ready()
        if task_type is not None:
            task_type = str(ensure_identifier(task_type, "task_type"))
        wanted = None if status is None else ensure_status(status)
        active = bool(active_only)
        found = [
            task for task in await self._all()
            if (not active or task.is_active) and (task_type is None or task.task_type == task_type)
            and (wanted is None or task.status == wanted)
        ]
        found.sort(key=lambda task: task.task_id)
        return [task.clone() for task in found]

    async def count_by_status(self, *, active_only: bool = False) -> dict[TaskStatus, int]:
        await self._ready()
        active = bool(active_only)
        return count_statuses(t for t in await self._all() if not active or t.is_active)

    async def due_tasks(
        self, now: datetime | None = None, *, limit: int | None = None
    ) -> list[BackgroundTask]:
        await self._ready()
        at = self.now() if now is None else ensure_aware(now, "now")
        cap = None if limit is None else ensure_non_negative_int(limit, "limit")
        due = [task for task in await self._all() if is_due(task, at)]
        due.sort(key=due_order)
        return [task.clone() for task in due[:cap]]

    # -- heartbeats ------------------------------------------------------------------------

    async def record_heartbeat(self, beat: SchedulerHeartbeat) -> None:
        await self._ready()
        self._check_writable()
        await self._beats.record(SchedulerHeartbeat.checked(beat, "beat", self.now()))

    async def heartbeats(self) -> list[SchedulerHeartbeat]:
        await self._ready()
        return await self._beats.all()

    async def delete_heartbeat(self, scheduler_id: str) -> bool:
        await self._ready()
        self._check_writable()
        return await self._beats.delete(ensure_identifier(scheduler_id, "scheduler_id"))

    async def prune_heartbeats(self, before: datetime) -> int:
        await self._ready()
        self._check_writable()
        return await self._beats.prune(ensure_aware(before, "before"))

    def _checked_many(self, tasks: Iterable[BackgroundTask]) -> list[BackgroundTask]:
        """Validated private copies of ``tasks``, default stamps from the store clock."""
        if isinstance(tasks, str | bytes | BackgroundTask) or not isinstance(tasks, Iterable):
            raise ValidationError("tasks: expected an iterable of BackgroundTask", field="tasks")
        now = self.now()
        return [BackgroundTask.checked(task, "tasks", now) for task in tasks]

    async def _all(self) -> list[BackgroundTask]:
        """Every cached task (the cache's own objects: copy before handing out)."""
        found: list[BackgroundTask] = []
        for doc in sorted(self._tasks.doc_ids()):
            found.extend((await self._tasks.records(doc)).values())
        return found
