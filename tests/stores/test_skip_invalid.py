"""One bad symbol in a portfolio: strict by default, skipped and reported on request."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from tests.stores.helpers import FakeClock
from tradestore import (
    BackgroundTask,
    StockStateStore,
    TaskPriority,
    ValidationError,
    is_valid_symbol,
)
from tradestore.models import split_symbols
from tradestore.scheduler import SimulatedMarket, open_stores
from tradestore.scheduler.handlers import handle_news

PORTFOLIO = ["INFY", "NIFTY 50", "tcs", "", "HDFCBANK"]


def test_is_valid_symbol() -> None:
    for good in ("INFY", "infy", " BRK.B ", "M&M", "^NSEI", "EURUSD=X"):
        assert is_valid_symbol(good), good
    for bad in ("NIFTY 50", "", "   ", "..", "A" * 33, None, 7, b"INFY"):
        assert not is_valid_symbol(bad), bad


def test_split_symbols_keeps_order_and_the_invalid_entries_as_given() -> None:
    assert split_symbols(PORTFOLIO) == (["INFY", "TCS", "HDFCBANK"], ["NIFTY 50", ""])
    with pytest.raises(ValidationError):
        split_symbols("INFY")


@pytest.mark.parametrize("kind", ["news", "earnings", "fundamentals"])
async def test_batch_queries_are_strict_by_default(tmp_path: Path, kind: str) -> None:
    async with StockStateStore(tmp_path, durable=False) as store:
        with pytest.raises(ValidationError) as info:
            await getattr(store, f"get_stocks_needing_{kind}")(PORTFOLIO)
        assert "NIFTY 50" in info.value.message
        with pytest.raises(ValidationError):
            await getattr(store, f"get_oldest_{kind}_stocks")(PORTFOLIO)


@pytest.mark.parametrize("kind", ["news", "earnings", "fundamentals"])
async def test_skip_invalid_leaves_them_out_and_logs_them(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    async with StockStateStore(tmp_path, durable=False, clock=clock) as store:
        await getattr(store, f"update_{kind}_check")("INFY")
        with caplog.at_level(logging.WARNING, logger="tradestore"):
            needing = await getattr(store, f"get_stocks_needing_{kind}")(PORTFOLIO,
                                                                        skip_invalid=True)
            oldest = await getattr(store, f"get_oldest_{kind}_stocks")(PORTFOLIO, limit=None,
                                                                      skip_invalid=True)
    assert needing == ["TCS", "HDFCBANK"]
    assert oldest == ["TCS", "HDFCBANK", "INFY"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["skipped 2 invalid symbol(s): 'NIFTY 50', ''"] * 2


async def test_skip_invalid_still_refuses_a_non_iterable(tmp_path: Path) -> None:
    async with StockStateStore(tmp_path, durable=False) as store:
        with pytest.raises(ValidationError):
            await store.get_stocks_needing_news("INFY", skip_invalid=True)
        with pytest.raises(ValidationError):
            await store.get_stocks_needing_news(["INFY"], skip_invalid="yes")  # type: ignore[arg-type]  # not a bool


async def test_news_handler_fetches_the_valid_symbols_of_a_bad_watchlist(
    tmp_path: Path,
) -> None:
    clock = FakeClock(dt.datetime(2025, 1, 2, 4, 0, tzinfo=dt.UTC))
    task = BackgroundTask(task_id="news", task_type="news_monitoring",
                          priority=TaskPriority.HIGH, execute_at=clock.now)
    async with open_stores(tmp_path, durable=False, clock=clock) as stores:
        ctx = stores.context(market=SimulatedMarket(seed=1), watchlist=PORTFOLIO, clock=clock)
        result = await handle_news(task, ctx)
    assert result is not None
    assert sorted(result["fetched"]) == ["HDFCBANK", "INFY", "TCS"]
