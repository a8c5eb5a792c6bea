"""The built-in handler table and the default recurring tasks for a watchlist."""

from __future__ import annotations

from datetime import datetime

from tradestore import BackgroundTask, TaskPriority, TaskType
from tradestore.scheduler.analysis import (
    handle_deep_analysis,
    handle_portfolio_scan,
    handle_strategy_log,
)
from tradestore.scheduler.context import Handler
from tradestore.scheduler.handlers import (
    handle_earnings,
    handle_fundamentals,
    handle_health_check,
    handle_news,
)

__all__ = ["SAMPLE_WATCHLIST", "STRATEGY_LOG", "default_handlers", "default_tasks"]

STRATEGY_LOG = "strategy_log"
"""The task type of the daily strategy log (not one of the well-known ``TaskType`` values)."""

SAMPLE_WATCHLIST = ("AAPL", "MSFT", "NVDA", "AMZN", "BRK.B", "JPM", "XOM", "^NSEI")
"""The demo's watchlist."""

# (task id, type, priority, interval in seconds). Short intervals for the cheap
# tasks show recurrence in a short demo; the fetching tasks run often but
# StockStateStore makes them skip symbols checked recently.
_DEFAULTS: tuple[tuple[str, str, TaskPriority, float], ...] = (
    ("portfolio-scan", TaskType.PORTFOLIO_SCAN, TaskPriority.HIGH, 15),
    ("news-monitoring", TaskType.NEWS_MONITORING, TaskPriority.MEDIUM, 300),
    ("earnings-check", TaskType.EARNINGS_CHECK, TaskPriority.MEDIUM, 3600),
    ("fundamental-monitoring", TaskType.FUNDAMENTAL_MONITORING, TaskPriority.MEDIUM, 1800),
    ("deep-fundamental-analysis", TaskType.DEEP_FUNDAMENTAL_ANALYSIS, TaskPriority.LOW, 1800),
    ("strategy-log", STRATEGY_LOG, TaskPriority.LOW, 3600),
    ("health-check", TaskType.HEALTH_CHECK, TaskPriority.LOW, 10),
)


def default_handlers() -> dict[str, Handler]:
    """The built-in handlers by task type."""
    return {
        TaskType.NEWS_MONITORING: handle_news,
        TaskType.NEWS_DAILY: handle_news,
        TaskType.EARNINGS_CHECK: handle_earnings,
        TaskType.EARNINGS_SCHEDULER: handle_earnings,
        TaskType.FUNDAMENTAL_MONITORING: handle_fundamentals,
        TaskType.EARNINGS_FUNDAMENTALS: handle_fundamentals,
        TaskType.DEEP_FUNDAMENTAL_ANALYSIS: handle_deep_analysis,
        TaskType.PORTFOLIO_SCAN: handle_portfolio_scan,
        TaskType.MARKET_MONITORING: handle_portfolio_scan,
        TaskType.HEALTH_CHECK: handle_health_check,
        STRATEGY_LOG: handle_strategy_log,
    }


def default_tasks(now: datetime, *, batch_size: int = 5) -> list[BackgroundTask]:
    """The default recurring tasks, all due at ``now``; they work on the context's watchlist."""
    return [
        BackgroundTask(
            task_id=task_id,
            task_type=str(task_type),
            priority=priority,
            execute_at=now,
            interval_seconds=interval,
            metadata={"batch_size": batch_size},
        )
        for task_id, task_type, priority, interval in _DEFAULTS
    ]
