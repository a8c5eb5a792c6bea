"""Built-in handlers that fetch data: news, earnings, fundamentals, and a health check.

Each one asks ``StockStateStore`` which symbols are due (``get_stocks_needing_*``),
takes the ``batch_size`` (task metadata, default 5) that were checked longest
ago (``get_oldest_*_stocks``), fetches them from ``ctx.market``, writes what it
got to ``FundamentalStore`` and stamps the check. A symbol whose fetch fails is
recorded (``record_fetch(ok=False)``) and skipped; the task itself fails (and
is retried) only when every chosen symbol failed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from tradestore import TaskStatus
from tradestore.scheduler.context import HandlerContext
from tradestore.scheduler.market import MarketDataError

if TYPE_CHECKING:
    from tradestore import BackgroundTask, StockStateStore

__all__ = [
    "fetch_each",
    "handle_earnings",
    "handle_fundamentals",
    "handle_health_check",
    "handle_news",
]

logger = logging.getLogger(__name__)

NEWS_LOOKBACK = timedelta(days=3)
"""How far back the first news fetch of a symbol reaches."""
MATERIAL_BAD_NEWS = -0.5
"""Material news at or below this sentiment flags the symbol's fundamentals for a recheck."""


def batch_size(task: BackgroundTask, default: int = 5) -> int:
    """The task's ``metadata["batch_size"]`` (at least 1), else ``default``."""
    value = task.metadata.get("batch_size", default)
    return max(1, int(value)) if isinstance(value, int | float) else default


async def fetch_each(
    stocks: StockStateStore,
    symbols: Sequence[str],
    fetch: Callable[[str], Awaitable[Any]],
    *,
    what: str,
) -> dict[str, Any]:
    """Run ``fetch`` for each symbol, recording every outcome with ``record_fetch``.

    Returns ``{symbol: result}`` for the symbols that worked; raises
    ``MarketDataError`` when there were symbols and none worked.
    """
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for symbol in symbols:
        try:
            results[symbol] = await fetch(symbol)
        except Exception as exc:  # one symbol's failure must not stop the others
            logger.warning("%s fetch for %s failed: %s", what, symbol, exc)
            errors[symbol] = f"{type(exc).__name__}: {exc}"
            await stocks.record_fetch(symbol, ok=False)
        else:
            await stocks.record_fetch(symbol, ok=True)
    if symbols and not results:
        detail = "; ".join(f"{s}: {e}" for s, e in errors.items())
        raise MarketDataError(f"{what} fetch failed for every symbol ({detail})")
    return results


async def handle_news(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    """Fetch news since each symbol's last check; flag material bad news for a recheck."""
    stocks = ctx.require(ctx.stocks, "stocks")
    store = ctx.require(ctx.fundamentals, "fundamentals")
    market = ctx.require(ctx.market, "market")
    symbols = ctx.symbols_for(task)
    due = await stocks.get_stocks_needing_news(symbols, skip_invalid=True)  # logged
    chosen = await stocks.get_oldest_news_stocks(due, limit=batch_size(task))
    now = ctx.now()

    async def fetch(symbol: str) -> int:
        state = await stocks.get_state(symbol)
        since = now - NEWS_LOOKBACK
        if state.last_news_check is not None:
            # The check's local midnight, in the stores' zone.
            since = max(since, datetime.combine(state.last_news_check, time(), stocks.tz))
        items = await market.get_news(symbol, since, now)
        added = await store.save_news(items)
        await stocks.update_news_check(symbol)
        if any(i.is_material and (i.sentiment or 0.0) <= MATERIAL_BAD_NEWS for i in items):
            await stocks.flag_fundamentals_recheck(symbol)
        return added

    added = await fetch_each(stocks, chosen, fetch, what="news")
    return {
        "fetched": list(added),
        "new_items": sum(added.values()),
        "up_to_date": len(symbols) - len(due),
        "failed": [s for s in chosen if s not in added],
    }


async def handle_earnings(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    """Fetch recent earnings reports; a newly published one flags fundamentals for a recheck."""
    stocks = ctx.require(ctx.stocks, "stocks")
    store = ctx.require(ctx.fundamentals, "fundamentals")
    market = ctx.require(ctx.market, "market")
    symbols = ctx.symbols_for(task)
    due = await stocks.get_stocks_needing_earnings(symbols, skip_invalid=True)  # logged
    chosen = await stocks.get_oldest_earnings_stocks(due, limit=batch_size(task))
    today = ctx.now().astimezone(stocks.tz).date()  # the date in the stores' zone

    async def fetch(symbol: str) -> str | None:
        before = await store.get_latest_earnings(symbol)
        reports = await market.get_earnings(symbol, today)
        for report in reports:
            await store.save_earnings(report)
        await stocks.update_earnings_check(symbol)
        latest = reports[-1] if reports else None
        if latest is not None and (before is None or latest.report_date > before.report_date):
            await stocks.flag_fundamentals_recheck(symbol)
        return latest.fiscal_period if latest is not None else None

    periods = await fetch_each(stocks, chosen, fetch, what="earnings")
    return {
        "fetched": periods,
        "up_to_date": len(symbols) - len(due),
        "failed": [s for s in chosen if s not in periods],
    }


async def handle_fundamentals(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    """Fetch a fundamentals snapshot for symbols never checked, flagged, or checked too long ago."""
    stocks = ctx.require(ctx.stocks, "stocks")
    store = ctx.require(ctx.fundamentals, "fundamentals")
    market = ctx.require(ctx.market, "market")
    symbols = ctx.symbols_for(task)
    due = await stocks.get_stocks_needing_fundamentals(symbols, skip_invalid=True)  # logged
    chosen = await stocks.get_oldest_fundamentals_stocks(due, limit=batch_size(task))
    now = ctx.now()

    async def fetch(symbol: str) -> float | None:
        snapshot = await market.get_fundamentals(symbol, now)
        await store.save_fundamentals(snapshot)
        await stocks.update_fundamentals_check(symbol)
        return snapshot.pe_ratio

    pe = await fetch_each(stocks, chosen, fetch, what="fundamentals")
    return {
        "fetched": list(pe),
        "up_to_date": len(symbols) - len(due),
        "failed": [s for s in chosen if s not in pe],
    }


async def handle_health_check(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    """Count the active tasks by status and name those that FAILED for good."""
    tasks = ctx.require(ctx.tasks, "tasks")
    counts: dict[str, int] = {}
    failed: list[str] = []
    for other in await tasks.list_tasks(active_only=True):
        counts[str(other.status)] = counts.get(str(other.status), 0) + 1
        if other.status == TaskStatus.FAILED:
            failed.append(other.task_id)
    return {"tasks": counts, "failed": failed}
