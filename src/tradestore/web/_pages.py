"""What each page shows, gathered from the stores as plain structs (HTML and JSON alike)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from tradestore import BackgroundTask, TaskStatus
from tradestore.scheduler import Stores
from tradestore.web._format import age_class, age_days

__all__ = [
    "PERIODS",
    "DayPoint",
    "RunView",
    "StockRow",
    "StrategyView",
    "TaskDetail",
    "TaskRow",
    "TasksView",
    "stocks_view",
    "strategies_view",
    "task_detail",
    "tasks_view",
]

PERIODS = (7, 30, 90)
"""The periods (days) the strategies page offers."""

_TERMINAL = (TaskStatus.SUCCEEDED, TaskStatus.FAILED)


class RunView(msgspec.Struct, kw_only=True):
    """One past run of a task."""

    started_at: datetime
    finished_at: datetime
    outcome: str
    duration_seconds: float
    error: str | None = None
    host: str = ""


class TaskRow(msgspec.Struct, kw_only=True):
    """One task in the tasks table."""

    task_id: str
    task_type: str
    priority: str
    status: str
    active: bool
    next_run: datetime | None
    last_run: datetime | None
    last_outcome: str | None
    duration_seconds: float | None
    retry_count: int
    max_retries: int
    last_error: str | None
    runs: int


class TasksView(msgspec.Struct, kw_only=True):
    """The tasks page: the rows that pass the filters, and what can be filtered on."""

    tasks: list[TaskRow]
    counts: dict[str, int]
    types: list[str]
    status: str | None
    task_type: str | None


class TaskDetail(msgspec.Struct, kw_only=True):
    """The task page: the row, its schedule and metadata, and its run history."""

    task: TaskRow
    execute_at: datetime
    interval_seconds: float | None
    metadata: dict[str, Any]
    history: list[RunView]  # newest first


class DayPoint(msgspec.Struct, kw_only=True):
    """One logged day of a strategy."""

    day: date
    pnl: float
    cumulative: float
    trades: int


class StrategyView(msgspec.Struct, kw_only=True):
    """One strategy over the chosen period."""

    name: str
    days: int
    logs: int
    trades: int
    wins: int
    losses: int
    win_rate: float
    total_pnl: float
    avg_pnl_per_trade: float
    points: list[DayPoint]
    what_worked: list[str]
    what_didnt_work: list[str]


class StockRow(msgspec.Struct, kw_only=True):
    """How fresh one symbol's data is."""

    symbol: str
    news_checked: date | None
    news_age: int | None
    news_class: str
    latest_news_title: str | None
    latest_news_at: datetime | None
    news_items: int
    earnings_checked: date | None
    earnings_age: int | None
    earnings_class: str
    latest_earnings: str | None
    fundamentals_checked: date | None
    fundamentals_age: int | None
    fundamentals_class: str
    snapshot_fetched_at: datetime | None
    snapshot_age: int | None
    snapshot_class: str
    recheck: bool
    fetches: int
    errors: int


def _history(task: BackgroundTask) -> list[RunView]:
    return [
        RunView(
            started_at=run.started_at,
            finished_at=run.finished_at,
            outcome=str(run.outcome),
            duration_seconds=float(run.duration_seconds),
            error=run.error,
            host=run.host,
        )
        for run in task.history
    ]


def _row(task: BackgroundTask) -> TaskRow:
    history = _history(task)
    last = history[-1] if history else None
    return TaskRow(
        task_id=task.task_id,
        task_type=str(task.task_type),
        priority=str(task.priority),
        status=str(task.status),
        active=task.is_active,
        next_run=None if task.status in _TERMINAL else task.next_execution or task.execute_at,
        last_run=task.last_executed,
        last_outcome=last.outcome if last else None,
        duration_seconds=last.duration_seconds if last else None,
        retry_count=task.retry_count,
        max_retries=task.max_retries,
        last_error=task.last_error,
        runs=len(history),
    )


