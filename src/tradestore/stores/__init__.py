"""The stores: domain rules on top of the persistence layer."""

from tradestore.stores.fundamental_store import FundamentalStore
from tradestore.stores.strategy_log_store import StrategyLogStore

__all__ = [
    "FundamentalStore",
    "StrategyLogStore",
]
