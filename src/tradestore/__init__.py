"""tradestore: crash-safe, async, file-backed stores for a trading bot's scheduler."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

from tradestore.errors import (
    CommitInDoubtError,
    ErrorCategory,
    ErrorSeverity,
    NotFoundError,
    StoreClosedError,
    StoreCorruptedError,
    StoreError,
    StoreIOError,
    StoreLockedError,
    TradingError,
    ValidationError,
)
from tradestore.models import (
    MAX_TASK_HISTORY,
    BackgroundTask,
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    NewsItem,
    PerformanceSummary,
    RunOutcome,
    SchedulerHeartbeat,
    StockSchedulerState,
    StrategyLog,
    TaskPriority,
    TaskRun,
    TaskStatus,
    TaskType,
    is_valid_symbol,
)
from tradestore.stores import FundamentalStore, StockStateStore, StrategyLogStore, TaskStore

try:
    __version__: str = _distribution_version("tradestore")
    """The installed distribution's version (from its metadata, so it never drifts)."""
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "MAX_TASK_HISTORY",
    "BackgroundTask",
    "CommitInDoubtError",
    "EarningsReport",
    "ErrorCategory",
    "ErrorSeverity",
    "FundamentalAnalysis",
    "FundamentalSnapshot",
    "FundamentalStore",
    "NewsItem",
    "NotFoundError",
    "PerformanceSummary",
    "RunOutcome",
    "SchedulerHeartbeat",
    "StockSchedulerState",
    "StockStateStore",
    "StoreClosedError",
    "StoreCorruptedError",
    "StoreError",
    "StoreIOError",
    "StoreLockedError",
    "StrategyLog",
    "StrategyLogStore",
    "TaskPriority",
    "TaskRun",
    "TaskStatus",
    "TaskStore",
    "TaskType",
    "TradingError",
    "ValidationError",
    "is_valid_symbol",
]
