"""``tradestore run --dsn`` from several processes at once, and ``tradestore status`` on them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter

from tradestore import BackgroundTask, RunOutcome, TaskPriority, TaskStore
from tradestore.scheduler import default_tasks
from tradestore.scheduler.timing import utc_now

from .helpers import ROOT, wait_for

_ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "250", "NO_COLOR": "1"}


def _status(dsn: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradestore.cli", "status", "--dsn", dsn],
                          cwd=ROOT, env=_ENV, capture_output=True, text=True, timeout=60,
                          check=False)


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tradestore.cli", *args], cwd=ROOT,
                            env=_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_three_hosts_starting_at_once_seed_once_and_status_shows_who_runs_what(
    pg_dsn: str,
) -> None:
    hosts = [_cli("run", "--dsn", pg_dsn, "--duration", "6", "--lease-seconds", "3",
                  "--concurrency", "2") for _ in range(3)]
    pids = {p.pid for p in hosts}
    beating_ids: set[str] = set()
    try:
        def beating() -> bool:
            async def alive() -> set[str]:
                async with TaskStore(pg_dsn, read_only=True) as store:
                    return {b.scheduler_id for b in await store.heartbeats()
                            if b.stopped_at is None and b.pid in pids}
            beating_ids.update(asyncio.run(alive()))
            return len(beating_ids) == 3
        wait_for(beating, 30, "three schedulers to beat")
        time.sleep(1.0)
        status = _status(pg_dsn)
    finally:
        outputs = [p.communicate(timeout=60)[0] for p in hosts]
    assert all(p.returncode == 0 for p in hosts), outputs
    assert status.returncode == 0, status.stderr
    assert status.stdout.count("alive") == 3, status.stdout  # the hosts seen recently
    # Exactly one host seeded; the others found the tasks there and added none.
    assert sum("seeded" in out for out in outputs) == 1, outputs

    async def stored() -> list[BackgroundTask]:
        async with TaskStore(pg_dsn, read_only=True) as store:
            return list(await store.list_tasks())

    tasks = asyncio.run(stored())
    expected = {t.task_id for t in default_tasks(utc_now(), batch_size=10)}
    assert {t.task_id for t in tasks} == expected
    runners: Counter[str] = Counter()
    for task in tasks:
        slots = [r.planned_at for r in task.history
                 if r.outcome is not RunOutcome.CANCELLED]
        assert len(slots) == len(set(slots)), task  # no slot run twice
        runners.update(r.scheduler_id for r in task.history)
    # Every run was by one of the three processes. Which of them ran what is timing:
    # the seven default tasks can all go to the first host up. That the work is
    # shared under load is test_processes.py's four-process test.
    assert runners, tasks
    assert set(runners) <= beating_ids, (runners, beating_ids)


def test_status_names_the_host_holding_a_running_task_and_until_when(pg_dsn: str) -> None:
    async def claim() -> None:
        async with TaskStore(pg_dsn) as store:
            await store.save(BackgroundTask(task_id="held", task_type="job",
                                            priority=TaskPriority.HIGH, execute_at=utc_now()))
            [task] = await store.claim_due("host-b:4242:cafe", limit=1, lease_seconds=90)
            assert task.lease_owner == "host-b:4242:cafe"

    asyncio.run(claim())
    status = _status(pg_dsn)
    assert status.returncode == 0, status.stderr
    [line] = [row for row in status.stdout.splitlines() if "held" in row]
    assert "running by host-b:4242:cafe (lease in 1m)" in line, line  # 90 s, server time
