"""Per-symbol scheduler bookkeeping: when each kind of data was last fetched."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from tradestore.models._base import Model
from tradestore.models._validation import (
    ensure_aware,
    ensure_bool,
    ensure_date,
    ensure_non_negative_int,
    normalize_symbol,
    utc_now,
)

__all__ = ["StockSchedulerState"]


class StockSchedulerState(Model):
    """What the scheduler last did for one symbol; built and validated on every update."""

    symbol: str
    last_news_check: date | None = None
    last_earnings_check: date | None = None
    last_fundamentals_check: date | None = None
    last_portfolio_update: datetime | None = None
    last_analysis_check: datetime | None = None
    needs_fundamentals_recheck: bool = False
    fetch_count: int = 0
    error_count: int = 0
    updated_at: datetime = msgspec.field(default_factory=utc_now)

    def validate(self) -> None:
        """Check every field and normalise the symbol; raise ``ValidationError`` on bad values."""
        # On the scheduler's hot path: skip the calls for the common None values.
        self.symbol = normalize_symbol(self.symbol)
        if self.last_news_check is not None:
            ensure_date(self.last_news_check, "last_news_check")
        if self.last_earnings_check is not None:
            ensure_date(self.last_earnings_check, "last_earnings_check")
        if self.last_fundamentals_check is not None:
            ensure_date(self.last_fundamentals_check, "last_fundamentals_check")
        if self.last_portfolio_update is not None:
            ensure_aware(self.last_portfolio_update, "last_portfolio_update")
        if self.last_analysis_check is not None:
            ensure_aware(self.last_analysis_check, "last_analysis_check")
        ensure_bool(self.needs_fundamentals_recheck, "needs_fundamentals_recheck")
        ensure_non_negative_int(self.fetch_count, "fetch_count")
        ensure_non_negative_int(self.error_count, "error_count")
        ensure_aware(self.updated_at, "updated_at")