async def tasks_view(stores: Stores, *, status: str | None, task_type: str | None) -> TasksView:
    """Every task, filtered by ``status`` (a TaskStatus value or "paused") and type."""
    tasks = await stores.tasks.list_tasks()
    counts = {str(s): 0 for s in TaskStatus}
    counts["paused"] = 0
    for task in tasks:
        counts[str(task.status)] += 1
        counts["paused"] += not task.is_active
    types = sorted({str(t.task_type) for t in tasks})
    shown = [
        t for t in tasks
        if (status is None or str(t.status) == status or (status == "paused" and not t.is_active))
        and (task_type is None or str(t.task_type) == task_type)
    ]
    shown.sort(key=lambda t: (t.status in _TERMINAL, t.next_execution or t.execute_at, t.task_id))
    return TasksView(tasks=[_row(t) for t in shown], counts=counts, types=types, status=status,
                     task_type=task_type)


async def task_detail(stores: Stores, task_id: str) -> TaskDetail | None:
    """One task with its run history, or None if there is no such task."""
    task = await stores.tasks.get(task_id)
    if task is None:
        return None
    return TaskDetail(
        task=_row(task),
        execute_at=task.execute_at,
        interval_seconds=task.interval_seconds,
        metadata=dict(task.metadata),
        history=list(reversed(_history(task))),
    )


async def strategies_view(stores: Stores, days: int) -> list[StrategyView]:
    """Each strategy's P&L per logged day, cumulative P&L and totals over ``days`` days."""
    logs_store = stores.strategy_logs
    views = []
    for name in await logs_store.strategy_types():
        logs = await logs_store.get_recent_logs(name, days=days)
        summary = await logs_store.get_performance_summary(name, days=days)
        insights = await logs_store.get_insights(name, days=days)
        points, total = [], 0.0
        for log in logs:
            total += log.pnl_realized
            points.append(DayPoint(day=log.date, pnl=log.pnl_realized, cumulative=round(total, 2),
                                   trades=log.trades_executed))
        views.append(
            StrategyView(
                name=name,
                days=days,
                logs=summary.total_logs,
                trades=summary.total_trades,
                wins=summary.total_wins,
                losses=summary.total_losses,
                win_rate=summary.win_rate,
                total_pnl=summary.total_pnl,
                avg_pnl_per_trade=summary.avg_pnl_per_trade,
                points=points,
                what_worked=list(insights["top_working_strategies"]),
                what_didnt_work=list(insights["top_failing_approaches"]),
            )
        )
    return views


async def stocks_view(stores: Stores, today: date) -> list[StockRow]:
    """Per symbol (known to the stock state or fundamentals store): the age of each kind."""
    states = await stores.stocks.all_states()
    funda = stores.fundamentals
    rows = []
    for symbol in sorted(set(states) | set(await funda.symbols())):
        state = states.get(symbol) or await stores.stocks.get_state(symbol)
        news = await funda.get_news(symbol, limit=1)
        count = len(await funda.get_news(symbol))
        earnings = await funda.get_latest_earnings(symbol)
        snapshot = await funda.get_latest_fundamentals(symbol)
        news_age = age_days(state.last_news_check, today)
        earnings_age = age_days(state.last_earnings_check, today)
        fund_age = age_days(state.last_fundamentals_check, today)
        snap_age = age_days(snapshot.fetched_at if snapshot else None, today)
        rows.append(
            StockRow(
                symbol=symbol,
                news_checked=state.last_news_check,
                news_age=news_age,
                news_class=age_class(news_age),
                latest_news_title=news[0].title if news else None,
                latest_news_at=news[0].published_at if news else None,
                news_items=count,
                earnings_checked=state.last_earnings_check,
                earnings_age=earnings_age,
                earnings_class=age_class(earnings_age),
                latest_earnings=(f"{earnings.fiscal_period} ({earnings.report_date.isoformat()})"
                                 if earnings else None),
                fundamentals_checked=state.last_fundamentals_check,
                fundamentals_age=fund_age,
                fundamentals_class=age_class(fund_age),
                snapshot_fetched_at=snapshot.fetched_at if snapshot else None,
                snapshot_age=snap_age,
                snapshot_class=age_class(snap_age),
                recheck=state.needs_fundamentals_recheck,
                fetches=state.fetch_count,
                errors=state.error_count,
            )
        )
    return rows
