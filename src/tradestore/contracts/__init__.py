"""The store contracts: each store's methods, docstrings and errors, written once.

Both backends (``tradestore.stores``: files; ``tradestore.postgres``:
PostgreSQL) implement them; calling a contract class opens the backend its
location names.
"""

from tradestore.contracts._base import Clock, Location, Store, backend_of, is_postgres_location
from tradestore.contracts.fundamentals import FundamentalStore
from tradestore.contracts.stock_state import StockStateStore
from tradestore.contracts.strategy_logs import StrategyLogStore
from tradestore.contracts.tasks import TaskStore

__all__ = [
    "Clock",
    "FundamentalStore",
    "Location",
    "StockStateStore",
    "Store",
    "StrategyLogStore",
    "TaskStore",
    "backend_of",
    "is_postgres_location",
]
