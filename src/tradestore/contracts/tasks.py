"""The TaskStore contract: the scheduler's background tasks, keyed by ``task_id``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

from tradestore.contracts._base import Clock, Location, Store
from tradestore.models import BackgroundTask

if TYPE_CHECKING:
    from tradestore.persistence import FileSystem

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
        self, *, active_only: bool = False, task_type: str | None = None
    ) -> list[BackgroundTask]:
        """Copies of the tasks, by task_id, optionally only active ones or of one type.

        :raises ValidationError: ``task_type`` is not a valid identifier.
        """
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
