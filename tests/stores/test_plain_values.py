"""Values of subclasses of builtins (numpy's str_, pandas' Timestamp, pendulum's dates,
freezegun's datetimes, int subclasses) are stored as plain values by every store, and
one that still cannot be stored fails only its own call, never its batch."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.stores.helpers import FakeClock
from tradestore import (
    BackgroundTask,
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    FundamentalStore,
    NewsItem,
    StockSchedulerState,
    StockStateStore,
    StrategyLog,
    StrategyLogStore,
    TaskPriority,
    TaskStore,
    TaskType,
    ValidationError,
)


class S(str):
    """As numpy.str_ is."""


class I(int):  # noqa: E742  # a one-letter name for the int subclass, as S for str
    """An int subclass."""


class D(dt.date):
    """As pendulum's Date is."""


class T(dt.datetime):
    """As pandas' Timestamp and freezegun's FakeDatetime are."""


AT = T(2025, 1, 2, 9, 0, tzinfo=dt.UTC)
PLAIN_AT = dt.datetime(2025, 1, 2, 9, 0, tzinfo=dt.UTC)


def exact(value: object, kind: type) -> bool:
    return type(value) is kind


def assert_plain(obj: object, **kinds: type) -> None:
    """Each named attribute of ``obj`` is of exactly the given type."""
    for name, kind in kinds.items():
        assert type(getattr(obj, name)) is kind, name


