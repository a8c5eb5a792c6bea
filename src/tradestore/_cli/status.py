"""The tables of ``tradestore status``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rich.table import Table

from tradestore import BackgroundTask, RunOutcome, TaskStatus
from tradestore._cli.common import format_when
from tradestore.scheduler import Stores

__all__ = ["FRESH_FOR", "SEEN_WITHIN", "schedulers_table", "status_tables"]

FRESH_FOR = timedelta(days=1)
"""A fundamentals snapshot fetched longer ago than this is shown as stale."""
SEEN_WITHIN = timedelta(days=1)
"""Schedulers whose last heartbeat is older than this are left out of the table."""

_OUTCOME_STYLE = {
    RunOutcome.SUCCEEDED: "green",
    RunOutcome.RETRY: "yellow",
    RunOutcome.FAILED: "bold red",
    RunOutcome.CANCELLED: "magenta",
    RunOutcome.CRASHED: "red",
}

_STATUS_STYLE = {
    TaskStatus.PENDING: "cyan",
    TaskStatus.RUNNING: "yellow",
    TaskStatus.SUCCEEDED: "green",
    TaskStatus.FAILED: "bold red",
}


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else "never"


def _short(text: str | None, width: int = 60) -> str:
    if not text:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def _last_outcome(task: BackgroundTask) -> str:
    """The newest run of the task's history: ``succeeded in 0.4s``."""
    if not task.history:
        return "-"
    run = task.history[-1]
    return f"[{_OUTCOME_STYLE.get(run.outcome, '')}]{run.outcome}[/] in {run.duration_seconds:.1f}s"


def _holder(task: BackgroundTask, now: datetime) -> str:
    """Which scheduler holds a running task, and until when."""
    if task.status != TaskStatus.RUNNING or task.lease_owner is None:
        return ""
    until = format_when(task.lease_expires_at, now)
    return f" by {task.lease_owner}" + (f" (lease {until})" if task.lease_expires_at else "")


async def schedulers_table(stores: Stores, now: datetime) -> Table:
    """The schedulers seen within ``SEEN_WITHIN``: alive, stale or stopped, and their tasks."""
    table = Table(title="Schedulers", title_justify="left")
    for column in ("scheduler", "host", "pid", "state", "last beat", "started"):
        table.add_column(column)
    table.add_column("running", overflow="fold")
    beats = await stores.tasks.heartbeats()
    recent = [b for b in beats if now - b.last_beat <= SEEN_WITHIN]
    for beat in recent:
        if beat.stopped_at is not None:
            state = f"stopped {format_when(beat.stopped_at, now)}"
        elif beat.is_alive(now):
            state = "[green]alive[/]"
        else:
            state = "[bold red]stale[/]"
        table.add_row(
            beat.scheduler_id, beat.host, str(beat.pid), state,
            format_when(beat.last_beat, now), format_when(beat.started_at, now),
            ", ".join(beat.running) or "-",
        )
    if not beats:
        table.caption = "no scheduler has run on this folder yet"
    elif len(recent) < len(beats):
        table.caption = f"{len(beats) - len(recent)} scheduler(s) last seen over a day ago"
    return table


async def tasks_table(stores: Stores, now: datetime) -> Table:
    """Every task: when it runs next, its status, its last run, retries and last error."""
    table = Table(title="Tasks", title_justify="left")
    for column in ("task", "type", "priority", "status", "next run", "last run",
                   "last outcome", "retries"):
        table.add_column(column)
    table.add_column("last error", overflow="fold")
    tasks = await stores.tasks.list_tasks()
    tasks.sort(key=lambda t: (t.next_execution or t.execute_at, t.task_id))
    for task in tasks:
        status = f"[{_STATUS_STYLE.get(task.status, '')}]{task.status}[/]{_holder(task, now)}"
        if not task.is_active:
            status += " (inactive)"
        next_run = (
            "-"
            if task.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)
            else (format_when(task.next_execution or task.execute_at, now))
        )
        table.add_row(
            task.task_id,
            str(task.task_type),
            str(task.priority),
            status,
            next_run,
            format_when(task.last_executed, now),
            _last_outcome(task),
            f"{task.retry_count}/{task.max_retries}",
            _short(task.last_error),
        )
    if not tasks:
        table.caption = "no tasks yet: 'tradestore run' seeds the default ones"
    return table


