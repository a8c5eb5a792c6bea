"""Time zones end to end: a bot on India time checks news at 01:00 local time.

With the default ``tz="UTC"`` that check is dated the previous day and the news
is fetched again later the same local day; with ``open_stores(..., tz=...)``
every store with a calendar day uses the bot's zone.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.stores.helpers import FakeClock
from tradestore import BackgroundTask, StrategyLog, TaskPriority, ValidationError
from tradestore.scheduler import HandlerContext, SimulatedMarket, open_stores
from tradestore.scheduler.handlers import handle_news

IST = ZoneInfo("Asia/Kolkata")
ONE_AM = dt.datetime(2025, 1, 2, 1, 0, tzinfo=IST)  # 2025-01-01 19:30 UTC
LATE_SAME_DAY = dt.datetime(2025, 1, 2, 23, 0, tzinfo=IST)
NEXT_DAY = dt.datetime(2025, 1, 3, 0, 30, tzinfo=IST)


async def test_a_news_check_at_1am_india_time_is_dated_that_local_day(tmp_path: Path) -> None:
    clock = FakeClock(ONE_AM.astimezone(dt.UTC))
    async with open_stores(tmp_path, durable=False, clock=clock, tz="Asia/Kolkata") as stores:
        assert stores.stocks.tz == IST
        assert stores.strategy_logs.tz == IST
        assert stores.fundamentals.tz == IST
        await stores.stocks.update_news_check("INFY")
        assert (await stores.stocks.get_state("INFY")).last_news_check == dt.date(2025, 1, 2)
        clock.now = LATE_SAME_DAY.astimezone(dt.UTC)
        assert await stores.stocks.get_stocks_needing_news(["INFY"]) == []
        clock.now = NEXT_DAY.astimezone(dt.UTC)
        assert await stores.stocks.get_stocks_needing_news(["INFY"]) == ["INFY"]


async def test_with_utc_the_same_check_is_refetched_the_same_local_day(tmp_path: Path) -> None:
    clock = FakeClock(ONE_AM.astimezone(dt.UTC))
    async with open_stores(tmp_path, durable=False, clock=clock) as stores:  # tz="UTC"
        await stores.stocks.update_news_check("INFY")
        assert (await stores.stocks.get_state("INFY")).last_news_check == dt.date(2025, 1, 1)
        clock.now = LATE_SAME_DAY.astimezone(dt.UTC)
        assert await stores.stocks.get_stocks_needing_news(["INFY"]) == ["INFY"]


async def test_todays_strategy_log_is_the_local_day(tmp_path: Path) -> None:
    clock = FakeClock(ONE_AM.astimezone(dt.UTC))
    async with open_stores(tmp_path, durable=False, clock=clock, tz="Asia/Kolkata") as stores:
        await stores.strategy_logs.add_log("swing", StrategyLog(date=dt.date(2025, 1, 2)))
        today = await stores.strategy_logs.get_today_log("swing")
        assert today is not None
        assert today.date == dt.date(2025, 1, 2)


async def test_the_news_handler_fetches_once_per_local_day(tmp_path: Path) -> None:
    clock = FakeClock(ONE_AM.astimezone(dt.UTC))
    task = BackgroundTask(task_id="news", task_type="news_monitoring",
                          priority=TaskPriority.HIGH, execute_at=clock.now)
    async with open_stores(tmp_path, durable=False, clock=clock, tz="Asia/Kolkata") as stores:
        ctx = stores.context(market=SimulatedMarket(seed=3), watchlist=["INFY", "TCS"],
                             clock=clock)
        assert isinstance(ctx, HandlerContext)
        first = await handle_news(task, ctx)
        assert first is not None
        assert sorted(first["fetched"]) == ["INFY", "TCS"]
        clock.now = LATE_SAME_DAY.astimezone(dt.UTC)
        again = await handle_news(task, ctx)
        assert again is not None
        assert again["fetched"] == []
        assert again["up_to_date"] == 2
        clock.now = NEXT_DAY.astimezone(dt.UTC)
        next_day = await handle_news(task, ctx)
        assert next_day is not None
        assert sorted(next_day["fetched"]) == ["INFY", "TCS"]


async def test_an_unknown_zone_is_refused_before_anything_opens(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        async with open_stores(tmp_path / "data", tz="Mars/Olympus"):
            pass
    assert info.value.field == "tz"
    assert not (tmp_path / "data").exists()
