"""tradestore: crash-safe, async, file-backed stores for a trading bot's scheduler."""

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
from tradestore.stores import StockStateStore, TaskStore

__all__ = [
    "BackgroundTask",
    "EarningsReport",
    "ErrorCategory",
    "ErrorSeverity",
    "FundamentalAnalysis",
    "FundamentalSnapshot",
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
    "TaskPriority",
    "TaskStatus",
    "TaskStore",
    "TaskType",
    "TradingError",
    "ValidationError",
]
