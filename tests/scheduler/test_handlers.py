"""The built-in handlers on real stores and the simulated market."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tradestore import BackgroundTask, EarningsReport, FundamentalSnapshot, NewsItem, TaskStatus
from tradestore.scheduler import (
    HandlerContext,
    MarketDataError,
    MarketDataSource,
    Scheduler,
    SimulatedMarket,
    Stores,
    default_handlers,
    default_tasks,
    handle_deep_analysis,
    handle_earnings,
    handle_fundamentals,
    handle_news,
    handle_portfolio_scan,
    handle_strategy_log,
    open_stores,
)

from .helpers import START, FakeClock, make_task

WATCHLIST = ("AAPL", "MSFT", "NVDA")


@pytest.fixture
async def stores(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Stores]:
    async with open_stores(tmp_path / "data", durable=False, clock=clock) as opened:
        yield opened


@pytest.fixture
def ctx(stores: Stores, clock: FakeClock) -> HandlerContext:
    return stores.context(market=SimulatedMarket(seed=1), watchlist=WATCHLIST, clock=clock)


def task(task_type: str, **metadata: Any) -> BackgroundTask:
    return make_task(f"t-{task_type}", task_type, metadata=metadata)


async def test_news_is_fetched_once_a_day_per_symbol(
    stores: Stores, ctx: HandlerContext, clock: FakeClock
) -> None:
    first = await handle_news(task("news_monitoring"), ctx)
    assert first["fetched"] == list(WATCHLIST)
    assert first["new_items"] == len(await stores.fundamentals.get_news())
    for symbol in WATCHLIST:
        assert (await stores.stocks.get_state(symbol)).last_news_check == START.date()
    clock.advance(3600)
    again = await handle_news(task("news_monitoring"), ctx)
    assert again["fetched"] == []
    assert again["up_to_date"] == len(WATCHLIST)
    clock.advance(86400)
    assert (await handle_news(task("news_monitoring"), ctx))["fetched"] == list(WATCHLIST)


async def test_batch_size_takes_the_symbols_checked_longest_ago(
    stores: Stores, ctx: HandlerContext, clock: FakeClock
) -> None:
    await stores.stocks.update_fundamentals_check("AAPL", START.date() - timedelta(days=30))
    await stores.stocks.update_fundamentals_check("MSFT", START.date() - timedelta(days=60))
    result = await handle_fundamentals(task("fundamental_monitoring", batch_size=2), ctx)
    assert result["fetched"] == ["NVDA", "MSFT"]  # never checked first, then the oldest
    snapshot = await stores.fundamentals.get_latest_fundamentals("NVDA")
    assert snapshot is not None
    assert snapshot.as_of == START.date()


async def test_a_flagged_symbol_is_refetched(stores: Stores, ctx: HandlerContext) -> None:
    await handle_fundamentals(task("fundamental_monitoring"), ctx)
    assert (await handle_fundamentals(task("fundamental_monitoring"), ctx))["fetched"] == []
    await stores.stocks.flag_fundamentals_recheck("MSFT")
    assert (await handle_fundamentals(task("fundamental_monitoring"), ctx))["fetched"] == ["MSFT"]


async def test_earnings_are_stored_and_not_refetched_within_the_interval(
    stores: Stores, ctx: HandlerContext
) -> None:
    result = await handle_earnings(task("earnings_check"), ctx)
    assert set(result["fetched"]) == set(WATCHLIST)
    history = await stores.fundamentals.get_earnings_history("AAPL")
    assert len(history) == 4
    assert all(r.report_date <= START.date() for r in history)
    assert (await handle_earnings(task("earnings_check"), ctx))["fetched"] == {}


class BrokenFor:
    """A simulated market whose fetches fail for some symbols."""

    def __init__(self, *broken: str) -> None:
        self.inner = SimulatedMarket(seed=3)
        self.broken = set(broken)
        self.name = "broken"

    def _check(self, symbol: str) -> None:
        if symbol in self.broken:
            raise MarketDataError(f"feed down for {symbol}", symbol=symbol)

    async def get_price(self, symbol: str, at: datetime) -> float:
        self._check(symbol)
        return await self.inner.get_price(symbol, at)

    async def get_daily_closes(self, symbol: str, end: date, days: int) -> list[float]:
        self._check(symbol)
        return await self.inner.get_daily_closes(symbol, end, days)

    async def get_fundamentals(self, symbol: str, at: datetime) -> FundamentalSnapshot:
        self._check(symbol)
        return await self.inner.get_fundamentals(symbol, at)

    async def get_earnings(self, symbol: str, as_of: date) -> list[EarningsReport]:
        self._check(symbol)
        return await self.inner.get_earnings(symbol, as_of)

    async def get_news(self, symbol: str, since: datetime, until: datetime) -> list[NewsItem]:
        self._check(symbol)
        return await self.inner.get_news(symbol, since, until)


async def test_one_failing_symbol_is_recorded_and_the_rest_are_fetched(
    stores: Stores, clock: FakeClock
) -> None:
    market: MarketDataSource = BrokenFor("MSFT")
    ctx = stores.context(market=market, watchlist=WATCHLIST, clock=clock)
    result = await handle_news(task("news_monitoring"), ctx)
    assert result["fetched"] == ["AAPL", "NVDA"]
    assert result["failed"] == ["MSFT"]
    msft = await stores.stocks.get_state("MSFT")
    assert (msft.fetch_count, msft.error_count, msft.last_news_check) == (1, 1, None)
    aapl = await stores.stocks.get_state("AAPL")
    assert (aapl.fetch_count, aapl.error_count) == (1, 0)


async def test_a_task_where_every_symbol_fails_is_retried(stores: Stores, clock: FakeClock) -> None:
    ctx = stores.context(market=BrokenFor(*WATCHLIST), watchlist=WATCHLIST, clock=clock)
    await stores.tasks.save(make_task("news", "news_monitoring", interval_seconds=300))
    sched = Scheduler(stores.tasks, handlers=default_handlers(), context=ctx, backoff_base=7)
    await sched.run_once()
    news = await stores.tasks.get("news")
    assert news is not None
    assert news.status == TaskStatus.PENDING
    assert news.retry_count == 1
    assert news.last_error is not None
    assert "MarketDataError" in news.last_error
    assert news.next_execution == START + timedelta(seconds=7)


async def test_deep_analysis_writes_a_recommendation_once_a_day(
    stores: Stores, ctx: HandlerContext, clock: FakeClock
) -> None:
    result = await handle_deep_analysis(task("deep_fundamental_analysis"), ctx)
    assert set(result["recommendations"]) == set(WATCHLIST)
    analysis = await stores.fundamentals.get_latest_analysis("AAPL")
    assert analysis is not None
    assert analysis.recommendation in {"buy", "hold", "sell"}
    assert 0.0 <= analysis.confidence <= 1.0
    assert analysis.analyzed_at == START
    assert (await stores.stocks.get_state("AAPL")).last_analysis_check == START
    clock.advance(3600)
    assert (await handle_deep_analysis(task("deep_fundamental_analysis"), ctx))[
        "recommendations"
    ] == {}


async def test_portfolio_scan_prices_every_symbol(stores: Stores, ctx: HandlerContext) -> None:
    result = await handle_portfolio_scan(task("portfolio_scan"), ctx)
    assert set(result["prices"]) == set(WATCHLIST)
    assert all(price > 0 for price in result["prices"].values())
    assert (await stores.stocks.get_state("NVDA")).last_portfolio_update == START


async def test_strategy_log_is_written_once_per_strategy_per_day(
    stores: Stores, ctx: HandlerContext, clock: FakeClock
) -> None:
    first = await handle_strategy_log(task("strategy_log"), ctx)
    assert set(first["logged"]) == {"momentum", "mean_reversion"}
    log = await stores.strategy_logs.get_log("momentum", START.date())
    assert log is not None
    assert log.trades_executed == len(WATCHLIST)  # momentum always takes a side
    assert log.wins + log.losses == log.trades_executed
    assert log.pnl_realized == first["logged"]["momentum"]
    clock.advance(3600)
    again = await handle_strategy_log(task("strategy_log"), ctx)
    assert again["logged"] == {}
    same = await stores.strategy_logs.get_log("momentum", START.date())
    assert same is not None
    assert same.trades_executed == log.trades_executed


async def test_the_default_tasks_all_succeed_on_the_simulated_market(
    stores: Stores, ctx: HandlerContext
) -> None:
    await stores.tasks.save_many(default_tasks(START))
    sched = Scheduler(stores.tasks, handlers=default_handlers(), context=ctx)
    stats = await sched.run_once()
    assert stats.failed == stats.retried == 0
    assert stats.succeeded == len(default_tasks(START))
    for stored in await stores.tasks.list_tasks():
        assert stored.status == TaskStatus.PENDING  # all recurring
        assert stored.last_error is None
        assert stored.next_execution is not None
        assert stored.next_execution > START


async def test_a_handler_missing_a_store_fails_with_a_clear_error(
    stores: Stores, clock: FakeClock
) -> None:
    await stores.tasks.save(make_task("news", "news_monitoring", max_retries=0))
    sched = Scheduler(stores.tasks, handlers=default_handlers(), clock=clock)
    await sched.run_once()
    news = await stores.tasks.get("news")
    assert news is not None
    assert news.status == TaskStatus.FAILED
    assert news.last_error is not None
    assert "'stocks'" in news.last_error


async def test_simulated_market_is_deterministic_whatever_the_call_order() -> None:
    a, b, other = SimulatedMarket(seed=5), SimulatedMarket(seed=5), SimulatedMarket(seed=6)
    await b.get_daily_closes("AAPL", date(2021, 6, 1), 3)  # warm b differently
    day = START.date()
    assert await a.get_daily_closes("AAPL", day, 30) == await b.get_daily_closes("AAPL", day, 30)
    assert await a.get_price("AAPL", START) == await b.get_price("AAPL", START)
    assert await a.get_fundamentals("AAPL", START) == await b.get_fundamentals("AAPL", START)
    since = START - timedelta(days=10)
    assert await a.get_news("AAPL", since, START) == await b.get_news("AAPL", since, START)
    assert await a.get_daily_closes("AAPL", day, 30) != await other.get_daily_closes(
        "AAPL", day, 30
    )


async def test_simulated_news_is_in_the_window_and_newest_first() -> None:
    market = SimulatedMarket(seed=2)
    since = START - timedelta(days=20)
    items = await market.get_news("MSFT", since, START)
    assert items
    assert all(since <= i.published_at <= START for i in items)
    assert [i.published_at for i in items] == sorted((i.published_at for i in items), reverse=True)
    assert all(i.sentiment is not None and -1 <= i.sentiment <= 1 for i in items)


def test_simulated_market_satisfies_the_protocol() -> None:
    assert isinstance(SimulatedMarket(), MarketDataSource)
