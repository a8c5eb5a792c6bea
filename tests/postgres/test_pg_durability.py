"""``durable`` on PostgreSQL: ``durable=False`` commits with ``synchronous_commit = off``.

A trigger on the store's own tables records the setting in force in the very
transaction that writes the row, so the test sees what each kind of write
really ran with (docs/backends.md, row ``durable=False``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from tradestore import (
    BackgroundTask,
    RunOutcome,
    StockStateStore,
    StrategyLog,
    StrategyLogStore,
    TaskPriority,
    TaskRun,
    TaskStatus,
    TaskStore,
)
from tradestore.postgres import migrate


def _watch_commits(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        # The throwaway test server runs with synchronous_commit=off for speed; this
        # database gets the stock default back, so that "on" is what a durable write sees.
        conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = on").format(
            sql.Identifier(conn.info.dbname)))
        conn.execute("""
            CREATE TABLE public.seen (tbl text, setting text);
            CREATE FUNCTION public.note_setting() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN
                INSERT INTO public.seen VALUES (TG_TABLE_NAME,
                                                current_setting('synchronous_commit'));
                RETURN NULL;
            END $$;
            CREATE TRIGGER note_setting AFTER INSERT OR UPDATE ON tradestore.tasks
                FOR EACH ROW EXECUTE FUNCTION public.note_setting();
            CREATE TRIGGER note_setting AFTER INSERT OR UPDATE ON tradestore.stock_state
                FOR EACH ROW EXECUTE FUNCTION public.note_setting();
            CREATE TRIGGER note_setting AFTER INSERT OR UPDATE ON tradestore.strategy_logs
                FOR EACH ROW EXECUTE FUNCTION public.note_setting();""")


def _seen(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT tbl, setting FROM public.seen").fetchall()
        conn.execute("TRUNCATE public.seen")
    return [(str(t), str(s)) for t, s in rows]


def _run() -> TaskRun:
    at = datetime.now(UTC)
    return TaskRun(started_at=at, finished_at=at, outcome=RunOutcome.SUCCEEDED,
                   duration_seconds=0.0, host="h", scheduler_id="me")


@pytest.mark.parametrize("durable", [True, False])
async def test_every_kind_of_write_commits_with_the_setting_durable_asks_for(
    pg_fresh_dsn: str, durable: bool,
) -> None:
    await migrate(pg_fresh_dsn)
    _watch_commits(pg_fresh_dsn)
    expected = "on" if durable else "off"
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with TaskStore(pg_fresh_dsn, durable=durable) as tasks, \
            StockStateStore(pg_fresh_dsn, durable=durable) as stocks, \
            StrategyLogStore(pg_fresh_dsn, durable=durable) as logs:
        await tasks.save_many([BackgroundTask(task_id=f"t{i}", task_type="job",
                                              priority=TaskPriority.LOW, execute_at=past)
                               for i in range(6)])
        claimed = await tasks.claim_due("me", limit=6, lease_seconds=30)
        # One outcome alone, then five at once (one grouped transaction).
        await tasks.finish_run(claimed[0].task_id, claimed[0].lease_token, _run(),
                               status=TaskStatus.SUCCEEDED)
        await asyncio.gather(*(tasks.finish_run(t.task_id, t.lease_token, _run(),
                                                status=TaskStatus.SUCCEEDED)
                               for t in claimed[1:]))
        await stocks.record_fetch("AAPL", ok=True)
        await logs.add_log("s", StrategyLog(date=past.date(), trades_executed=1))
    seen = _seen(pg_fresh_dsn)
    assert {t for t, _ in seen} == {"tasks", "stock_state", "strategy_logs"}
    assert len([1 for t, _ in seen if t == "tasks"]) >= 6 + 6 + 6  # saved, claimed, finished
    assert {s for _, s in seen} == {expected}, seen
