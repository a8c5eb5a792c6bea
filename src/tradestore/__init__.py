"""tradestore: crash-safe, async, file-backed stores for a trading bot's scheduler."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

from tradestore.errors import (
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
    BackgroundTask,
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    NewsItem,
    PerformanceSummary,
    StockSchedulerState,
    StrategyLog,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from tradestore.stores import FundamentalStore, StockStateStore, StrategyLogStore, TaskStore

try:
    __version__: str = _distribution_version("tradestore")
    """The installed distribution's version (from its metadata, so it never drifts)."""
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "BackgroundTask",
    "EarningsReport",
    "ErrorCategory",
    "ErrorSeverity",
    "FundamentalAnalysis",
    "FundamentalSnapshot",
    "FundamentalStore",
    "NewsItem",
    "NotFoundError",
    "PerformanceSummary",
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
    "TaskStatus",
    "TaskStore",
    "TaskType",
    "TradingError",
    "ValidationError",
]
