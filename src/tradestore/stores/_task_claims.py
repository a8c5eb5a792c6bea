"""The file backend of the scheduler's claims (see ``claims.py``), mixed into ``TaskStore``.

Each method is one ``mutate`` of the task collection: under the collection's
lock, so it is atomic against every other call of this store, and one commit.
Leases are timed with ``now`` (else the store clock). The writer lock lets one
process write a folder, so a task RUNNING under an owner that never claimed
through this open store was left by a process that is gone: it is reclaimed at
once, without waiting for its lease to expire.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tradestore.errors import ValidationError
from tradestore.models import (
    BackgroundTask,
    TaskRun,
    TaskStatus,
    append_run,
    ensure_aware,
    ensure_finite,
    ensure_non_negative_int,
    validate_identifier,
    validate_task_id,
)
from tradestore.stores._task_rules import checked_changes, due_order, is_due
from tradestore.stores.claims import LEASE_FIELDS, Reclaimed

if TYPE_CHECKING:
    from tradestore.persistence import Collection, Txn

__all__ = ["FileClaims"]

def _lease(value: object) -> timedelta:
    seconds = ensure_finite(value, "lease_seconds")
    if seconds <= 0:
        raise ValidationError(f"lease_seconds: expected a number > 0, got {value!r}",
                              field="lease_seconds")
    return timedelta(seconds=seconds)


def _taken(task: BackgroundTask, owner: str, expires: datetime, **more: Any) -> BackgroundTask:
    draft = task.clone()
    draft.status = TaskStatus.RUNNING
    draft.lease_owner = owner
    draft.lease_expires_at = expires
    draft.lease_token = task.lease_token + 1
    for name, value in more.items():
        setattr(draft, name, value)
    return draft


class FileClaims:
    """``TaskClaims`` for the file-backed ``TaskStore`` (which provides these members)."""

    _tasks: Collection[BackgroundTask]
    _claimants: set[str]

    if TYPE_CHECKING:
        def now(self) -> datetime: ...
        async def _ready(self) -> None: ...
        def _check_writable(self) -> None: ...

    def _partition_of(self, task_id: str) -> str:
        raise NotImplementedError  # TaskStore provides it

    async def _claim_prelude(self, owner: str, lease_seconds: float,
                             now: datetime | None) -> tuple[str, timedelta, datetime]:
        await self._ready()
        self._check_writable()
        who = validate_identifier(owner, "owner")
        lease = _lease(lease_seconds)
        at = self.now() if now is None else ensure_aware(now, "now")
        return who, lease, at

    async def claim_due(
        self, owner: str, *, limit: int, lease_seconds: float, now: datetime | None = None
    ) -> list[BackgroundTask]:
        """See ``tradestore.stores.claims.TaskClaims.claim_due``."""
        who, lease, at = await self._claim_prelude(owner, lease_seconds, now)
        cap = ensure_non_negative_int(limit, "limit")
        self._claimants.add(who)
        docs = sorted(self._tasks.doc_ids())

        def apply(txn: Txn[BackgroundTask]) -> list[BackgroundTask]:
            due = [(doc, task) for doc in docs for task in txn.records(doc).values()
                   if is_due(task, at)]
            due.sort(key=lambda item: due_order(item[1]))
            claimed = []
            for doc, task in due[:cap]:
                stored = _taken(task, who, at + lease, last_executed=at)
                txn.put(doc, task.task_id, stored)
                claimed.append(stored.clone())
            return claimed

        return await self._tasks.mutate(docs, apply) if cap else []

    async def renew_leases(
        self, owner: str, tokens: Mapping[str, int], *, lease_seconds: float,
        now: datetime | None = None,
    ) -> dict[str, datetime]:
        """See ``tradestore.stores.claims.TaskClaims.renew_leases``."""
        who, lease, at = await self._claim_prelude(owner, lease_seconds, now)
        if not isinstance(tokens, Mapping):
            raise ValidationError("tokens: expected a mapping of task id to token",
                                  field="tokens")
        wanted = {validate_task_id(key, "tokens"): ensure_non_negative_int(value, "tokens")
                  for key, value in tokens.items()}
        placed = {key: self._partition_of(key) for key in wanted}

        def apply(txn: Txn[BackgroundTask]) -> dict[str, datetime]:
            renewed: dict[str, datetime] = {}
            for key, token in wanted.items():
                task = txn.get(placed[key], key)
                if (task is None or task.status != TaskStatus.RUNNING
                        or task.lease_owner != who or task.lease_token != token):
                    continue
                draft = task.clone()
                draft.lease_expires_at = at + lease
                txn.put(placed[key], key, draft)
                renewed[key] = at + lease
            return renewed

        return await self._tasks.mutate(set(placed.values()), apply) if wanted else {}

    async def finish_run(
        self, task_id: str, token: int, run: TaskRun, **changes: Any
    ) -> BackgroundTask | None:
        """See ``tradestore.stores.claims.TaskClaims.finish_run``."""
        await self._ready()
        self._check_writable()
        key = validate_task_id(task_id)
        fence = ensure_non_negative_int(token, "token")
        record = TaskRun.checked(run, "run")
        values = checked_changes(changes, "finish_run", refused=LEASE_FIELDS)
        doc = self._partition_of(key)

        def apply(txn: Txn[BackgroundTask]) -> BackgroundTask | None:
            current = txn.get(doc, key)
            if (current is None or current.status != TaskStatus.RUNNING
                    or current.lease_token != fence):
                return None
            draft = current.clone()
            for name, value in values.items():
                setattr(draft, name, value)
            draft.history = append_run(draft.history, record)
            draft.lease_owner = None
            draft.lease_expires_at = None
            stored = draft.clone()  # shares no container with the caller's values
            txn.put(doc, key, stored)
            return stored.clone()

        return await self._tasks.mutate((doc,), apply)

    async def reclaim_expired(
        self, owner: str, *, lease_seconds: float, now: datetime | None = None
    ) -> list[Reclaimed]:
        """See ``tradestore.stores.claims.TaskClaims.reclaim_expired``."""
        who, lease, at = await self._claim_prelude(owner, lease_seconds, now)
        self._claimants.add(who)
        live_here = set(self._claimants)
        docs = sorted(self._tasks.doc_ids())

        def orphaned(task: BackgroundTask) -> bool:
            if task.status != TaskStatus.RUNNING:
                return False
            if task.lease_owner is None or task.lease_owner not in live_here:
                return True
            return task.lease_expires_at is None or task.lease_expires_at <= at

        def apply(txn: Txn[BackgroundTask]) -> list[Reclaimed]:
            found = [(doc, task) for doc in docs for task in txn.records(doc).values()
                     if orphaned(task)]
            found.sort(key=lambda item: item[1].task_id)
            taken = []
            for doc, task in found:
                stored = _taken(task, who, at + lease)
                txn.put(doc, task.task_id, stored)
                taken.append(Reclaimed(stored.clone(), task.lease_owner))
            return taken

        return await self._tasks.mutate(docs, apply)
