"""Where the built-in handlers get market data: the ``MarketDataSource`` protocol.

Implement these five coroutines over any feed (a broker API, a vendor, files)
and pass the object as ``HandlerContext.market``. Each returns tradestore
models, so what a source returns is validated as it is built. A source signals
a failed fetch by raising (``MarketDataError`` is the conventional error): the
handler records the failure for that symbol in ``StockStateStore`` and the
scheduler retries the task with backoff when no symbol could be fetched.

Times are timezone-aware; dates are calendar days of the exchange.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from tradestore import (
    EarningsReport,
    ErrorCategory,
    ErrorSeverity,
    FundamentalSnapshot,
    NewsItem,
    TradingError,
)

__all__ = ["MarketDataError", "MarketDataSource"]


class MarketDataError(TradingError):
    """A market data fetch failed (category MARKET_DATA; retrying may help)."""

    def __init__(
        self,
        message: str,
        *,
        symbol: str | None = None,
        recoverable: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        meta = dict(metadata or {})
        if symbol is not None:
            meta.setdefault("symbol", symbol)
        super().__init__(
            message,
            category=ErrorCategory.MARKET_DATA,
            severity=ErrorSeverity.MEDIUM,
            code="market_data_error",
            recoverable=recoverable,
            retry_after=5.0 if recoverable else None,
            metadata=meta,
        )


@runtime_checkable
class MarketDataSource(Protocol):
    """A source of prices, fundamentals, earnings and news for the built-in handlers."""

    @property
    def name(self) -> str:
        """A short name, written as ``FundamentalSnapshot.source``."""
        ...

    async def get_price(self, symbol: str, at: datetime) -> float:
        """The last traded price of ``symbol`` at ``at``."""
        ...

    async def get_daily_closes(self, symbol: str, end: date, days: int) -> list[float]:
        """The ``days`` daily closes of ``symbol`` up to and including ``end``, oldest first."""
        ...

    async def get_fundamentals(self, symbol: str, at: datetime) -> FundamentalSnapshot:
        """The fundamentals of ``symbol`` as known at ``at`` (``as_of`` its date)."""
        ...

    async def get_earnings(self, symbol: str, as_of: date) -> list[EarningsReport]:
        """The recent earnings reports of ``symbol`` published by ``as_of``, oldest first."""
        ...

    async def get_news(self, symbol: str, since: datetime, until: datetime) -> list[NewsItem]:
        """News about ``symbol`` published in ``[since, until]``, newest first."""
        ...
