"""Outcomes that arrive together share one transaction, and each caller keeps its own result.

The group commit of ``finish_run`` (``tradestore/postgres/_outcomes.py``) on a
real server: results per caller, fencing inside a batch, one refused outcome
failing only its caller, a cancelled caller, a COMMIT lost in flight.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tradestore import (
    BackgroundTask,
    RunOutcome,
    StoreError,
    StoreIOError,
    TaskPriority,
    TaskRun,
    TaskStatus,
    TaskStore,
)
from tradestore.postgres import migrate
from tradestore.postgres._claims import PgClaims

from ._commits import kill_the_committer, slow_commits

_N = 24


def _run(task_id: str) -> TaskRun:
    at = datetime.now(UTC)
    return TaskRun(started_at=at, finished_at=at, outcome=RunOutcome.SUCCEEDED,
                   duration_seconds=0.01, host="h", scheduler_id=f"me-{task_id}")


async def _claimed(store: TaskStore, n: int = _N) -> list[BackgroundTask]:
    past = datetime.now(UTC) - timedelta(seconds=1)
    await store.save_many([BackgroundTask(task_id=f"t{i:02d}", task_type="job",
                                          priority=TaskPriority.MEDIUM, execute_at=past)
                           for i in range(n)])
    claimed = await store.claim_due("me", limit=n, lease_seconds=30)
    assert len(claimed) == n
    return claimed


@pytest.mark.parametrize("durable", [True, False])
async def test_concurrent_outcomes_land_in_few_transactions_each_with_its_own_result(
    pg_dsn: str, durable: bool,
) -> None:
    async with TaskStore(pg_dsn, durable=durable) as store:
        claimed = await _claimed(store)
        stale = {t.task_id for t in claimed[::4]}  # these callers name an old token

        async def finish(task: BackgroundTask) -> BackgroundTask | None:
            token = task.lease_token - 1 if task.task_id in stale else task.lease_token
            return await store.finish_run(task.task_id, token, _run(task.task_id),
                                          status=TaskStatus.SUCCEEDED, last_error=None)

        assert isinstance(store, PgClaims)
        before = store._outcomes().transactions
        results = await asyncio.gather(*(finish(t) for t in claimed))
        used = store._outcomes().transactions - before
        assert used < _N / 4, used  # grouped: not one transaction per outcome
        for task, result in zip(claimed, results, strict=True):
            if task.task_id in stale:
                assert result is None  # fenced inside the batch as on its own
            else:
                assert result is not None
                assert result.task_id == task.task_id
                assert result.status is TaskStatus.SUCCEEDED
                assert [r.scheduler_id for r in result.history] == [f"me-{task.task_id}"]
    async with TaskStore(pg_dsn, read_only=True) as reader:
        stored = {t.task_id: t for t in await reader.list_tasks()}
    for task_id, task in stored.items():
        if task_id in stale:
            assert (task.status, task.lease_owner, task.history) == (
                TaskStatus.RUNNING, "me", [])
        else:
            assert (task.status, task.lease_owner) == (TaskStatus.SUCCEEDED, None)


async def test_an_outcome_the_database_refuses_fails_only_its_caller(
    pg_fresh_dsn: str,
) -> None:
    await migrate(pg_fresh_dsn)
    with psycopg.connect(pg_fresh_dsn, autocommit=True) as conn:  # a rule only the server has
        conn.execute("ALTER TABLE tradestore.tasks ADD CONSTRAINT no_refusals "
                     "CHECK (last_error IS DISTINCT FROM 'refuse me')")
    async with TaskStore(pg_fresh_dsn) as store:
        claimed = await _claimed(store)
        refused = claimed[5].task_id

        async def finish(task: BackgroundTask) -> BackgroundTask | None:
            error = "refuse me" if task.task_id == refused else "fine"
            return await store.finish_run(task.task_id, task.lease_token, _run(task.task_id),
                                          status=TaskStatus.FAILED, last_error=error)

        results = await asyncio.gather(*(finish(t) for t in claimed), return_exceptions=True)
        for task, result in zip(claimed, results, strict=True):
            if task.task_id == refused:
                assert isinstance(result, StoreError), result
                assert result.code == "store_rejected"
            else:
                assert isinstance(result, BackgroundTask), result
                assert result.last_error == "fine"
        stored = {t.task_id: t for t in await store.list_tasks()}
    assert stored[refused].status is TaskStatus.RUNNING  # unchanged, still leased
    assert sum(t.status is TaskStatus.FAILED for t in stored.values()) == _N - 1


async def test_a_cancelled_caller_leaves_its_batch_written(pg_dsn: str) -> None:
    async with TaskStore(pg_dsn) as store:
        claimed = await _claimed(store)
        calls = [asyncio.create_task(store.finish_run(
            t.task_id, t.lease_token, _run(t.task_id), status=TaskStatus.SUCCEEDED))
            for t in claimed]
        await asyncio.sleep(0)  # every call has joined the queue
        calls[3].cancel()
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert isinstance(results[3], asyncio.CancelledError)
        assert all(isinstance(r, BackgroundTask) for i, r in enumerate(results) if i != 3)
        stored = {t.task_id: t for t in await store.list_tasks()}
    # The write had gone out with the others: the cancelled caller's outcome is stored too.
    assert {t.status for t in stored.values()} == {TaskStatus.SUCCEEDED}


async def test_a_batch_whose_commit_is_lost_in_flight_is_in_doubt_for_every_caller(
    pg_fresh_dsn: str,
) -> None:
    await migrate(pg_fresh_dsn)
    async with TaskStore(pg_fresh_dsn) as store:
        claimed = await _claimed(store, 6)
        slow_commits(pg_fresh_dsn, "tasks")

        killer = asyncio.create_task(kill_the_committer(pg_fresh_dsn))
        results = await asyncio.gather(
            *(store.finish_run(t.task_id, t.lease_token, _run(t.task_id),
                               status=TaskStatus.SUCCEEDED) for t in claimed),
            return_exceptions=True)
        await killer
    assert all(isinstance(r, StoreIOError) and r.metadata.get("in_doubt") is True
               for r in results), results
