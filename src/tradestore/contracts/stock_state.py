"""The StockStateStore contract: per-symbol scheduler bookkeeping."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar, Self
from zoneinfo import ZoneInfo

from tradestore.contracts._base import Clock, Location, Store
from tradestore.models import StockSchedulerState

if TYPE_CHECKING:
    from tradestore.persistence._fs import FileSystem

__all__ = ["StockStateStore"]


class StockStateStore(Store):
    """When the scheduler last fetched each kind of data for each symbol.

    "Today" is the calendar date in ``tz`` (an IANA zone name) at the store clock's time.
    """

    tz: ZoneInfo  #: whose calendar "today" is
    news_interval_days: int
    earnings_interval_days: int
    fundamentals_interval_days: int

    backends: ClassVar[dict[str, str]] = {
        "file": "tradestore.stores.stock_state_store:FileStockStateStore",
        "postgres": "tradestore.postgres.stock_state:PgStockStateStore"}

    def __new__(
        cls, location: Location, *, tz: str | ZoneInfo = "UTC", news_interval_days: int = 1,
        earnings_interval_days: int = 7, fundamentals_interval_days: int = 7,
        durable: bool = True, read_only: bool = False, clock: Clock | None = None,
        exclusive: bool = False, fs: FileSystem | None = None,
        journal: str = "files",
    ) -> Self:
        return cls._dispatch(location)

    def today(self) -> date:
        """The calendar date in the store's zone at the store clock's current time."""
        raise NotImplementedError

    async def get_state(self, symbol: str) -> StockSchedulerState:
        """A copy of the symbol's state, or a default one (nothing is written) if unknown.

        :raises ValidationError: ``symbol`` is malformed.
        """
        raise NotImplementedError

    async def all_states(self) -> dict[str, StockSchedulerState]:
        """Copies of every stored state, keyed by symbol in symbol order."""
        raise NotImplementedError

    async def update_news_check(self, symbol: str, check_date: date | None = None) -> None:
        """Record a news check on ``check_date`` (default: today in the store's zone).

        The store clock's time is kept too (``last_news_checked_at``): it breaks ties
        among equal dates in ``get_oldest_news_stocks`` (likewise for earnings and
        fundamentals).

        :raises ValidationError: ``symbol`` or ``check_date`` is invalid.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def update_earnings_check(self, symbol: str, check_date: date | None = None) -> None:
        """Record an earnings check on ``check_date`` (default: today in the store's zone).

        :raises ValidationError: ``symbol`` or ``check_date`` is invalid.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def update_fundamentals_check(
        self, symbol: str, check_date: date | None = None
    ) -> None:
        """Record a fundamentals check (default: today) and clear the recheck flag.

        :raises ValidationError: ``symbol`` or ``check_date`` is invalid.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def flag_fundamentals_recheck(self, symbol: str) -> None:
        """Mark the symbol's fundamentals as needing a check regardless of the interval.

        :raises ValidationError: ``symbol`` is malformed.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def update_analysis_check(
        self, symbol: str, check_time: datetime | None = None
    ) -> None:
        """Record an analysis at ``check_time`` (default: now).

        :raises ValidationError: ``symbol`` is malformed or ``check_time`` is naive.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def update_portfolio_update(self, symbol: str, when: datetime | None = None) -> None:
        """Record a portfolio update at ``when`` (default: now).

        :raises ValidationError: ``symbol`` is malformed or ``when`` is naive.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def record_fetch(self, symbol: str, *, ok: bool) -> None:
        """Count one fetch for the symbol, and one error too when ``ok`` is False (atomic).

        :raises ValidationError: ``symbol`` is malformed or ``ok`` is not a bool.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def save_state(self, state: StockSchedulerState) -> None:
        """Insert or replace one whole state as given (``updated_at`` included): for restores.

        :raises ValidationError: ``state`` is not a valid StockSchedulerState.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def save_states(self, states: Iterable[StockSchedulerState]) -> None:
        """Insert or replace whole states in one atomic write (a later duplicate wins).

        :raises ValidationError: an item is not a valid StockSchedulerState.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def delete(self, symbol: str) -> bool:
        """Forget the symbol's state; True if there was one. Durable when this returns.

        :raises ValidationError: ``symbol`` is malformed.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        raise NotImplementedError

    async def needs_news_fetch(self, symbol: str) -> bool:
        """Whether news was not checked within the last ``news_interval_days``.

        :raises ValidationError: ``symbol`` is malformed.
        """
        raise NotImplementedError

    async def needs_earnings_fetch(self, symbol: str) -> bool:
        """Whether earnings were never checked, or ``earnings_interval_days`` ago or more.

        :raises ValidationError: ``symbol`` is malformed.
        """
        raise NotImplementedError

    async def needs_fundamentals_check(self, symbol: str) -> bool:
        """Whether fundamentals are flagged, never checked, or checked long enough ago.

        :raises ValidationError: ``symbol`` is malformed.
        """
        raise NotImplementedError

    async def get_stocks_needing_news(
        self, symbols: Iterable[str], *, skip_invalid: bool = False
    ) -> list[str]:
        """The symbols that need a news fetch, in input order (first occurrence kept).

        With ``skip_invalid=True`` malformed entries are left out and logged (one
        WARNING per call naming them) instead of failing the whole list.

        :raises ValidationError: ``symbols`` is not an iterable, or (unless
            ``skip_invalid``) an entry is not a valid symbol.
        """
        raise NotImplementedError

    async def get_stocks_needing_earnings(
        self, symbols: Iterable[str], *, skip_invalid: bool = False
    ) -> list[str]:
        """The symbols that need an earnings fetch, in input order (first occurrence kept).

        With ``skip_invalid=True`` malformed entries are left out and logged (one
        WARNING per call naming them) instead of failing the whole list.

        :raises ValidationError: ``symbols`` is not an iterable, or (unless
            ``skip_invalid``) an entry is not a valid symbol.
        """
        raise NotImplementedError

    async def get_stocks_needing_fundamentals(
        self, symbols: Iterable[str], *, skip_invalid: bool = False
    ) -> list[str]:
        """The symbols that need a fundamentals check, in input order (first occurrence kept).

        With ``skip_invalid=True`` malformed entries are left out and logged (one
        WARNING per call naming them) instead of failing the whole list.

        :raises ValidationError: ``symbols`` is not an iterable, or (unless
            ``skip_invalid``) an entry is not a valid symbol.
        """
        raise NotImplementedError

    async def get_oldest_news_stocks(
        self, symbols: Iterable[str], limit: int | None = 5, *, skip_invalid: bool = False
    ) -> list[str]:
        """Up to ``limit`` symbols: never news-checked first, then oldest check date;
        equal dates: the check recorded longest ago first, then input order.

        ``skip_invalid=True`` leaves malformed entries out (logged), as for
        ``get_stocks_needing_*``.

        :raises ValidationError: ``limit`` is negative, or (unless ``skip_invalid``)
            a symbol is malformed.
        """
        raise NotImplementedError

    async def get_oldest_earnings_stocks(
        self, symbols: Iterable[str], limit: int | None = 5, *, skip_invalid: bool = False
    ) -> list[str]:
        """Up to ``limit`` symbols: never earnings-checked first, then oldest check date;
        equal dates: the check recorded longest ago first, then input order.

        ``skip_invalid=True`` leaves malformed entries out (logged), as for
        ``get_stocks_needing_*``.

        :raises ValidationError: ``limit`` is negative, or (unless ``skip_invalid``)
            a symbol is malformed.
        """
        raise NotImplementedError

    async def get_oldest_fundamentals_stocks(
        self, symbols: Iterable[str], limit: int | None = 5, *, skip_invalid: bool = False
    ) -> list[str]:
        """Up to ``limit`` symbols: never fundamentals-checked first, then oldest check date;
        equal dates: the check recorded longest ago first, then input order.

        ``skip_invalid=True`` leaves malformed entries out (logged), as for
        ``get_stocks_needing_*``.

        :raises ValidationError: ``limit`` is negative, or (unless ``skip_invalid``)
            a symbol is malformed.
        """
        raise NotImplementedError
