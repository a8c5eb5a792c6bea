"""The background scheduler: runs ``TaskStore`` tasks through handlers registered per type."""

from tradestore.scheduler.analysis import (
    DEFAULT_STRATEGIES,
    handle_deep_analysis,
    handle_portfolio_scan,
    handle_strategy_log,
)
from tradestore.scheduler.context import (
    Handler,
    HandlerContext,
    HandlerResult,
    MissingDependencyError,
    RunInfo,
)
from tradestore.scheduler.core import Scheduler
from tradestore.scheduler.defaults import (
    SAMPLE_WATCHLIST,
    STRATEGY_LOG,
    default_handlers,
    default_tasks,
)
from tradestore.scheduler.events import (
    EventKind,
    RunStats,
    Subscriber,
    TaskEvent,
    UnknownTaskTypeError,
)
from tradestore.scheduler.handlers import (
    handle_earnings,
    handle_fundamentals,
    handle_health_check,
    handle_news,
)
from tradestore.scheduler.heartbeat import new_scheduler_id
from tradestore.scheduler.market import MarketDataError, MarketDataSource
from tradestore.scheduler.simulated import SimulatedMarket
from tradestore.scheduler.stores import Stores, open_stores
from tradestore.scheduler.timing import Clock, next_recurring_run, retry_delay, utc_now
from tradestore.scheduler.transitions import TaskOutcome, planned_time

__all__ = [
    "DEFAULT_STRATEGIES",
    "SAMPLE_WATCHLIST",
    "STRATEGY_LOG",
    "Clock",
    "EventKind",
    "Handler",
    "HandlerContext",
    "HandlerResult",
    "MarketDataError",
    "MarketDataSource",
    "MissingDependencyError",
    "RunInfo",
    "RunStats",
    "Scheduler",
    "SimulatedMarket",
    "Stores",
    "Subscriber",
    "TaskEvent",
    "TaskOutcome",
    "UnknownTaskTypeError",
    "default_handlers",
    "default_tasks",
    "handle_deep_analysis",
    "handle_earnings",
    "handle_fundamentals",
    "handle_health_check",
    "handle_news",
    "handle_portfolio_scan",
    "handle_strategy_log",
    "new_scheduler_id",
    "next_recurring_run",
    "open_stores",
    "planned_time",
    "retry_delay",
    "utc_now",
]
