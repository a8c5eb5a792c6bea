"""Scheduler processes carry on when the PostgreSQL server restarts under them."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.pg_fixtures import pg_unavailable
from tradestore import BackgroundTask, TaskPriority, TaskStatus, TaskStore
from tradestore.postgres._local import LocalServer, PostgresNotFound

from .helpers import Worker, duplicates, read_runs, wait_for


def _counts(dsn: str) -> dict[TaskStatus, int]:
    async def go() -> dict[TaskStatus, int]:
        async with TaskStore(dsn) as store:
            return await store.count_by_status()
    return asyncio.run(go())


@pytest.mark.slow
def test_schedulers_carry_on_through_a_server_restart(tmp_path: Path) -> None:
    try:
        server = LocalServer(fsync=True)  # acknowledged outcomes survive the restart
    except PostgresNotFound as exc:
        pg_unavailable(str(exc))
    with server:
        dsn = server.dsn

        async def seed() -> None:
            async with TaskStore(dsn) as store:
                now = datetime.now(UTC)
                await store.save_many([
                    BackgroundTask(task_id=f"job-{i:03d}", task_type="work",
                                   priority=TaskPriority.MEDIUM, execute_at=now)
                    for i in range(400)])

        asyncio.run(seed())
        workers = [Worker(dsn, tmp_path, f"w{i}", "--concurrency", "4", "--work", "0.1",
                          "--poll", "0.2") for i in range(2)]
        try:
            wait_for(lambda: len(read_runs(w.out for w in workers)) >= 60, 30,
                     "the first runs")
            server.stop()  # every session is cut; calls fail until it is back
            time.sleep(2.0)
            server.start()
            back = time.time()
            wait_for(lambda: _counts(dsn)[TaskStatus.SUCCEEDED] == 400, 90,
                     "every task to succeed after the restart")
            assert all(w.proc.poll() is None for w in workers), "a scheduler died"
        finally:
            printed = [w.stop() for w in workers]
        runs = read_runs(w.out for w in workers)
        assert {r.task_id for r in runs} == {f"job-{i:03d}" for i in range(400)}
        assert all(any(r.pid == w.pid and r.wall > back for r in runs) for w in workers), (
            "a scheduler ran nothing after the restart")
        # At least once: a run whose outcome could not be written during the outage
        # is run again after its lease expires; only those may repeat.
        lost = sum(int(m) for out in printed for m in re.findall(r"lost=(\d+)", out))
        assert sum(n - 1 for n in duplicates(runs).values()) <= lost
        assert _counts(dsn)[TaskStatus.RUNNING] == 0
