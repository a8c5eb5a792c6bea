"""Per-symbol scheduler bookkeeping: when each kind of data was last fetched."""

from __future__ import annotations

from datetime import date, datetime, timezone

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

_DATE_FIELDS = ("last_news_check", "last_earnings_check", "last_fundamentals_check")
_DATETIME_FIELDS = (
    "last_portfolio_update", "last_analysis_check",
    "last_news_checked_at", "last_earnings_checked_at", "last_fundamentals_checked_at",
)


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
    # When each check was recorded (the store clock's time), to break ties among equal
    # check dates fairly; None for data written before these fields existed.
    last_news_checked_at: datetime | None = None
    last_earnings_checked_at: datetime | None = None
    last_fundamentals_checked_at: datetime | None = None

    def validate(self) -> None:
        """Check every field and normalise the symbol; raise ``ValidationError`` on bad values."""
        # On the scheduler's hot path: exact-type checks first, the general checks
        # (which raise with the right message) only when those do not settle it.
        self.symbol = normalize_symbol(self.symbol)
        for name in _DATE_FIELDS:
            value = getattr(self, name)
            if value is not None and type(value) is not date:
                setattr(self, name, ensure_date(value, name))
        for name in _DATETIME_FIELDS:
            value = getattr(self, name)
            if value is not None and not (
                type(value) is datetime and type(value.tzinfo) is timezone
            ):
                setattr(self, name, ensure_aware(value, name))
        if type(self.needs_fundamentals_recheck) is not bool:
            ensure_bool(self.needs_fundamentals_recheck, "needs_fundamentals_recheck")
        self.fetch_count = ensure_non_negative_int(self.fetch_count, "fetch_count")
        self.error_count = ensure_non_negative_int(self.error_count, "error_count")
        self.updated_at = ensure_aware(self.updated_at, "updated_at")