async def stocks_table(stores: Stores, now: datetime) -> Table:
    """Per symbol: when each kind of data was last checked, what is due today, counts."""
    stocks = stores.stocks
    table = Table(title=f"Stocks (today is {stocks.today()} in {stocks.tz.key})",
                  title_justify="left")
    for column in ("symbol", "news", "earnings", "fundamentals", "analysis", "priced", "due",
                   "flags"):
        table.add_column(column)
    table.add_column("fetches", justify="right")
    table.add_column("errors", justify="right")
    states = await stocks.all_states()
    symbols = sorted(states)
    due = {
        "news": set(await stocks.get_stocks_needing_news(symbols)),
        "earnings": set(await stocks.get_stocks_needing_earnings(symbols)),
        "fundamentals": set(await stocks.get_stocks_needing_fundamentals(symbols)),
    }
    for symbol in symbols:
        state = states[symbol]
        table.add_row(
            symbol,
            _day(state.last_news_check),
            _day(state.last_earnings_check),
            _day(state.last_fundamentals_check),
            format_when(state.last_analysis_check, now),
            format_when(state.last_portfolio_update, now),
            ", ".join(kind for kind, names in due.items() if symbol in names) or "-",
            "[yellow]recheck fundamentals[/]" if state.needs_fundamentals_recheck else "",
            str(state.fetch_count),
            f"[red]{state.error_count}[/]" if state.error_count else "0",
        )
    if not states:
        table.caption = "no stock checked yet"
    return table


async def strategies_table(stores: Stores, days: int = 30) -> Table:
    """Each strategy's performance over the last ``days`` days."""
    table = Table(title=f"Strategy performance (last {days} days)", title_justify="left")
    table.add_column("strategy")
    for column in ("logs", "trades", "wins", "losses", "win rate", "P&L", "P&L / trade"):
        table.add_column(column, justify="right")
    strategies = await stores.strategy_logs.strategy_types()
    for strategy in strategies:
        perf = await stores.strategy_logs.get_performance_summary(strategy, days=days)
        pnl_style = "green" if perf.total_pnl >= 0 else "red"
        table.add_row(
            strategy,
            str(perf.total_logs),
            str(perf.total_trades),
            str(perf.total_wins),
            str(perf.total_losses),
            f"{perf.win_rate:.1f}%",
            f"[{pnl_style}]{perf.total_pnl:,.2f}[/]",
            f"{perf.avg_pnl_per_trade:,.2f}",
        )
    if not strategies:
        table.caption = "no strategy log yet"
    return table


async def fundamentals_table(stores: Stores, now: datetime) -> Table:
    """Per symbol: how fresh the stored fundamentals, earnings, news and analysis are."""
    store = stores.fundamentals
    table = Table(title="Fundamentals freshness", title_justify="left")
    for column in ("symbol", "snapshot", "fetched", "fresh", "earnings", "news", "analysis"):
        table.add_column(column)
    symbols = await store.symbols()
    for symbol in symbols:
        snapshot = await store.get_latest_fundamentals(symbol)
        earnings = await store.get_latest_earnings(symbol)
        analysis = await store.get_latest_analysis(symbol)
        news = await store.get_news(symbol)
        stale = await store.is_stale(symbol, FRESH_FOR)
        table.add_row(
            symbol,
            snapshot.as_of.isoformat() if snapshot else "none",
            format_when(snapshot.fetched_at, now) if snapshot else "-",
            "[red]stale[/]" if stale else "[green]fresh[/]",
            f"{earnings.fiscal_period} ({earnings.report_date})" if earnings else "none",
            f"{len(news)} item(s)"
            + (f", latest {format_when(news[0].published_at, now)}" if news else ""),
            f"{analysis.recommendation} {analysis.confidence:.0%}" if analysis else "none",
        )
    if not symbols:
        table.caption = "no fundamentals stored yet"
    return table


async def status_tables(stores: Stores, now: datetime) -> list[Table]:
    """All the tables of ``tradestore status``, in order."""
    return [
        await schedulers_table(stores, now),
        await tasks_table(stores, now),
        await stocks_table(stores, now),
        await strategies_table(stores),
        await fundamentals_table(stores, now),
    ]
