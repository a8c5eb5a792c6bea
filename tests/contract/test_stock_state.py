"""StockStateStore on both backends: every method of API.md, reopen, concurrency, bad input."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.stores.helpers import T0, FakeClock
from tradestore import StockSchedulerState, StockStateStore, StoreError, ValidationError

TODAY = T0.date()
EST = timezone(timedelta(hours=-5))


async def test_get_state_default_writes_nothing(location: str, clock: FakeClock) -> None:
    async with StockStateStore(location, clock=clock) as store:
        state = await store.get_state(" aapl ")
        assert state == StockSchedulerState(symbol="AAPL", updated_at=T0)
        assert await store.all_states() == {}


async def test_updates_round_trip_and_survive_reopen(location: str, clock: FakeClock) -> None:
    when = datetime(2025, 3, 14, 7, 0, 0, 5, tzinfo=EST)
    async with StockStateStore(location, clock=clock) as store:
        await store.update_news_check("AAPL")
        await store.update_earnings_check("AAPL", date(2025, 3, 1))
        await store.flag_fundamentals_recheck("AAPL")
        assert (await store.get_state("AAPL")).needs_fundamentals_recheck is True
        await store.update_fundamentals_check("AAPL", date(2025, 3, 2))
        await store.update_analysis_check("AAPL", when)
        await store.update_portfolio_update("AAPL")
        await store.record_fetch("AAPL", ok=True)
        clock.advance(seconds=1)
        await store.record_fetch("AAPL", ok=False)
        await store.update_news_check("MSFT", date(2025, 1, 1))
    expected = StockSchedulerState(
        symbol="AAPL", last_news_check=TODAY, last_earnings_check=date(2025, 3, 1),
        last_fundamentals_check=date(2025, 3, 2), last_portfolio_update=T0,
        last_analysis_check=when, needs_fundamentals_recheck=False, fetch_count=2,
        error_count=1, updated_at=T0 + timedelta(seconds=1), last_news_checked_at=T0,
        last_earnings_checked_at=T0, last_fundamentals_checked_at=T0)
    async with StockStateStore(location, read_only=True) as store:
        got = await store.get_state("aapl")
        assert got == expected
        assert got.last_analysis_check is not None
        assert got.last_analysis_check.utcoffset() == timedelta(hours=-5)
        states = await store.all_states()
        assert list(states) == ["AAPL", "MSFT"]
        assert states["AAPL"] == expected
        with pytest.raises(StoreError):
            await store.record_fetch("AAPL", ok=True)


async def test_needs_and_oldest_rules(location: str, clock: FakeClock) -> None:
    async with StockStateStore(location, clock=clock, earnings_interval_days=7,
                               fundamentals_interval_days=7) as store:
        await store.update_news_check("OLD", TODAY - timedelta(days=3))
        await store.update_news_check("FRESH", TODAY)
        await store.update_news_check("TIE1", TODAY - timedelta(days=2))
        await store.update_news_check("TIE2", TODAY - timedelta(days=2))
        await store.update_earnings_check("E6", TODAY - timedelta(days=6))
        await store.update_earnings_check("E7", TODAY - timedelta(days=7))
        await store.update_fundamentals_check("F", TODAY)
        await store.update_fundamentals_check("FLAG", TODAY)
        await store.flag_fundamentals_recheck("FLAG")
        assert await store.needs_news_fetch("OLD") is True
        assert await store.needs_news_fetch("FRESH") is False
        assert await store.needs_news_fetch("NEVER") is True
        assert await store.needs_earnings_fetch("E6") is False
        assert await store.needs_earnings_fetch("E7") is True
        assert await store.needs_fundamentals_check("F") is False
        assert await store.needs_fundamentals_check("FLAG") is True
        symbols = ["FRESH", "TIE2", "NEVER", "OLD", "TIE1", "fresh", "NEVER2"]
        assert await store.get_stocks_needing_news(symbols) == [
            "TIE2", "NEVER", "OLD", "TIE1", "NEVER2"]
        assert await store.get_stocks_needing_earnings(["E6", "E7", "X"]) == ["E7", "X"]
        assert await store.get_stocks_needing_fundamentals(["F", "FLAG", "Y"]) == ["FLAG", "Y"]
        oldest = await store.get_oldest_news_stocks(symbols, limit=None)
        assert oldest[:3] == ["NEVER", "NEVER2", "OLD"]
        assert set(oldest[3:5]) == {"TIE1", "TIE2"}
        assert oldest[5:] == ["FRESH"]
        assert await store.get_oldest_news_stocks(symbols) == oldest[:5]
        assert await store.get_oldest_earnings_stocks(["E6", "E7", "Z"], limit=2) == ["Z", "E7"]
        assert await store.get_oldest_fundamentals_stocks(["F", "Q"], limit=1) == ["Q"]
        assert await store.get_stocks_needing_news([]) == []
        with pytest.raises(ValidationError):
            await store.get_stocks_needing_news("AAPL")
        with pytest.raises(ValidationError):
            await store.get_oldest_news_stocks(["A"], limit=-1)


async def test_concurrent_record_fetch_counts_every_call(location: str) -> None:
    async with StockStateStore(location) as store:
        await asyncio.gather(*(store.record_fetch("AAPL", ok=i % 4 != 0) for i in range(200)))
        state = await store.get_state("AAPL")
    assert (state.fetch_count, state.error_count) == (200, 50)


async def test_save_states_delete_and_bad_input(location: str, clock: FakeClock) -> None:
    async with StockStateStore(location, clock=clock) as store:
        restored = StockSchedulerState(symbol="brk.b", fetch_count=7,
                                       updated_at=T0 - timedelta(days=9))
        await store.save_states([restored, StockSchedulerState(symbol="M&M", updated_at=T0)])
        await store.save_state(StockSchedulerState(symbol="^NSEI", updated_at=T0))
        assert (await store.get_state("BRK.B")).fetch_count == 7
        assert (await store.get_state("BRK.B")).updated_at == T0 - timedelta(days=9)
        assert sorted(await store.all_states()) == ["BRK.B", "M&M", "^NSEI"]
        for bad in ("", "A B", "x" * 33, "\x00", "../etc"):
            with pytest.raises(ValidationError):
                await store.record_fetch(bad, ok=True)
        with pytest.raises(ValidationError):
            await store.record_fetch("AAPL", ok=1)  # type: ignore[arg-type]  # bad on purpose
        with pytest.raises(ValidationError):
            await store.update_analysis_check("AAPL", datetime(2025, 1, 1))
        with pytest.raises(ValidationError):
            await store.update_news_check("AAPL", "2025-01-01")  # type: ignore[arg-type]
        assert await store.delete("M&M") is True
        assert await store.delete("M&M") is False
        assert sorted(await store.all_states()) == ["BRK.B", "^NSEI"]


async def test_today_follows_the_zone(location: str) -> None:
    late = FakeClock(datetime(2025, 3, 14, 23, 30, tzinfo=timezone.utc))  # noqa: UP017
    async with StockStateStore(location, tz="Asia/Kolkata", clock=late) as store:
        assert store.today() == date(2025, 3, 15)
        await store.update_news_check("AAPL")
        assert (await store.get_state("AAPL")).last_news_check == date(2025, 3, 15)
    with pytest.raises(ValidationError):
        StockStateStore(location, tz="Mars/Olympus")


async def test_skip_invalid_and_ties_by_check_time(location: str, clock: FakeClock) -> None:
    async with StockStateStore(location, clock=clock) as store:
        await store.update_news_check("LATE", TODAY - timedelta(days=1))
        clock.advance(seconds=-60)
        await store.update_news_check("EARLY", TODAY - timedelta(days=1))
        mixed: list[Any] = ["LATE", "bad symbol!", "EARLY", 42, "NEW"]  # bad on purpose
        with pytest.raises(ValidationError):
            await store.get_stocks_needing_news(mixed)
        assert await store.get_stocks_needing_news(
            mixed, skip_invalid=True) == ["LATE", "EARLY", "NEW"]
        assert await store.get_oldest_news_stocks(
            mixed, skip_invalid=True) == ["NEW", "EARLY", "LATE"]
        assert await store.get_stocks_needing_earnings(["x y"], skip_invalid=True) == []
        with pytest.raises(ValidationError):
            await store.get_stocks_needing_fundamentals(
                ["A"], skip_invalid="yes")  # type: ignore[arg-type]  # bad on purpose
