"""The data models users import; the checks, limits and copy helpers are private modules."""

from tradestore.models._symbols import is_valid_symbol, split_symbols
from tradestore.models.fundamental import (
    RECOMMENDATIONS,
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    NewsItem,
    news_id_for_item,
    news_id_for_url,
)
from tradestore.models.run import MAX_TASK_HISTORY, RunOutcome, SchedulerHeartbeat, TaskRun
from tradestore.models.stock import StockSchedulerState
from tradestore.models.strategy import PerformanceSummary, StrategyLog
from tradestore.models.task import BackgroundTask, TaskPriority, TaskStatus, TaskType

__all__ = [
    "MAX_TASK_HISTORY",
    "RECOMMENDATIONS",
    "BackgroundTask",
    "EarningsReport",
    "FundamentalAnalysis",
    "FundamentalSnapshot",
    "NewsItem",
    "PerformanceSummary",
    "RunOutcome",
    "SchedulerHeartbeat",
    "StockSchedulerState",
    "StrategyLog",
    "TaskPriority",
    "TaskRun",
    "TaskStatus",
    "TaskType",
    "is_valid_symbol",
    "news_id_for_item",
    "news_id_for_url",
    "split_symbols",
]
