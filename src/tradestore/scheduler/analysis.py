"""Built-in handlers that think: deep analysis, portfolio scan, and the daily strategy log.

They read what the fetching handlers stored (``FundamentalStore``) plus prices
from ``ctx.market``, and write analyses and one log per strategy per day.
The scoring is deliberately simple and transparent: it stands in for the
user's own models, which plug in as handlers of the same task types.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tradestore import FundamentalAnalysis, StrategyLog
from tradestore.scheduler.context import HandlerContext
from tradestore.scheduler.handlers import batch_size, fetch_each

if TYPE_CHECKING:
    from tradestore import BackgroundTask, EarningsReport, FundamentalSnapshot, NewsItem

__all__ = [
    "DEFAULT_STRATEGIES",
    "handle_deep_analysis",
    "handle_portfolio_scan",
    "handle_strategy_log",
    "score_symbol",
]

DEFAULT_STRATEGIES = ("momentum", "mean_reversion")
ANALYSIS_MAX_AGE = timedelta(hours=24)
"""A symbol analysed more recently than this is skipped (task metadata ``max_age_hours``)."""
BIG_MOVE = 0.05
"""A daily move at least this large flags the symbol's fundamentals for a recheck."""
_NOTIONAL = 10_000.0


def _clip(value: float) -> float:
    return max(0.0, min(1.0, value))


def score_symbol(
    snapshot: FundamentalSnapshot,
    earnings: list[EarningsReport],
    news: list[NewsItem],
    closes: list[float],
) -> tuple[dict[str, float], float]:
    """Scores in [0, 1] per aspect (higher is better) and their mean."""
    scores: dict[str, float] = {}
    if snapshot.pe_ratio is not None and snapshot.pe_ratio > 0:
        scores["value"] = _clip(1.0 - (snapshot.pe_ratio - 10.0) / 40.0)
    if snapshot.revenue_growth is not None:
        scores["growth"] = _clip(0.5 + snapshot.revenue_growth * 2.5)
    if snapshot.roe is not None and snapshot.profit_margin is not None:
        scores["quality"] = _clip(snapshot.roe * 1.5 + snapshot.profit_margin)
    if len(closes) >= 2 and closes[0] > 0:
        scores["momentum"] = _clip(0.5 + (closes[-1] / closes[0] - 1.0) * 2.0)
    sentiments = [n.sentiment for n in news if n.sentiment is not None]
    if sentiments:
        scores["sentiment"] = _clip(0.5 + statistics.fmean(sentiments) / 2.0)
    last = earnings[-1] if earnings else None
    if last is not None and last.eps_actual is not None and last.eps_estimate:
        surprise = last.eps_actual / last.eps_estimate - 1.0
        scores["earnings_surprise"] = _clip(0.5 + surprise * 2.5)
    scores = {k: round(v, 4) for k, v in scores.items()}
    return scores, (statistics.fmean(scores.values()) if scores else 0.5)


