"""The stores: the contracts (what every backend promises) and the file backend.

``TaskStore(location)`` etc. are the contracts of ``tradestore.contracts``;
calling one opens the file backend for a folder (``FileTaskStore`` etc.,
thin domain rules on top of the persistence layer) or the PostgreSQL backend
for a URL or a ``tradestore.postgres.Database``.
"""

from tradestore.contracts import FundamentalStore, StockStateStore, StrategyLogStore, TaskStore

__all__ = [
    "FundamentalStore",
    "StockStateStore",
    "StrategyLogStore",
    "TaskStore",
]
