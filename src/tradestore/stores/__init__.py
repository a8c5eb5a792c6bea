"""The stores: thin domain rules on top of the persistence layer."""

from tradestore.stores.stock_state_store import StockStateStore
from tradestore.stores.task_store import TaskStore

__all__ = [
    "StockStateStore",
    "TaskStore",
]