async def handle_deep_analysis(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    """Score the symbols analysed longest ago from stored fundamentals, earnings and news."""
    stocks = ctx.require(ctx.stocks, "stocks")
    store = ctx.require(ctx.fundamentals, "fundamentals")
    market = ctx.require(ctx.market, "market")
    now = ctx.now()
    hours = task.metadata.get("max_age_hours")
    max_age = timedelta(hours=hours) if isinstance(hours, int | float) else ANALYSIS_MAX_AGE
    last_checks = {
        s: (await stocks.get_state(s)).last_analysis_check for s in ctx.symbols_for(task)
    }
    due = [s for s, at in last_checks.items() if at is None or now - at >= max_age]
    due.sort(key=lambda s: (last_checks[s] is not None, last_checks[s] or now))  # never first
    chosen = due[: batch_size(task)]

    async def analyse(symbol: str) -> str:
        snapshot = await store.get_latest_fundamentals(symbol)
        if snapshot is None:  # nothing fetched yet: fetch now rather than guess
            snapshot = await market.get_fundamentals(symbol, now)
            await store.save_fundamentals(snapshot)
            await stocks.update_fundamentals_check(symbol)
        earnings = await store.get_earnings_history(symbol)
        news = await store.get_news(symbol, since=now - timedelta(days=7))
        closes = await market.get_daily_closes(symbol, now.date(), 60)
        scores, overall = score_symbol(snapshot, earnings, news, closes)
        recommendation = "buy" if overall >= 0.6 else "sell" if overall <= 0.4 else "hold"
        fair_value = None
        if snapshot.eps is not None and snapshot.eps > 0:
            fair_pe = 15.0 * (1.0 + max(-0.5, snapshot.revenue_growth or 0.0))
            fair_value = round(snapshot.eps * fair_pe, 2)
        await store.save_analysis(
            FundamentalAnalysis(
                symbol=symbol,
                analyzed_at=now,
                recommendation=recommendation,
                confidence=round(_clip(abs(overall - 0.5) * 2.0), 4),
                fair_value=fair_value,
                summary=f"{symbol}: {recommendation}, score {overall:.2f} on {len(scores)} aspects",
                scores=scores,
                extra={"as_of": snapshot.as_of.isoformat(), "news_items": len(news)},
            )
        )
        await stocks.update_analysis_check(symbol, now)
        return recommendation

    recommendations = await fetch_each(stocks, chosen, analyse, what="analysis")
    return {"recommendations": recommendations, "up_to_date": len(last_checks) - len(due)}


async def handle_portfolio_scan(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    """Price every watched symbol; a big daily move flags its fundamentals for a recheck."""
    stocks = ctx.require(ctx.stocks, "stocks")
    market = ctx.require(ctx.market, "market")
    now = ctx.now()
    alerts: list[str] = []

    async def scan(symbol: str) -> float:
        price = await market.get_price(symbol, now)
        previous = (await market.get_daily_closes(symbol, now.date() - timedelta(days=1), 1))[0]
        move = price / previous - 1.0 if previous > 0 else 0.0
        if abs(move) >= BIG_MOVE:
            alerts.append(f"{symbol} {move:+.1%}")
            await stocks.flag_fundamentals_recheck(symbol)
        await stocks.update_portfolio_update(symbol, now)
        return price

    prices = await fetch_each(stocks, ctx.symbols_for(task), scan, what="price")
    return {"prices": prices, "alerts": alerts}


def _trade(strategy: str, closes: list[float]) -> float | None:
    """Yesterday's signal held over today: the return, or None when the strategy stays out."""
    entry, exit_, history = closes[-2], closes[-1], closes[-7:-2]
    mean = statistics.fmean(history)
    if strategy == "momentum":
        side = 1.0 if entry > mean else -1.0
    elif strategy == "mean_reversion":
        gap = entry / mean - 1.0
        if abs(gap) < 0.02:
            return None
        side = -1.0 if gap > 0 else 1.0
    else:
        return None
    return side * (exit_ / entry - 1.0)


async def handle_strategy_log(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    """Write today's log for each strategy (``metadata["strategies"]``), once a day.

    A simulated day of paper trades on the watchlist: each strategy's signal
    from the previous closes, held for one day. A strategy already logged today
    is skipped, since ``add_log`` sums counts into an existing log.
    """
    logs = ctx.require(ctx.strategy_logs, "strategy_logs")
    market = ctx.require(ctx.market, "market")
    names = task.metadata.get("strategies")
    strategies = [str(n) for n in names] if isinstance(names, list) else list(DEFAULT_STRATEGIES)
    today = ctx.now().astimezone(logs.tz).date()  # the date in the store's zone
    symbols = ctx.symbols_for(task)
    closes = {s: await market.get_daily_closes(s, today, 8) for s in symbols}
    moves = {s: c[-1] / c[-2] - 1.0 for s, c in closes.items()}
    written: dict[str, float] = {}
    for strategy in strategies:
        if await logs.get_log(strategy, today) is not None:
            continue
        results = {s: r for s in symbols if (r := _trade(strategy, closes[s])) is not None}
        winners = sorted((s for s in results if results[s] > 0), key=lambda s: -results[s])
        losers = sorted((s for s in results if results[s] <= 0), key=lambda s: results[s])
        pnl = round(sum(results.values()) * _NOTIONAL, 2)
        log = StrategyLog(
            date=today,
            strategy_type=strategy,
            what_worked=[f"{s} {results[s]:+.2%}" for s in winners[:3]],
            what_didnt_work=[f"{s} {results[s]:+.2%}" for s in losers[:3]],
            tomorrows_focus=sorted(symbols, key=lambda s: -abs(moves[s]))[:3],
            market_observations=[
                f"{s} {'up' if moves[s] >= 0 else 'down'} {abs(moves[s]):.2%}" for s in symbols
            ],
            trades_executed=len(results),
            wins=len(winners),
            losses=len(losers),
            pnl_realized=pnl,
            metadata={"source": "scheduler", "task_id": task.task_id},
        )
        await logs.add_log(strategy, log)
        written[strategy] = pnl
    return {"logged": written, "already_logged": [s for s in strategies if s not in written]}
