"""The small API a bot reaches for: tasks by status, seeding with ensure, the last n
logs, summaries as dicts, and token usage whose limits are not summed."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from tests.stores.helpers import T0, CountingFS, FakeClock
from tradestore import (
    BackgroundTask,
    PerformanceSummary,
    StrategyLog,
    StrategyLogStore,
    TaskPriority,
    TaskStatus,
    TaskStore,
    ValidationError,
)
from tradestore.models import is_token_counter, merge_token_usage


def task(task_id: str, **changes: Any) -> BackgroundTask:
    fields: dict[str, Any] = {"task_id": task_id, "task_type": "news_monitoring",
                              "priority": TaskPriority.MEDIUM, "execute_at": T0}
    fields.update(changes)
    return BackgroundTask(**fields)


# -- tasks by status -------------------------------------------------------------------------


async def test_list_tasks_by_status_and_count_by_status(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        await store.save_many([
            task("a"), task("b", status=TaskStatus.FAILED), task("c", status="running"),
            task("d", status=TaskStatus.FAILED, is_active=False),
        ])
        failed = await store.list_tasks(status=TaskStatus.FAILED)
        assert [t.task_id for t in failed] == ["b", "d"]
        assert [t.task_id for t in await store.list_tasks(status="FAILED", active_only=True)] \
            == ["b"]
        assert [t.task_id for t in await store.list_tasks(status="pending")] == ["a"]
        counts = await store.count_by_status()
        assert counts == {TaskStatus.PENDING: 1, TaskStatus.RUNNING: 1,
                          TaskStatus.SUCCEEDED: 0, TaskStatus.FAILED: 2}
        assert (await store.count_by_status(active_only=True))[TaskStatus.FAILED] == 1
        with pytest.raises(ValidationError):
            await store.list_tasks(status="done")


# -- ensure: seeding that a restart cannot duplicate ------------------------------------------


async def test_ensure_inserts_once_and_never_clobbers(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        assert await store.ensure(task("seed")) is True
        await store.update("seed", status=TaskStatus.RUNNING, retry_count=2)
        assert await store.ensure(task("seed")) is False  # a restart seeding again
        got = await store.get("seed")
        assert got is not None
        assert (got.status, got.retry_count) == (TaskStatus.RUNNING, 2)
    async with TaskStore(tmp_path, durable=False) as store:  # after a reopen too
        assert await store.ensure(task("seed", priority=TaskPriority.LOW)) is False
        assert await store.ensure_many([task("seed"), task("new"), task("new"),
                                        task("other")]) == ["new", "other"]
        assert [t.task_id for t in await store.list_tasks()] == ["new", "other", "seed"]
        seed = await store.get("seed")
        assert seed is not None
        assert seed.priority == TaskPriority.MEDIUM


async def test_concurrent_ensure_inserts_exactly_once(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as first, \
            TaskStore(tmp_path, durable=False) as second:
        results = await asyncio.gather(*(
            (first if i % 2 else second).ensure(task("seed", metadata={"by": i}))
            for i in range(50)))
        assert results.count(True) == 1
        winner = results.index(True)
        got = await first.get("seed")
        assert got is not None
        assert got.metadata == {"by": winner}


async def test_ensure_many_with_a_bad_task_inserts_nothing(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        bad = task("bad")
        bad.max_retries = -1
        with pytest.raises(ValidationError):
            await store.ensure_many([task("ok"), bad])
        assert await store.list_tasks() == []
        with pytest.raises(ValidationError):
            await store.ensure_many(task("x"))  # type: ignore[arg-type]  # not an iterable
        with pytest.raises(ValidationError):
            await store.ensure("x")  # type: ignore[arg-type]  # not a task


# -- the newest n logs -----------------------------------------------------------------------


async def test_get_last_logs_newest_first_whatever_their_dates(tmp_path: Path) -> None:
    clock = FakeClock(dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC))
    days = [dt.date(2023, 5, 1), dt.date(2024, 12, 31), dt.date(2025, 1, 2),
            dt.date(2025, 1, 20)]
    async with StrategyLogStore(tmp_path, clock=clock, durable=False) as s:
        for day in days:
            await s.add_log("swing", StrategyLog(date=day, wins=day.day))
        await s.add_log("other", StrategyLog(date=dt.date(2025, 3, 1)))
        assert [x.date for x in await s.get_last_logs("swing", 3)] == days[:0:-1]
        assert [x.date for x in await s.get_last_logs("swing", 10)] == days[::-1]
        assert await s.get_last_logs("swing", 0) == []
        assert await s.get_last_logs("nobody", 5) == []
        assert await s.get_recent_logs("swing", 30) == []  # old logs: the window misses them
        with pytest.raises(ValidationError):
            await s.get_last_logs("swing", -1)


async def test_get_last_logs_reads_only_the_newest_months(tmp_path: Path) -> None:
    clock = FakeClock(dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC))
    async with StrategyLogStore(tmp_path, clock=clock, durable=False) as s:
        for i in range(400):
            await s.add_log("s", StrategyLog(date=dt.date(2025, 3, 10) - dt.timedelta(days=i)))
    fs = CountingFS()
    async with StrategyLogStore(tmp_path, clock=clock, durable=False, fs=fs) as s:
        last = await s.get_last_logs("s", 15)
        assert [x.date for x in last] == [dt.date(2025, 3, 10) - dt.timedelta(days=i)
                                          for i in range(15)]
        assert sorted(fs.reads) == ["doc-s~2f2025-02.json", "doc-s~2f2025-03.json"]


# -- summaries and token usage ---------------------------------------------------------------


async def test_performance_summary_to_dict_is_json_ready(tmp_path: Path) -> None:
    clock = FakeClock(dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC))
    async with StrategyLogStore(tmp_path, clock=clock, durable=False) as s:
        await s.add_log("m", StrategyLog(date=dt.date(2025, 3, 9), trades_executed=4, wins=3,
                                         losses=1, pnl_realized=10.0))
        summary = await s.get_performance_summary("m", days=7)
    as_dict = summary.to_dict()
    assert as_dict == {"period_days": 7, "total_logs": 1, "total_trades": 4, "total_wins": 3,
                       "total_losses": 1, "win_rate": 75.0, "total_pnl": 10.0,
                       "avg_pnl_per_trade": 2.5}
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert PerformanceSummary(**as_dict) == summary


def test_token_counters_and_settings() -> None:
    for key in ("input", "output", "gpt-4o", "total_tokens", "claude:sonnet"):
        assert is_token_counter(key), key
    for key in ("limit", "LIMIT", "max_tokens", "daily-quota", "gpt-4o.limit", "budget"):
        assert not is_token_counter(key), key
    assert merge_token_usage({"input": 5, "limit": 1000}, {"input": 7, "limit": 2000,
                                                           "output": 1}) \
        == {"input": 12, "limit": 2000, "output": 1}


async def test_add_log_sums_counts_and_replaces_limits(tmp_path: Path) -> None:
    day = dt.date(2025, 3, 9)
    async with StrategyLogStore(tmp_path, durable=False) as s:
        await s.add_log("m", StrategyLog(date=day, token_usage={"input": 100, "limit": 5000}))
        merged = await s.add_log("m", StrategyLog(date=day, token_usage={"input": 50,
                                                                         "limit": 5000}))
    assert merged.token_usage == {"input": 150, "limit": 5000}
