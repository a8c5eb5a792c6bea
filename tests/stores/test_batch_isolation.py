"""One bad record never fails the other callers of its group commit, and values of
datetime / date subclasses (pandas, pendulum, freezegun) are stored as plain ones."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from tradestore import (
    BackgroundTask,
    FundamentalSnapshot,
    StockStateStore,
    TaskPriority,
    TaskStore,
    TaskType,
    ValidationError,
)


class FakeDatetime(dt.datetime):
    """What freezegun, pendulum and pandas hand out: a subclass of datetime."""


class FakeDate(dt.date):
    """A subclass of date, as pendulum's."""


class Opaque(float):
    """A float subclass msgspec cannot encode (as numpy.float64 is)."""


AT = FakeDatetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


async def test_datetime_subclasses_become_plain_datetimes(tmp_path: Path) -> None:
    task = BackgroundTask(task_id="t", task_type="news_monitoring",
                          priority=TaskPriority.HIGH, execute_at=AT, last_executed=AT)
    assert type(task.execute_at) is dt.datetime
    async with TaskStore(tmp_path, durable=False) as store:
        await store.save(task)
        await store.update("t", next_execution=AT)
        got = await store.get("t")
    assert got is not None
    assert type(got.next_execution) is dt.datetime
    assert got.next_execution == AT
    async with TaskStore(tmp_path, durable=False) as store:
        again = await store.get("t")
    assert again == got


async def test_date_subclass_becomes_plain_date(tmp_path: Path) -> None:
    async with StockStateStore(tmp_path, durable=False) as store:
        await store.update_news_check("INFY", FakeDate(2025, 1, 2))
        state = await store.get_state("INFY")
    assert type(state.last_news_check) is dt.date
    assert state.last_news_check == dt.date(2025, 1, 2)


def test_float_subclass_in_metadata_is_refused_at_validation() -> None:
    with pytest.raises(ValidationError):
        BackgroundTask(task_id="bad", task_type="x", priority=TaskPriority.LOW, execute_at=AT,
                       metadata={"weird": Opaque(1.5)})


async def test_unencodable_record_fails_only_its_own_call(tmp_path: Path) -> None:
    """A valid change group-committed beside an unencodable one is stored."""
    from tests.persistence.toy import ToyStore

    async with ToyStore(tmp_path, durable=False) as toy:
        results = await asyncio.gather(
            toy.add("ok", 2),
            toy.add("bad", 1, note=object()),  # type: ignore[arg-type]
            toy.add("ok", 3),
            return_exceptions=True,
        )
        assert results[0] == 2
        assert results[2] == 5
        assert isinstance(results[1], ValidationError)
    async with ToyStore(tmp_path, durable=False) as toy:
        assert await toy.get("ok") == 5
        assert await toy.get("bad") is None


async def test_valid_news_check_beside_bad_record_is_stored(tmp_path: Path) -> None:
    async with StockStateStore(tmp_path, durable=False) as stocks:
        bad_when = FakeDatetime(2025, 1, 2, tzinfo=dt.UTC)
        await asyncio.gather(
            stocks.update_news_check("INFY"),
            stocks.update_analysis_check("TCS", bad_when),
        )
    async with StockStateStore(tmp_path, durable=False) as stocks:
        assert (await stocks.get_state("INFY")).last_news_check is not None
        assert (await stocks.get_state("TCS")).last_analysis_check == bad_when


async def test_task_type_is_a_task_type_before_and_after_reopen(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        await store.save(BackgroundTask(task_id="a", task_type="news_monitoring",
                                        priority=TaskPriority.HIGH, execute_at=AT))
        await store.save(BackgroundTask(task_id="b", task_type="my_own_type",
                                        priority=TaskPriority.HIGH, execute_at=AT))
        before = await store.get("a")
        assert before is not None
        assert before.task_type is TaskType.NEWS_MONITORING
    async with TaskStore(tmp_path, durable=False) as store:
        after, other = await store.get("a"), await store.get("b")
    assert after is not None
    assert other is not None
    assert after.task_type is TaskType.NEWS_MONITORING
    assert after.task_type.value == "news_monitoring"
    assert type(other.task_type) is str


async def test_default_stamps_come_from_the_store_clock(tmp_path: Path) -> None:
    from tradestore import FundamentalAnalysis, FundamentalStore

    sim = dt.datetime(2020, 5, 1, 9, 0, tzinfo=dt.UTC)
    async with FundamentalStore(tmp_path, durable=False, clock=lambda: sim) as store:
        await store.save_fundamentals(FundamentalSnapshot(symbol="INFY",
                                                          as_of=dt.date(2020, 5, 1)))
        await store.save_analysis(FundamentalAnalysis(symbol="INFY", recommendation="buy",
                                                      confidence=0.5))
        snap = await store.get_latest_fundamentals("INFY")
        ana = await store.get_latest_analysis("INFY")
    assert snap is not None
    assert ana is not None
    assert snap.fetched_at == sim
    assert ana.analyzed_at == sim
    assert type(snap.fetched_at) is dt.datetime


def test_date_message_for_a_string() -> None:
    from tradestore import StrategyLog

    with pytest.raises(ValidationError) as info:
        StrategyLog(date="2025-01-02")  # type: ignore[arg-type]
    assert "not a datetime" not in info.value.message
    assert "a date" in info.value.message
