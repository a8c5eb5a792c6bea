"""The FundamentalStore contract: snapshots, earnings reports, news and analyses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, Self
from zoneinfo import ZoneInfo

from tradestore.contracts._base import Clock, Location, Store
from tradestore.models import EarningsReport, FundamentalAnalysis, FundamentalSnapshot, NewsItem

if TYPE_CHECKING:
    from tradestore.persistence._fs import FileSystem

__all__ = ["FundamentalStore"]


class FundamentalStore(Store):
    """Snapshots, earnings, news and analyses per symbol, with latest and history queries."""

    tz: ZoneInfo  #: whose calendar day a "same day" analysis is

    backends: ClassVar[dict[str, str]] = {
        "file": "tradestore.stores.fundamental_store:FileFundamentalStore",
        "postgres": "tradestore.postgres.fundamentals:PgFundamentalStore"}

    def __new__(
        cls, location: Location, *, tz: str | ZoneInfo = "UTC", durable: bool = True,
        read_only: bool = False,
        clock: Clock | None = None, exclusive: bool = False, fs: FileSystem | None = None,
        journal: str = "files",
    ) -> Self:
        return cls._dispatch(location)

    async def save_fundamentals(self, snapshot: FundamentalSnapshot) -> None:
        """Store ``snapshot`` under (symbol, as_of), replacing any snapshot with that key.

        :raises ValidationError: ``snapshot`` is not a valid FundamentalSnapshot.
        :raises StoreError: the store is read-only or the write failed.
        """
        raise NotImplementedError

    async def get_latest_fundamentals(self, symbol: str) -> FundamentalSnapshot | None:
        """The snapshot of ``symbol`` with the greatest as_of, or None.

        :raises ValidationError: malformed symbol.
        """
        raise NotImplementedError

    async def get_fundamentals_history(
        self, symbol: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[FundamentalSnapshot]:
        """Snapshots of ``symbol`` with as_of in ``start`` .. ``end`` (inclusive), oldest first.

        :raises ValidationError: malformed symbol, non-date bounds, or start after end.
        """
        raise NotImplementedError

    async def is_stale(self, symbol: str, max_age: dt.timedelta) -> bool:
        """True if ``symbol`` has no snapshot or its latest was fetched more than max_age ago.

        :raises ValidationError: malformed symbol, or ``max_age`` not a non-negative timedelta.
        """
        raise NotImplementedError

    async def save_earnings(self, report: EarningsReport) -> None:
        """Store ``report`` under (symbol, fiscal_period), replacing any report with that key.

        :raises ValidationError: ``report`` is not a valid EarningsReport.
        :raises StoreError: the store is read-only or the write failed.
        """
        raise NotImplementedError

    async def get_earnings_history(self, symbol: str) -> list[EarningsReport]:
        """Every report of ``symbol``, by report_date (then fiscal period).

        :raises ValidationError: malformed symbol.
        """
        raise NotImplementedError

    async def get_latest_earnings(self, symbol: str) -> EarningsReport | None:
        """The report of ``symbol`` with the greatest report_date, or None.

        :raises ValidationError: malformed symbol.
        """
        raise NotImplementedError

    async def save_analysis(
        self, analysis: FundamentalAnalysis, *, replace_same_day: bool = False
    ) -> None:
        """Add ``analysis`` to its symbol's history (same analyzed_at replaces).

        With ``replace_same_day=True`` the symbol keeps one analysis per calendar
        day in the store's ``tz``: the ones made earlier that day are removed in
        the same atomic write.

        :raises ValidationError: ``analysis`` is not a valid FundamentalAnalysis or
            ``replace_same_day`` is not a bool.
        :raises StoreError: the store is read-only or the write failed.
        """
        raise NotImplementedError

    async def get_analysis_history(self, symbol: str) -> list[FundamentalAnalysis]:
        """Every analysis of ``symbol``, oldest first.

        :raises ValidationError: malformed symbol.
        """
        raise NotImplementedError

    async def get_latest_analysis(self, symbol: str) -> FundamentalAnalysis | None:
        """The analysis of ``symbol`` with the greatest analyzed_at, or None.

        :raises ValidationError: malformed symbol.
        """
        raise NotImplementedError

    async def save_news(self, items: Iterable[NewsItem]) -> int:
        """Store the items whose id is new (first one wins in the batch); return how many.

        All new items are committed in one write.

        :raises ValidationError: ``items`` is not an iterable of valid NewsItems.
        :raises StoreError: the store is read-only or the write failed.
        """
        raise NotImplementedError

    async def get_news(
        self, symbol: str | None = None, *, since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[NewsItem]:
        """Stored news newest first (published_at descending, then id), filtered and limited.

        Only items of ``symbol`` (when given) published at or after ``since``
        (when given), at most ``limit`` of them.

        :raises ValidationError: malformed symbol, naive ``since`` or a negative ``limit``.
        """
        raise NotImplementedError

    async def prune_news(self, before: dt.datetime) -> int:
        """Remove news published before ``before``; return how many were removed.

        :raises ValidationError: ``before`` is not an aware datetime.
        :raises StoreError: the store is read-only or the write failed.
        """
        raise NotImplementedError

    async def symbols(self) -> list[str]:
        """Every symbol with a snapshot, an earnings report, a news item or an analysis, sorted.

        :raises StoreError: stored data could not be read.
        """
        raise NotImplementedError
