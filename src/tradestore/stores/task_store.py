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

from tradestore.errors import NotFoundError, ValidationError
from tradestore.models import (
    BackgroundTask,
    SchedulerHeartbeat,
    TaskStatus,
    count_statuses,
    ensure_aware,
    ensure_non_negative_int,
    parse_status,
    validate_identifier,
    validate_task_id,
)
from tradestore.persistence import BaseStore, Clock, FileSystem, Txn
from tradestore.stores._heartbeats import HeartbeatBook
from tradestore.stores._task_claims import FileClaims
from tradestore.stores._task_rules import checked_changes, due_order, is_due

__all__ = ["TaskStore"]

_log = logging.getLogger(__name__)
_PARTITIONS = 16


def _partition(task_id: str) -> str:
    """The document a task id lives in: a stable hash, never the id itself."""
    return f"{zlib.crc32(task_id.encode()) % _PARTITIONS:x}"


class TaskStore(FileClaims, BaseStore):
    """Background tasks keyed by ``task_id``; reads return copies."""

    folder_name = "tasks"
    _partition_of = staticmethod(_partition)

    def __init__(  # noqa: PLR0913  the folder, then one keyword per store option
        self,
        data_dir: str | os.PathLike[str],
        *,
        durable: bool = True,
        read_only: bool = False,
        clock: Clock | None = None,
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
        """Insert or replace ``task`` (a copy is stored); durable when this returns.

        :raises ValidationError: ``task`` is not a valid BackgroundTask.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._ready()
        self._check_writable()
        stored = BackgroundTask.checked(task, "task", self.now())
        key = stored.task_id
        doc = _partition(key)

        def apply(txn: Txn[BackgroundTask]) -> None:
            txn.put(doc, key, stored)

        await self._tasks.mutate((doc,), apply)

    async def save_many(self, tasks: Iterable[BackgroundTask]) -> None:
        """Insert or replace every task in one atomic write (a later duplicate id wins).

        :raises ValidationError: any task is invalid (then none is saved).
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
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
        """Insert ``task`` unless a task with its id exists; True if it was inserted.

        For seeding: the check and the insert are one atomic step under the store's
        lock, so a restart or a concurrent caller never duplicates the task nor
        overwrites one already stored (whatever its state). Durable when this returns.

        :raises ValidationError: ``task`` is not a valid BackgroundTask.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        return bool(await self.ensure_many([task]))

    async def ensure_many(self, tasks: Iterable[BackgroundTask]) -> list[str]:
        """Insert each task whose id is not stored yet, in one atomic write.

        Returns the ids inserted, in input order (the first of duplicate ids wins);
        stored tasks are left exactly as they are.

        :raises ValidationError: any task is invalid (then none is inserted).
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
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
        """A copy of the task, or None if there is none.

        :raises ValidationError: ``task_id`` is malformed.
        :raises StoreClosedError: the store was closed.
        """
        await self._ready()
        key = validate_task_id(task_id)
        task = await self._tasks.get(_partition(key), key)
        return None if task is None else task.clone()

    async def delete(self, task_id: str) -> bool:
        """Remove a task; True if it existed. Durable when this returns.

        :raises ValidationError: ``task_id`` is malformed.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._ready()
        self._check_writable()
        key = validate_task_id(task_id)
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
        """Change some fields of a stored task; returns a copy of the updated task.

        :raises ValidationError: ``task_id`` is malformed, a field name is unknown,
            or a new value is invalid.
        :raises NotFoundError: no task has this id.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._ready()
        self._check_writable()
        key = validate_task_id(task_id)
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
        """Copies of the tasks, by task_id, optionally only active ones, of one type or
        with one status (a TaskStatus or its value).

        :raises ValidationError: ``task_type`` is not a valid identifier or ``status``
            is not a task status.
        :raises StoreClosedError: the store was closed.
        """
        await self._ready()
        if task_type is not None:
            task_type = str(validate_identifier(task_type, "task_type"))
        wanted = None if status is None else parse_status(status)
        active = bool(active_only)
        found = [
            task for task in await self._all()
            if (not active or task.is_active) and (task_type is None or task.task_type == task_type)
            and (wanted is None or task.status == wanted)
        ]
        found.sort(key=lambda task: task.task_id)
        return [task.clone() for task in found]

    async def count_by_status(self, *, active_only: bool = False) -> dict[TaskStatus, int]:
        """How many tasks have each status (every TaskStatus is a key, 0 when none).

        :raises StoreClosedError: the store was closed.
        """
        await self._ready()
        active = bool(active_only)
        return count_statuses(t for t in await self._all() if not active or t.is_active)

    async def due_tasks(
        self, now: datetime | None = None, *, limit: int | None = None
    ) -> list[BackgroundTask]:
        """Copies of the active PENDING tasks whose run time is at or before ``now``.

        The run time is ``next_execution``, else ``execute_at``; the order is
        priority (CRITICAL first), then run time, then task_id.

        :raises ValidationError: ``now`` is naive or ``limit`` is negative.
        :raises StoreClosedError: the store was closed.
        """
        await self._ready()
        at = self.now() if now is None else ensure_aware(now, "now")
        cap = None if limit is None else ensure_non_negative_int(limit, "limit")
        due = [task for task in await self._all() if is_due(task, at)]
        due.sort(key=due_order)
        return [task.clone() for task in due[:cap]]

    # -- heartbeats ------------------------------------------------------------------------

    async def record_heartbeat(self, beat: SchedulerHeartbeat) -> None:
        """Insert or replace the heartbeat of ``beat.scheduler_id``; durable when this returns.

        :raises ValidationError: ``beat`` is not a valid SchedulerHeartbeat.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._ready()
        self._check_writable()
        await self._beats.record(SchedulerHeartbeat.checked(beat, "beat", self.now()))

    async def heartbeats(self) -> list[SchedulerHeartbeat]:
        """Copies of every scheduler's heartbeat, newest ``last_beat`` first.

        :raises StoreClosedError: the store was closed.
        """
        await self._ready()
        return await self._beats.all()

    async def delete_heartbeat(self, scheduler_id: str) -> bool:
        """Remove one scheduler's heartbeat; True if it existed. Durable when this returns.

        :raises ValidationError: ``scheduler_id`` is malformed.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._ready()
        self._check_writable()
        return await self._beats.delete(validate_identifier(scheduler_id, "scheduler_id"))

    async def prune_heartbeats(self, before: datetime) -> int:
        """Remove the heartbeats whose ``last_beat`` is older than ``before``; return how many.

        :raises ValidationError: ``before`` is naive.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
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
