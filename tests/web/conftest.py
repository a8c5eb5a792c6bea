"""Demo data for the dashboard tests, and apps over it driven by Starlette's TestClient."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from starlette.testclient import TestClient

from tradestore import (
    BackgroundTask,
    EarningsReport,
    FundamentalSnapshot,
    FundamentalStore,
    NewsItem,
    StockStateStore,
    StrategyLog,
    StrategyLogStore,
    TaskPriority,
    TaskStatus,
    TaskStore,
)
from tradestore.scheduler import Scheduler, Stores
from tradestore.web import create_app

T = TypeVar("T")
NOW = datetime(2026, 3, 20, 15, 30, tzinfo=UTC)
TODAY = NOW.date()
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
STRATEGY_DAYS = 40
"""Days of strategy logs the demo data holds (one a day up to today)."""


def clock() -> datetime:
    return NOW


def daily_pnl(i: int) -> float:
    """The P&L of the demo strategy ``i`` days before today."""
    return round(((i * 37) % 11 - 4) * 25.5, 2)


async def seed_async(data: Path, now: datetime = NOW) -> None:
    """Tasks in every status, 40 days of strategy logs, stocks of every data age."""
    fixed = lambda: now  # noqa: E731  # one clock for every store
    async with (
        TaskStore(data, clock=fixed) as tasks,
        StrategyLogStore(data, clock=fixed) as logs,
        StockStateStore(data, clock=fixed) as stocks,
        FundamentalStore(data, clock=fixed) as funda,
    ):
        await tasks.save_many([
            BackgroundTask(task_id="news", task_type="news_monitoring",
                           priority=TaskPriority.HIGH, execute_at=now - timedelta(hours=1),
                           interval_seconds=300, next_execution=now + timedelta(minutes=5),
                           last_executed=now - timedelta(minutes=1)),
            BackgroundTask(task_id="earnings", task_type="earnings_check",
                           priority=TaskPriority.MEDIUM, execute_at=now + timedelta(hours=2),
                           interval_seconds=3600),
            BackgroundTask(task_id="broken", task_type="portfolio_scan",
                           priority=TaskPriority.LOW, execute_at=now - timedelta(hours=3),
                           status=TaskStatus.FAILED, retry_count=4, max_retries=3,
                           last_executed=now - timedelta(hours=2),
                           last_error=f"RuntimeError: {XSS}", metadata={"note": XSS}),
            BackgroundTask(task_id="sleeping", task_type="news_monitoring",
                           priority=TaskPriority.LOW, execute_at=now, interval_seconds=60,
                           is_active=False),
        ])
        for i in range(STRATEGY_DAYS):
            await logs.add_log("momentum", StrategyLog(
                date=now.date() - timedelta(days=i), trades_executed=3, wins=2, losses=1,
                pnl_realized=daily_pnl(i), what_worked=[f"breakouts {XSS}"] if i == 0 else [],
            ))
        await stocks.update_news_check("AAPL", now.date())
        await stocks.update_earnings_check("AAPL", now.date() - timedelta(days=3))
        await stocks.update_fundamentals_check("AAPL", now.date() - timedelta(days=30))
        await stocks.record_fetch("MSFT", ok=False)
        await funda.save_news([NewsItem(symbol="AAPL", title=f"Apple {XSS}",
                                        url="https://news.example/aapl-1",
                                        published_at=now - timedelta(hours=2))])
        await funda.save_fundamentals(FundamentalSnapshot(
            symbol="AAPL", as_of=now.date() - timedelta(days=30), source="demo",
            fetched_at=now - timedelta(days=30), pe_ratio=25.0))
        await funda.save_earnings(EarningsReport(symbol="AAPL", fiscal_period="2026Q1",
                                                 report_date=date(2026, 2, 1)))


def seed(data: Path) -> None:
    """Write the demo data into ``data`` (then the stores are closed again)."""
    asyncio.run(seed_async(data))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    seed(data)
    return data


def stores_on(data: Path, *, read_only: bool) -> Stores:
    """Store objects, opened lazily by their first call (in the TestClient's event loop)."""
    return Stores(
        TaskStore(data, read_only=read_only, clock=clock),
        StockStateStore(data, read_only=read_only, clock=clock),
        StrategyLogStore(data, read_only=read_only, clock=clock),
        FundamentalStore(data, read_only=read_only, clock=clock),
    )


async def _close(stores: Stores) -> None:
    for store in (stores.tasks, stores.stocks, stores.strategy_logs, stores.fundamentals):
        await store.close()


def call(client: TestClient, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``fn(*args)`` in the client's event loop (where the app's stores live)."""
    assert client.portal is not None, "use the client as a context manager"
    return client.portal.call(fn, *args)


@contextlib.contextmanager
def client_for(
    data: Path, *, read_only: bool, scheduler: Callable[[Stores], Scheduler] | None = None,
    **options: Any,
) -> Iterator[tuple[TestClient, Stores]]:
    """A TestClient on the dashboard over ``data``; the stores are closed afterwards."""
    stores = stores_on(data, read_only=read_only)
    app = create_app(stores, scheduler=scheduler(stores) if scheduler else None, clock=clock,
                     **options)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        try:
            yield client, stores
        finally:
            call(client, _close, stores)
