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
from tradestore.stores import FundamentalStore, StrategyLogStore

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
    "StoreClosedError",
    "StoreCorruptedError",
    "StoreError",
    "StoreIOError",
    "StoreLockedError",
    "StrategyLog",
    "StrategyLogStore",
    "TaskPriority",
    "TaskStatus",
    "TaskType",
    "TradingError",
    "ValidationError",
]
