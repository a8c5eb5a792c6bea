"""The claim statements on PostgreSQL beyond the shared contract suite: history, durability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradestore import (
    MAX_TASK_HISTORY,
    BackgroundTask,
    RunOutcome,
    TaskPriority,
    TaskRun,
    TaskStatus,
    TaskStore,
)


def _run(i: int) -> TaskRun:
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i)
    return TaskRun(started_at=at, finished_at=at, outcome=RunOutcome.SUCCEEDED,
                   duration_seconds=0.5, host="h", scheduler_id=f"s{i}")


@pytest.mark.parametrize("durable", [True, False])
async def test_finish_run_keeps_the_newest_runs_and_is_fenced(pg_dsn: str, durable: bool) -> None:
    async with TaskStore(pg_dsn, durable=durable) as store:
        await store.save(BackgroundTask(task_id="r", task_type="job", priority=TaskPriority.LOW,
                                        execute_at=datetime.now(UTC) - timedelta(seconds=1),
                                        interval_seconds=60.0))
        for i in range(MAX_TASK_HISTORY + 5):
            [task] = await store.claim_due("me", limit=1, lease_seconds=30)
            done = await store.finish_run("r", task.lease_token, _run(i),
                                          status=TaskStatus.PENDING, retry_count=0)
            assert done is not None
            assert (done.lease_owner, done.lease_expires_at) == (None, None)
            assert await store.finish_run("r", task.lease_token, _run(99),
                                          status=TaskStatus.FAILED) is None  # not RUNNING
        stored = await store.get("r")
        assert stored is not None
        assert [r.scheduler_id for r in stored.history] == [
            f"s{i}" for i in range(5, MAX_TASK_HISTORY + 5)]
        assert stored.history[-1] == _run(MAX_TASK_HISTORY + 4)
        assert stored.status is TaskStatus.PENDING
