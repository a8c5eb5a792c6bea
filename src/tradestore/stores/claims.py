"""The contract between the scheduler and a task store backend: claims, leases, outcomes.

The scheduler never reads due tasks and then updates them: it asks the store to
*claim* them, in one atomic step that marks them RUNNING under a lease. Each
claim gives the task a new fencing token (``BackgroundTask.lease_token``, +1 per
claim); every later write about that run names the token and changes nothing
once the task carries another one (its lease was taken over). A backend provides
these four methods on its ``TaskStore``:

============================  ============================================================
``claim_due``                 due PENDING tasks -> RUNNING, owner, lease expiry, token + 1
``renew_leases``              push the expiry of leases still held by the owner
``finish_run``                write an outcome and append its ``TaskRun``, if the token holds
``reclaim_expired``           take over RUNNING tasks whose lease is no longer live
============================  ============================================================

Times: the file backend uses ``now`` when given (else the store clock); a
backend with a server clock (PostgreSQL) uses the server's and ignores ``now``,
so hosts whose clocks disagree still agree on leases.

Guarantee built on it: while a lease is live, one scheduler runs the task; a run
whose scheduler died is taken back once its lease has expired and run again (at
least once).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tradestore.models import BackgroundTask, TaskRun

__all__ = ["LEASE_FIELDS", "Reclaimed", "TaskClaims"]

LEASE_FIELDS = frozenset({"lease_owner", "lease_expires_at", "lease_token", "history"})
"""Fields only the claim methods write: ``finish_run`` refuses them in ``changes``."""


class Reclaimed(NamedTuple):
    """A task taken over by ``reclaim_expired``: its new state and who held it before."""

    task: BackgroundTask
    previous_owner: str | None


@runtime_checkable
class TaskClaims(Protocol):
    """What the scheduler needs from a task store; ``TaskStore`` provides it on each backend."""

    async def claim_due(
        self, owner: str, *, limit: int, lease_seconds: float, now: datetime | None = None
    ) -> list[BackgroundTask]:
        """Claim up to ``limit`` due tasks for ``owner`` in one atomic step; return copies.

        Due means what ``due_tasks`` means (active, PENDING, run time at or before
        now), and the same order is kept (priority, run time, task id). Each
        claimed task is written with ``status=RUNNING``, ``last_executed=now``,
        ``lease_owner=owner``, ``lease_expires_at=now + lease_seconds`` and
        ``lease_token`` one more than before; nothing else changes. Two
        concurrent claims never return the same task.

        :raises ValidationError: ``owner`` is not an identifier, ``limit`` is
            negative, ``lease_seconds`` is not a finite number > 0, or ``now`` is naive.
        :raises StoreError: the store is read-only, closed, or the write failed
            (then nothing is claimed).
        """
        ...

    async def renew_leases(
        self, owner: str, tokens: Mapping[str, int], *, lease_seconds: float,
        now: datetime | None = None,
    ) -> dict[str, datetime]:
        """Extend, in one atomic step, the leases ``owner`` still holds; return the new expiries.

        ``tokens`` maps task ids to the token of their claim. A lease is renewed
        (``lease_expires_at = now + lease_seconds``) only if the task is still
        RUNNING with that ``lease_owner`` and that ``lease_token``; the others
        (taken over, finished, deleted) are missing from the result: their
        handlers must stop at once.

        :raises ValidationError: ``owner``, a task id or a token is malformed,
            ``lease_seconds`` is not a finite number > 0, or ``now`` is naive.
        :raises StoreError: the store is read-only, closed, or the write failed
            (then no lease was renewed).
        """
        ...

    async def finish_run(
        self, task_id: str, token: int, run: TaskRun, **changes: Any
    ) -> BackgroundTask | None:
        """Record the outcome of the run claimed with ``token``, atomically; None if lost.

        If the task is RUNNING and still carries ``lease_token == token``, one
        write applies ``changes`` (the outcome's fields: status, retry_count,
        next_execution, last_error, metadata...), appends ``run`` to
        ``history`` (keeping the newest ``MAX_TASK_HISTORY``), clears
        ``lease_owner`` and ``lease_expires_at`` (the token stays), and the
        updated copy is returned. Otherwise (the lease was taken over, the
        task was deleted or is not RUNNING) nothing is written and None is
        returned: the caller logs that its outcome was refused.

        :raises ValidationError: ``task_id`` or ``token`` is malformed, ``run``
            is not a valid TaskRun, a field is unknown, one of ``LEASE_FIELDS``,
            or has an invalid value (nothing is written).
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        ...

    async def reclaim_expired(
        self, owner: str, *, lease_seconds: float, now: datetime | None = None
    ) -> list[Reclaimed]:
        """Take over, in one atomic step, the RUNNING tasks no live scheduler holds.

        Those are the tasks whose lease has expired (``lease_expires_at`` at or
        before now), that have no lease (RUNNING without ``lease_owner``: left
        by an older version, or set by hand), and, on the file backend, those
        claimed before this store was opened (the single-writer lock proves
        their process is gone). Each is given to ``owner`` like a claim (new
        expiry, ``lease_token + 1``, still RUNNING), so the previous holder's
        late writes are refused; the caller then records a crash outcome with
        ``finish_run`` and the new token. Returns them in task id order, with
        the owner each had before.

        :raises ValidationError: ``owner`` is not an identifier,
            ``lease_seconds`` is not a finite number > 0, or ``now`` is naive.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        ...