async def test_tasks_store_plain_values(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        await store.save(BackgroundTask(task_id=S("a"), task_type=S("news_monitoring"),
                                        priority=TaskPriority.HIGH, execute_at=AT,
                                        max_retries=I(4), last_error=S("boom")))
        assert await store.ensure(BackgroundTask(task_id=S("b"), task_type=S("mine"),
                                                 priority=TaskPriority.LOW, execute_at=AT))
        await store.update("b", retry_count=I(2), last_error=S("again"))
    async with TaskStore(tmp_path, durable=False) as store:
        a, b = await store.get("a"), await store.get("b")
    assert a is not None
    assert b is not None
    assert a.task_type is TaskType.NEWS_MONITORING
    assert_plain(a, task_id=str, last_error=str, max_retries=int, execute_at=dt.datetime)
    assert_plain(b, task_type=str, retry_count=int, last_error=str)
    assert b.retry_count == 2
    assert a.execute_at == PLAIN_AT


async def test_stock_states_store_plain_values(tmp_path: Path) -> None:
    clock = FakeClock(PLAIN_AT)
    async with StockStateStore(tmp_path, durable=False, clock=clock) as store:
        await store.update_news_check(S("infy"), D(2025, 1, 2))
        await store.update_analysis_check(S("infy"), AT)
        await store.save_states([StockSchedulerState(symbol=S("tcs"), fetch_count=I(3))])
    async with StockStateStore(tmp_path, durable=False, clock=clock) as store:
        infy, tcs = await store.get_state("INFY"), await store.get_state("TCS")
    assert_plain(infy, last_news_check=dt.date, last_analysis_check=dt.datetime)
    assert_plain(tcs, fetch_count=int)
    assert tcs.fetch_count == 3
    assert tcs.updated_at == PLAIN_AT  # a default stamp is the store clock's time


async def test_strategy_logs_store_plain_values(tmp_path: Path) -> None:
    clock = FakeClock(PLAIN_AT)
    async with StrategyLogStore(tmp_path, durable=False, clock=clock) as store:
        await store.add_log(S("swing"), StrategyLog(
            date=D(2025, 1, 2), what_worked=[S("breakouts")], trades_executed=I(2),
            wins=I(1), token_usage={"input": I(10)}))
    async with StrategyLogStore(tmp_path, durable=False, clock=clock) as store:
        got = await store.get_log("swing", dt.date(2025, 1, 2))
    assert got is not None
    assert_plain(got, date=dt.date, trades_executed=int, wins=int)
    assert exact(got.what_worked[0], str)
    assert exact(got.token_usage["input"], int)
    assert (got.created_at, got.updated_at) == (PLAIN_AT, PLAIN_AT)


async def test_fundamentals_store_plain_values(tmp_path: Path) -> None:
    async with FundamentalStore(tmp_path, durable=False) as store:
        await store.save_fundamentals(FundamentalSnapshot(symbol=S("infy"), as_of=D(2025, 1, 2),
                                                          source=S("prov"), fetched_at=AT))
        await store.save_earnings(EarningsReport(symbol="INFY", fiscal_period=S("Q1 2024"),
                                                 report_date=D(2024, 7, 20)))
        await store.save_news([NewsItem(id=S("n1"), symbol="INFY", title=S("t"),
                                        summary=S("s"), published_at=AT)])
        await store.save_analysis(FundamentalAnalysis(symbol="INFY", analyzed_at=AT,
                                                      recommendation=S("BUY"), confidence=0.5,
                                                      summary=S("ok")))
    async with FundamentalStore(tmp_path, durable=False) as store:
        snap = await store.get_latest_fundamentals("INFY")
        report = await store.get_latest_earnings("INFY")
        (news,) = await store.get_news("INFY")
        ana = await store.get_latest_analysis("INFY")
    assert snap is not None
    assert report is not None
    assert ana is not None
    assert_plain(snap, as_of=dt.date, source=str, fetched_at=dt.datetime)
    assert_plain(report, fiscal_period=str, report_date=dt.date)
    assert report.fiscal_period == "2024Q1"
    assert_plain(news, id=str, title=str, summary=str, published_at=dt.datetime)
    assert_plain(ana, recommendation=str, summary=str, analyzed_at=dt.datetime)


async def test_a_refused_record_fails_alone_in_its_batch(tmp_path: Path) -> None:
    """Values validation refuses (an int subclass in JSON metadata) fail their own call;
    a concurrent valid change group-committed beside it is stored."""
    day = dt.date(2025, 1, 2)
    refused = StrategyLog(date=day)
    refused.metadata["n"] = I(1)  # set after the model checked itself; the store checks again
    async with StrategyLogStore(tmp_path, durable=False) as store:
        results = await asyncio.gather(
            store.add_log("a", StrategyLog(date=day, wins=1, token_usage={S("in"): 1})),
            store.add_log("b", refused),
            store.add_log("a", StrategyLog(date=day, wins=2)),
            return_exceptions=True,
        )
        assert isinstance(results[1], ValidationError)
        assert not isinstance(results[0], BaseException)
        assert not isinstance(results[2], BaseException)
    async with StrategyLogStore(tmp_path, durable=False) as store:
        got = await store.get_log("a", day)
        assert got is not None
        assert got.wins == 3
        assert [exact(key, str) for key in got.token_usage] == [True]
        assert await store.get_log("b", day) is None


@pytest.mark.parametrize("cls", [FundamentalSnapshot, FundamentalAnalysis, StrategyLog,
                                 StockSchedulerState])
def test_every_model_with_a_default_stamp_is_stamped_by_the_given_clock(
    cls: type[FundamentalSnapshot | FundamentalAnalysis | StrategyLog | StockSchedulerState],
) -> None:
    at = dt.datetime(2020, 5, 1, 9, 0, tzinfo=dt.UTC)
    required: dict[type, dict[str, Any]] = {
        FundamentalSnapshot: {"symbol": "INFY", "as_of": dt.date(2020, 5, 1)},
        FundamentalAnalysis: {"symbol": "INFY", "recommendation": "buy", "confidence": 0.5},
        StrategyLog: {"date": dt.date(2020, 5, 1)},
        StockSchedulerState: {"symbol": "INFY"},
    }
    kwargs = required[cls]
    stamped = cls.checked(cls(**kwargs), "value", at)
    stamps = {"fetched_at", "analyzed_at", "created_at", "updated_at"}
    found = [name for name in cls.__struct_fields__ if name in stamps]
    assert found
    for name in found:
        assert getattr(stamped, name) == at, name
    given = cls(**{**kwargs, **dict.fromkeys(found, PLAIN_AT)})  # explicit stamps are kept
    kept = cls.checked(given, "value", at)
    assert all(getattr(kept, name) == PLAIN_AT for name in found)
