"""Several scheduler processes on one real PostgreSQL server: each task run once.

Every process is a real ``Scheduler`` in its own interpreter (``_worker.py``);
handlers append a line per start to a file of their process, and the tests
compare those lines with the database: no slot (task, planned time) started
twice while leases were live, none missed, and the guarantee after a crash
(the task is run again once its lease has expired).
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from tradestore import BackgroundTask, RunOutcome, TaskPriority, TaskStatus, TaskStore

from .helpers import LEASE, Worker, duplicates, read_runs, wait_for


def _task(task_id: str, at: datetime, *, every: float | None = None,
          **metadata: object) -> BackgroundTask:
    return BackgroundTask(task_id=task_id, task_type="tick" if every else "work",
                          priority=TaskPriority.MEDIUM, execute_at=at, interval_seconds=every,
                          metadata=dict(metadata))


def _seed(dsn: str, tasks: list[BackgroundTask]) -> None:
    async def go() -> None:
        async with TaskStore(dsn) as store:
            await store.save_many(tasks)
    asyncio.run(go())


def _tasks(dsn: str) -> dict[str, BackgroundTask]:
    async def go() -> dict[str, BackgroundTask]:
        async with TaskStore(dsn) as store:
            return {t.task_id: t for t in await store.list_tasks()}
    return asyncio.run(go())


def _status(dsn: str, task_id: str) -> str | None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT status FROM tradestore.tasks WHERE task_id = %s",
                           (task_id,)).fetchone()
    return None if row is None else str(row[0])


def _server_now(dsn: str) -> datetime:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    value = row[0]
    assert isinstance(value, datetime)
    return value


def _check_recurring(runs_by_task: dict[str, list[datetime]], every: float,
                     minimum: int, maximum: int, stored: dict[str, BackgroundTask]) -> None:
    """Each slot once, on the grid; a slot skipped only when the run before it ended late.

    Skipping is the coalescing rule, not a loss: a run that ends after the next slot
    has passed plans the first slot after now (the history's ``finished_at``, server
    time), as on one host.
    """
    for task_id, slots in runs_by_task.items():
        assert len(slots) == len(set(slots)), f"{task_id}: a slot ran twice"
        ordered = sorted(slots)
        finished = {r.planned_at: r.finished_at for r in stored[task_id].history}
        for a, b in itertools.pairwise(ordered):
            gap = (b - a).total_seconds()
            assert gap % every == 0, f"{task_id}: off the grid: {ordered}"
            if gap > every:  # slots between a and b were skipped: the run of a ended late
                assert finished[a] >= a + timedelta(seconds=gap - every), (
                    f"{task_id}: a slot was lost: {ordered}")
        assert minimum <= len(slots) <= maximum, f"{task_id}: {len(slots)} runs"


@pytest.mark.slow
def test_four_processes_run_two_thousand_tasks_each_once(pg_dsn: str, tmp_path: Path) -> None:
    workers = [Worker(pg_dsn, tmp_path, f"w{i}", "--concurrency", "16", "--work", "0.002")
               for i in range(4)]
    now = _server_now(pg_dsn)  # the processes are up: seeding wakes them all
    one_shots = [_task(f"once-{i:04d}", now + timedelta(seconds=(i % 30) / 10))
                 for i in range(1800)]
    recurring = [_task(f"every-{i:03d}", now, every=2.0) for i in range(200)]
    try:
        _seed(pg_dsn, one_shots + recurring)
        time.sleep(6.0)
    finally:
        stopping = time.time()
        printed = [w.stop() for w in workers]
    runs = read_runs(w.out for w in workers)
    assert duplicates(runs) == {}
    started = {r.task_id for r in runs}
    assert {t.task_id for t in one_shots} <= started  # none lost
    by_task: dict[str, list[datetime]] = {}
    for run in runs:
        if run.task_id.startswith("every-"):
            by_task.setdefault(run.task_id, []).append(run.planned_at)
    assert set(by_task) == {t.task_id for t in recurring}
    # Every 2 s slot from the seeding to the stop, once: the last may fall in the stop.
    slots = int((stopping - now.timestamp()) // 2.0) + 1
    stored = _tasks(pg_dsn)
    # On a loaded machine the backlog of one-shots delays recurring runs past their
    # next slot, which then coalesce; _check_recurring tells that from a lost slot.
    _check_recurring(by_task, 2.0, minimum=1, maximum=slots, stored=stored)
    assert all(min(s) == now for s in by_task.values())  # each began at its first slot
    assert all(any(r.pid == w.pid for r in runs) for w in workers), "a process ran nothing"
    assert {t.status for t in stored.values()} <= {TaskStatus.SUCCEEDED, TaskStatus.PENDING}
    assert all(stored[t.task_id].status is TaskStatus.SUCCEEDED for t in one_shots)
    assert all(t.lease_owner is None for t in stored.values())  # every lease given back
    assert all(len(stored[t.task_id].history) == 1 for t in one_shots)
    assert all("lost=0" in out for out in printed), printed


def test_a_killed_process_task_is_run_again_once_after_its_lease_expires(
    pg_dsn: str, tmp_path: Path
) -> None:
    _seed(pg_dsn, [_task("victim", _server_now(pg_dsn), first_attempt_sleep=60.0)])
    first = Worker(pg_dsn, tmp_path, "first", "--poll", "0.1")
    try:
        wait_for(lambda: bool(read_runs([first.out])), 10, "the first process to start it")
        second = Worker(pg_dsn, tmp_path, "second", "--poll", "0.1")
        killed_at = time.time()
        first.kill()  # SIGKILL, mid-task: no outcome, the lease is left to expire
        wait_for(lambda: _status(pg_dsn, "victim") == "succeeded", 20, "the rerun to succeed")
        time.sleep(2 * LEASE)  # nothing runs it a third time
    finally:
        first.kill()
        out = second.stop()
    runs = read_runs([first.out, second.out])
    assert [(r.pid, r.attempt) for r in runs] == [(first.pid, 1), (second.pid, 2)]
    claimed_at = runs[0].wall
    assert runs[1].wall >= claimed_at + LEASE - 0.2  # not before the lease expired
    assert runs[1].wall >= killed_at
    victim = _tasks(pg_dsn)["victim"]
    assert [r.outcome for r in victim.history] == [RunOutcome.CRASHED, RunOutcome.SUCCEEDED]
    assert victim.history[0].scheduler_id == first.scheduler_id
    assert victim.history[1].scheduler_id == second.scheduler_id
    assert "recovered=1" in out


def test_a_frozen_process_late_outcome_is_refused_and_logged(
    pg_dsn: str, tmp_path: Path
) -> None:
    _seed(pg_dsn, [_task("frozen", _server_now(pg_dsn), first_attempt_sleep=1.0)])
    sleeper = Worker(pg_dsn, tmp_path, "sleeper", "--poll", "0.1")
    second: Worker | None = None
    try:
        wait_for(lambda: bool(read_runs([sleeper.out])), 10, "the first process to start it")
        sleeper.signal(signal.SIGSTOP)  # frozen past its lease (a long GC pause, a VM stall)
        second = Worker(pg_dsn, tmp_path, "second", "--poll", "0.1")
        wait_for(lambda: _status(pg_dsn, "frozen") == "succeeded", 20,
                 "the other process to take it over")
        before = _tasks(pg_dsn)["frozen"]
        sleeper.signal(signal.SIGCONT)  # its handler ends, its outcome write comes late
        wait_for(lambda: "refused the outcome" in sleeper.logged(), 10,
                 "the late outcome to be refused")
    finally:
        sleeper.signal(signal.SIGCONT)
        sleeper_out = sleeper.stop()
        if second is not None:
            second.stop()
    after = _tasks(pg_dsn)["frozen"]
    assert after == before  # the late write changed nothing (0 rows)
    assert [r.scheduler_id for r in after.history] == [sleeper.scheduler_id,
                                                       second.scheduler_id]
    assert [r.outcome for r in after.history] == [RunOutcome.CRASHED, RunOutcome.SUCCEEDED]
    assert "lost=1" in sleeper_out
    assert "frozen" in sleeper.logged()


def test_processes_whose_clocks_are_minutes_off_change_nothing(
    pg_dsn: str, tmp_path: Path
) -> None:
    workers = [Worker(pg_dsn, tmp_path, "behind", "--skew", "-300", "--poll", "0.2"),
               Worker(pg_dsn, tmp_path, "ahead", "--skew", "300", "--poll", "0.2")]
    now = _server_now(pg_dsn)
    later = now + timedelta(seconds=3)
    try:
        _seed(pg_dsn, [*(_task(f"tick-{i}", now, every=1.0) for i in range(20)),
                       *(_task(f"now-{i}", now) for i in range(20)),
                       _task("in-3s", later),
                       # Ten periods missed (nobody ran for ten minutes): run once, not ten.
                       _task("missed", now - timedelta(seconds=570), every=60.0)])
        time.sleep(5.5)
    finally:
        for w in workers:
            w.stop()
    runs = read_runs(w.out for w in workers)
    assert duplicates(runs) == {}
    assert sorted(r.task_id for r in runs if r.task_id.startswith("now-")) == sorted(
        f"now-{i}" for i in range(20))
    [early] = [r for r in runs if r.task_id == "in-3s"]
    # Not run early by the host 5 minutes ahead (server and test share this machine's clock).
    assert early.wall >= later.timestamp() - 0.05
    by_task: dict[str, list[datetime]] = {}
    for run in runs:
        if run.task_id.startswith("tick-"):
            by_task.setdefault(run.task_id, []).append(run.planned_at)
    # Once a second for ~5 s: neither replayed at once (clock behind) nor
    # pushed 5 minutes out (clock ahead).
    stored = _tasks(pg_dsn)
    _check_recurring(by_task, 1.0, minimum=3, maximum=7, stored=stored)
    assert [r.task_id for r in runs].count("missed") == 1
    assert stored["missed"].next_execution == now + timedelta(seconds=30)  # the next slot
    server = _server_now(pg_dsn)
    for task_id in by_task:
        planned = stored[task_id].next_execution
        assert planned is not None
        assert abs((planned - server).total_seconds()) < 2.0


def test_wakeups_heal_after_the_server_kills_the_listener(pg_dsn: str, tmp_path: Path) -> None:
    # A 60 s poll: only a notification can start a task within a second.
    worker = Worker(pg_dsn, tmp_path, "listener", "--poll", "60")

    def started(task_id: str) -> float | None:
        found = [r.wall for r in read_runs([worker.out]) if r.task_id == task_id]
        return found[0] if found else None

    def listeners() -> list[int]:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = "
                "'tradestore-listener' AND datname = current_database()").fetchall()
        return [int(r[0]) for r in rows]

    try:
        wait_for(lambda: len(listeners()) == 1, 10, "the listener to connect")
        saved = time.time()
        _seed(pg_dsn, [_task("first", _server_now(pg_dsn))])
        wait_for(lambda: started("first") is not None, 5, "the first task to start")
        assert (started("first") or 0) - saved < 1.0
        [old] = listeners()
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (old,))
        wait_for(lambda: listeners() not in ([], [old]), 10, "the listener to reconnect")
        time.sleep(0.2)
        saved = time.time()
        _seed(pg_dsn, [_task("second", _server_now(pg_dsn))])
        wait_for(lambda: started("second") is not None, 5, "the second task to start")
        assert (started("second") or 0) - saved < 1.0
    finally:
        worker.stop()
    assert "wake-up listener: connection" in worker.logged()
