"""The TaskStore contract: the scheduler's background tasks, keyed by ``task_id``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

from tradestore.contracts._base import Clock, Location, Store
from tradestore.models import BackgroundTask, SchedulerHeartbeat, TaskRun, TaskStatus

if TYPE_CHECKING:
    from tradestore.persistence._fs import FileSystem
    from tradestore.stores.claims import Reclaimed

__all__ = ["TaskStore"]


class TaskStore(Store):
    """Background tasks keyed by ``task_id``; reads return copies.

    ``TaskStore(location, ...)`` opens the backend ``location`` names (a folder,
    a PostgreSQL URL or a ``Database``). ``exclusive`` matters on PostgreSQL only
    (a file store is always exclusive for writers); ``fs`` on files only.
    """

    backends: ClassVar[dict[str, str]] = {"file": "tradestore.stores.task_store:FileTaskStore",
        "postgres": "tradestore.postgres.tasks:PgTaskStore"}

    def __new__(
        cls, location: Location, *, durable: bool = True, read_only: bool = False,
        clock: Clock | None = None, exclusive: bool = False, fs: FileSystem | None = None,
        journal: str = "files",
    ) -> Self:
        return cls._dispatch(location)

    async def save(self, task: BackgroundTask) -> None:
        """Insert or replace ``task`` (a copy is stored); durable when this returns.

        :raises ValidationError: ``task`` is not a valid BackgroundTask.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def save_many(self, tasks: Iterable[BackgroundTask]) -> None:
        """Insert or replace every task in one atomic write (a later duplicate id wins).

        :raises ValidationError: any task is invalid (then none is saved).
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def ensure(self, task: BackgroundTask) -> bool:
        """Insert ``task`` unless a task with its id exists; True if it was inserted.

        For seeding: the check and the insert are one atomic step, so a restart or
        a concurrent caller (any process) never duplicates the task nor overwrites
        one already stored (whatever its state). Durable when this returns.

        :raises ValidationError: ``task`` is not a valid BackgroundTask.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def ensure_many(self, tasks: Iterable[BackgroundTask]) -> list[str]:
        """Insert each task whose id is not stored yet, in one atomic write.

        Returns the ids inserted, in input order (the first of duplicate ids wins);
        stored tasks are left exactly as they are.

        :raises ValidationError: any task is invalid (then none is inserted).
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def get(self, task_id: str) -> BackgroundTask | None:
        """A copy of the task, or None if there is none.

        :raises ValidationError: ``task_id`` is malformed.
        """
        raise NotImplementedError

    async def delete(self, task_id: str) -> bool:
        """Remove a task; True if it existed. Durable when this returns.

        :raises ValidationError: ``task_id`` is malformed.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def update(self, task_id: str, **changes: Any) -> BackgroundTask:
        """Change some fields of a stored task, atomically; returns a copy of the result.

        :raises ValidationError: ``task_id`` is malformed, a field name is unknown,
            or a new value is invalid.
        :raises NotFoundError: no task has this id.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def list_tasks(
        self, *, active_only: bool = False, task_type: str | None = None,
        status: TaskStatus | str | None = None,
    ) -> list[BackgroundTask]:
        """Copies of the tasks, by task_id, optionally only active ones, of one type or
        with one status (a TaskStatus or its value).

        :raises ValidationError: ``task_type`` is not a valid identifier or ``status``
            is not a task status.
        """
        raise NotImplementedError

    async def count_by_status(self, *, active_only: bool = False) -> dict[TaskStatus, int]:
        """How many tasks have each status (every TaskStatus is a key, 0 when none)."""
        raise NotImplementedError

    async def due_tasks(
        self, now: datetime | None = None, *, limit: int | None = None
    ) -> list[BackgroundTask]:
        """Copies of the active PENDING tasks whose run time is at or before ``now``.

        The run time is ``next_execution``, else ``execute_at``; the order is
        priority (CRITICAL first), then run time, then task_id.

        :raises ValidationError: ``now`` is naive or ``limit`` is negative.
        """
        raise NotImplementedError

    async def record_heartbeat(self, beat: SchedulerHeartbeat) -> None:
        """Insert or replace the heartbeat of ``beat.scheduler_id``; durable when this returns.

        :raises ValidationError: ``beat`` is not a valid SchedulerHeartbeat.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def heartbeats(self) -> list[SchedulerHeartbeat]:
        """Copies of every scheduler's heartbeat, newest ``last_beat`` first (then by id)."""
        raise NotImplementedError

    async def delete_heartbeat(self, scheduler_id: str) -> bool:
        """Remove one scheduler's heartbeat; True if it existed. Durable when this returns.

        :raises ValidationError: ``scheduler_id`` is malformed.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def prune_heartbeats(self, before: datetime) -> int:
        """Remove the heartbeats whose ``last_beat`` is older than ``before``; return how many.

        :raises ValidationError: ``before`` is naive.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    # -- the scheduler's claims: the full contract is tradestore.stores.claims.TaskClaims --

    async def claim_due(
        self, owner: str, *, limit: int, lease_seconds: float, now: datetime | None = None
    ) -> list[BackgroundTask]:
        """Claim up to ``limit`` due tasks for ``owner`` in one atomic step (``TaskClaims``)."""
        raise NotImplementedError

    async def renew_leases(
        self, owner: str, tokens: Mapping[str, int], *, lease_seconds: float,
        now: datetime | None = None,
    ) -> dict[str, datetime]:
        """Extend the leases ``owner`` still holds; return the new expiries (``TaskClaims``)."""
        raise NotImplementedError

    async def finish_run(
        self, task_id: str, token: int, run: TaskRun, **changes: Any
    ) -> BackgroundTask | None:
        """Record a run's outcome if its token still holds; None if lost (``TaskClaims``)."""
        raise NotImplementedError

    async def reclaim_expired(
        self, owner: str, *, lease_seconds: float, now: datetime | None = None
    ) -> list[Reclaimed]:
        """Take over the RUNNING tasks no live scheduler holds (``TaskClaims``)."""
        raise NotImplementedError
