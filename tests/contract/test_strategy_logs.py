"""StrategyLogStore on both backends: merge rules, period queries, summaries, prune."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from tests.stores.helpers import T0, FakeClock
from tradestore import (
    PerformanceSummary,
    StoreError,
    StrategyLog,
    StrategyLogStore,
    ValidationError,
)

TODAY = T0.date()


def log(day: date = TODAY, **fields: object) -> StrategyLog:
    return StrategyLog(date=day, **fields)  # type: ignore[arg-type]  # test data


async def test_add_log_merges_by_the_contract(location: str, clock: FakeClock) -> None:
    async with StrategyLogStore(location, clock=clock) as store:
        first = await store.add_log("momentum", log(
            what_worked=["a", "b", "a"], what_didnt_work=["x"], tomorrows_focus=["f1"],
            market_observations=["o\x00nul"], trades_executed=3, wins=2, losses=1,
            pnl_realized=0.1, token_usage={"gpt": 10}, metadata={"k": 1, "keep": True}))
        assert first.created_at == T0
        assert first.what_worked == ["a", "b"]
        clock.advance(hours=1)
        merged = await store.add_log("momentum", log(
            what_worked=["b", "c"], tomorrows_focus=["f2"], market_observations=["o\x00nul"],
            trades_executed=2, wins=1, pnl_realized=0.2, token_usage={"gpt": 5, "claude": 1},
            metadata={"k": 2}))
    expected = StrategyLog(
        date=TODAY, strategy_type="momentum", what_worked=["a", "b", "c"],
        what_didnt_work=["x"], tomorrows_focus=["f2"], market_observations=["o\x00nul"],
        trades_executed=5, wins=3, losses=1, pnl_realized=0.1 + 0.2,
        token_usage={"gpt": 15, "claude": 1}, metadata={"k": 2, "keep": True},
        created_at=T0, updated_at=T0 + timedelta(hours=1))
    assert merged == expected
    async with StrategyLogStore(location, read_only=True, clock=clock) as store:
        assert await store.get_log("momentum", TODAY) == expected
        assert await store.get_today_log("momentum") == expected
        assert await store.get_log("momentum", TODAY - timedelta(days=1)) is None
        assert await store.get_log("other", TODAY) is None
        with pytest.raises(StoreError):
            await store.add_log("momentum", log())


async def test_concurrent_adds_of_one_day_all_count(location: str) -> None:
    async with StrategyLogStore(location) as store:
        await asyncio.gather(*(store.add_log("s", log(trades_executed=1, what_worked=[f"w{i % 3}"]))
                               for i in range(30)))
        got = await store.get_log("s", TODAY)
    assert got is not None
    assert got.trades_executed == 30
    assert sorted(got.what_worked) == ["w0", "w1", "w2"]


async def test_periods_summaries_insights_prune(location: str, clock: FakeClock) -> None:
    async with StrategyLogStore(location, clock=clock) as store:
        for back in range(40):
            day = TODAY - timedelta(days=back)
            await store.add_log("swing", log(day, trades_executed=2, wins=1, losses=1,
                                             pnl_realized=1.5, what_worked=[f"w{back % 7}", "all"],
                                             what_didnt_work=["bad"] if back % 2 else [],
                                             tomorrows_focus=[f"focus{back}"]))
        await store.add_log("alpha", log(TODAY - timedelta(days=100)))
        period = await store.get_logs_for_period("swing", TODAY - timedelta(days=4), TODAY)
        assert [p.date for p in period] == [TODAY - timedelta(days=b) for b in range(4, -1, -1)]
        recent = await store.get_recent_logs("swing", days=30)
        assert len(recent) == 31
        assert recent[0].date == TODAY - timedelta(days=30)
        summary = await store.get_performance_summary("swing", days=9)
        assert summary == PerformanceSummary(period_days=9, total_logs=10, total_trades=20,
                                             total_wins=10, total_losses=10, win_rate=50.0,
                                             total_pnl=15.0, avg_pnl_per_trade=0.75)
        assert await store.get_performance_summary("nobody") == PerformanceSummary(period_days=30)
        insights = await store.get_insights("swing", days=6)
        assert insights["period_days"] == 6
        assert insights["top_working_strategies"][0] == "all"
        assert insights["top_failing_approaches"] == ["bad"]
        assert insights["most_recent_focus"] == ["focus0"]
        assert await store.strategy_types() == ["alpha", "swing"]
        assert await store.prune(TODAY - timedelta(days=35)) == 4 + 1
        assert await store.strategy_types() == ["swing"]
        assert len(await store.get_logs_for_period("swing", date(1970, 1, 1), TODAY)) == 36
        with pytest.raises(ValidationError):
            await store.get_logs_for_period("swing", TODAY, TODAY - timedelta(days=1))
        with pytest.raises(ValidationError):
            await store.get_recent_logs("swing", days=-1)
        with pytest.raises(ValidationError):
            await store.add_log("bad name", log())
        with pytest.raises(ValidationError):
            await store.add_log("swing", log(strategy_type="other"))
        with pytest.raises(ValidationError):
            await store.add_log("swing", log(pnl_realized=float("nan")))
        with pytest.raises(ValidationError):
            await store.add_log("swing", log(wins=-1))
        assert len(await store.get_logs_for_period("swing", date(1970, 1, 1), TODAY)) == 36


async def test_last_logs_newest_first(location: str) -> None:
    async with StrategyLogStore(location) as store:
        for day in (date(2024, 1, 5), date(2025, 2, 1), date(2024, 12, 31), date(2025, 3, 1)):
            await store.add_log("s", log(day))
        assert [x.date for x in await store.get_last_logs("s", 3)] == [
            date(2025, 3, 1), date(2025, 2, 1), date(2024, 12, 31)]
        assert await store.get_last_logs("s", 0) == []
        assert len(await store.get_last_logs("s", 99)) == 4
        assert await store.get_last_logs("nobody", 3) == []
        with pytest.raises(ValidationError):
            await store.get_last_logs("s", -1)
