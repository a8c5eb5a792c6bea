"""PostgreSQL backend with real processes and a real server restart."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from tests.pg_fixtures import pg_unavailable
from tradestore import StockStateStore, StoreIOError
from tradestore.postgres import Database
from tradestore.postgres._local import LocalServer, PostgresNotFound

_WRITER = textwrap.dedent("""
    import asyncio, sys
    from tradestore import StockStateStore
    from tradestore.postgres import Database

    async def main(dsn: str, calls: int) -> None:
        async with Database(dsn, max_size=8) as db, StockStateStore(db) as store:
            sem = asyncio.Semaphore(16)
            async def one(i: int) -> None:
                async with sem:
                    await store.record_fetch("AAPL", ok=i % 10 != 0)
            await asyncio.gather(*(one(i) for i in range(calls)))

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
""")


def test_four_processes_of_a_thousand_concurrent_record_fetch_count_exactly(
    pg_dsn: str, tmp_path: Path
) -> None:
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, str(script), pg_dsn, "1000"], env=env,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT fetch_count, error_count FROM tradestore.stock_state "
                           "WHERE symbol = 'AAPL'").fetchone()
    assert row == (4000, 400)


async def test_a_server_restart_mid_run_loses_nothing_acknowledged() -> None:
    try:
        server = LocalServer(fsync=True)  # durable commits: a crash keeps what was acknowledged
    except PostgresNotFound as exc:
        pg_unavailable(str(exc))
    with server:
        db = Database(server.dsn, timeout=1.0)
        store = StockStateStore(db)
        acked = refused = 0
        errors: list[StoreIOError] = []
        stop, at_200, after = asyncio.Event(), asyncio.Event(), asyncio.Event()
        restarted_at: int | None = None
        try:
            await db.open()

            async def writer() -> None:
                nonlocal acked, refused
                while not stop.is_set():
                    try:
                        await store.record_fetch("AAPL", ok=True)
                    except StoreIOError as exc:
                        errors.append(exc)
                        refused += 1
                        await asyncio.sleep(0.05)
                        continue
                    acked += 1
                    if acked == 200:
                        at_200.set()
                    if restarted_at is not None and acked >= restarted_at + 100:
                        after.set()

            async def restart() -> None:
                nonlocal restarted_at
                await at_200.wait()
                await asyncio.to_thread(server.kill)  # like a crash: recovery at start
                await asyncio.sleep(2.5)
                await asyncio.to_thread(server.start)
                restarted_at = acked
                await after.wait()
                stop.set()

            await asyncio.wait_for(asyncio.gather(writer(), restart()), timeout=120)
            # The same store object reconnected by itself after the restart.
            state = await store.get_state("AAPL")
        finally:
            await store.close()
            await db.close()
    assert refused >= 1, "calls during the outage should have been refused"
    assert all(exc.recoverable and exc.__cause__ is not None for exc in errors), errors
    assert acked >= 300
    assert acked <= state.fetch_count <= acked + refused  # in-doubt calls may have landed


@pytest.fixture(autouse=True)
def _quiet_pool_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("CRITICAL", logger="psycopg.pool")


_CLAIMER = textwrap.dedent("""
    import asyncio, json, sys
    from tradestore import TaskStore

    async def main(dsn: str, owner: str) -> None:
        got = []
        async with TaskStore(dsn) as store:
            while True:
                claimed = await store.claim_due(owner, limit=3, lease_seconds=30)
                if not claimed:
                    break
                got.extend(t.task_id for t in claimed)
        print(json.dumps(got))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


def test_schedulers_in_four_processes_never_claim_the_same_task(
    pg_dsn: str, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from tradestore import BackgroundTask, TaskPriority, TaskStore

    async def seed() -> None:
        async with TaskStore(pg_dsn) as store:
            await store.save_many(
                BackgroundTask(task_id=f"t{i:03d}", task_type="job", priority=TaskPriority.LOW,
                               execute_at=datetime(2025, 1, 1, tzinfo=UTC)) for i in range(300))

    asyncio.run(seed())
    script = tmp_path / "claimer.py"
    script.write_text(_CLAIMER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, str(script), pg_dsn, f"host{i}"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    claims: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        claims.extend(json.loads(out))
    assert sorted(claims) == [f"t{i:03d}" for i in range(300)]  # each exactly once
