"""The stores: thin domain rules on top of the persistence layer."""

from tradestore.stores.fundamental_store import FundamentalStore
from tradestore.stores.stock_state_store import StockStateStore
from tradestore.stores.strategy_log_store import StrategyLogStore
from tradestore.stores.task_store import TaskStore

__all__ = [
    "FundamentalStore",
    "StockStateStore",
    "StrategyLogStore",
    "TaskStore",
]
