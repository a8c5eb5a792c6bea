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

__all__ = [
    "ErrorCategory",
    "ErrorSeverity",
    "NotFoundError",
    "StoreClosedError",
    "StoreCorruptedError",
    "StoreError",
    "StoreIOError",
    "StoreLockedError",
    "TradingError",
    "ValidationError",
]
