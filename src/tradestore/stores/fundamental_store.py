"""Fundamentals per symbol: snapshots, earnings reports, news and analyses.

Layout: ``<data_dir>/fundamentals/`` holds four collections, each in its own
sub-folder: ``snapshots/`` (one document per symbol and year, keyed by the
as-of date), ``earnings/`` (one document per symbol, keyed by fiscal period),
``news/`` (one document per UTC month of publication, keyed by news id) and
``analyses/`` (one document per symbol, keyed by the UTC analysis time). An
update rewrites one bounded document, never the whole collection.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable
from typing import ClassVar
from zoneinfo import ZoneInfo

from tradestore.errors import ValidationError
from tradestore.models import (
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    NewsItem,
    ensure_aware,
    ensure_bool,
    ensure_non_negative_int,
    ensure_optional_aware,
    ensure_optional_date,
    normalize_symbol,
)
from tradestore.persistence import BaseStore, Clock, FileSystem, Txn
from tradestore.stores._doc_index import DocIndex
from tradestore.stores._fundamental_rules import same_day_keys
from tradestore.stores._news import NewsArchive
from tradestore.stores._stock_rules import zone

__all__ = ["FundamentalStore"]

_log = logging.getLogger(__name__)


def _utc_key(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _parse_year(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _check_range(start: dt.date | None, end: dt.date | None) -> None:
    ensure_optional_date(start, "start")
    ensure_optional_date(end, "end")
    if start is not None and end is not None and start > end:
        raise ValidationError(f"start {start} is after end {end}", field="start")


class FundamentalStore(BaseStore):
    """Snapshots, earnings, news and analyses per symbol, with latest and history queries.

    :raises StoreClosedError: from any method after ``close()``.
    :raises StoreIOError: from any method, on an operating-system error.
    """

    folder_name = "fundamentals"
    handle_attrs: ClassVar[frozenset[str]] = frozenset({"tz"})

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        tz: str | ZoneInfo = "UTC",
        durable: bool = True,
        read_only: bool = False,
        clock: Clock | None = None,
        fs: FileSystem | None = None,
        journal: str = "files",
    ) -> None:
        self.tz = zone(tz)  # whose calendar day save_analysis(replace_same_day=True) uses
        super().__init__(data_dir, durable=durable, read_only=read_only, clock=clock, fs=fs,
                         journal=journal)
        self._snapshots = self._collection("snapshots", "snapshots", FundamentalSnapshot,
                                           lazy=True)
        self._earnings = self._collection("earnings", "earnings", EarningsReport, lazy=True)
        self._news = NewsArchive(self._collection("news", "news", NewsItem, lazy=True))
        self._analyses = self._collection("analyses", "analyses", FundamentalAnalysis,
                                          lazy=True)
        self._years = DocIndex(self._snapshots, _parse_year)  # symbol -> snapshot years

    # -- indexes ---------------------------------------------------------------------------

    def _snapshot_years(self) -> dict[str, set[int]]:
        """Symbol -> years with snapshots, built from the document ids on first use."""
        return self._years.get()

    async def reload(self) -> None:
        """Re-read the files (for a read-only store, see the writer's latest commits).

        :raises StoreError: a file could not be read or is damaged beyond recovery.
        """
        async with self._news.lock:
            await super().reload()
            self._years.reset()
            self._news.reset()

    # -- snapshots -------------------------------------------------------------------------

    async def save_fundamentals(self, snapshot: FundamentalSnapshot) -> None:
        """Store ``snapshot`` under (symbol, as_of), replacing any snapshot with that key.

        :raises ValidationError: ``snapshot`` is not a valid FundamentalSnapshot.
        :raises StoreError: the store is read-only or the write failed.
        """
        await self._ready()
        self._check_writable()
        snap = FundamentalSnapshot.checked(snapshot, "snapshot", self.now())
        doc = f"{snap.symbol}/{snap.as_of.year:04d}"

        def put(txn: Txn[FundamentalSnapshot]) -> None:
            txn.put(doc, snap.as_of.isoformat(), snap)

        await self._snapshots.mutate([doc], put)
        self._snapshot_years().setdefault(snap.symbol, set()).add(snap.as_of.year)

    async def get_latest_fundamentals(self, symbol: str) -> FundamentalSnapshot | None:
        """The snapshot of ``symbol`` with the greatest as_of, or None.

        :raises ValidationError: malformed symbol.
        """
        await self._ready()
        sym = normalize_symbol(symbol)
        for year in sorted(self._snapshot_years().get(sym, ()), reverse=True):
            recs = await self._snapshots.records(f"{sym}/{year:04d}")
            if recs:
                return recs[max(recs)].clone()
        return None

    async def get_fundamentals_history(
        self, symbol: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[FundamentalSnapshot]:
        """Snapshots of ``symbol`` with as_of in ``start`` .. ``end`` (inclusive), oldest first.

        :raises ValidationError: malformed symbol, non-date bounds, or start after end.
        """
        await self._ready()
        sym = normalize_symbol(symbol)
        _check_range(start, end)
        lo = start.isoformat() if start else ""
        hi = end.isoformat() if end else "~"
        found: list[tuple[str, FundamentalSnapshot]] = []
        for year in sorted(self._snapshot_years().get(sym, ())):
            if (start and year < start.year) or (end and year > end.year):
                continue
            recs = await self._snapshots.records(f"{sym}/{year:04d}")
            found.extend((k, r) for k, r in recs.items() if lo <= k <= hi)
        found.sort(key=lambda item: item[0])
        return [rec.clone() for _, rec in found]

    async def is_stale(self, symbol: str, max_age: dt.timedelta) -> bool:
        """True if ``symbol`` has no snapshot or its latest was fetched more than max_age ago.

        :raises ValidationError: malformed symbol, or ``max_age`` not a non-negative timedelta.
        """
        if not isinstance(max_age, dt.timedelta) or max_age < dt.timedelta(0):
            raise ValidationError(f"max_age: expected a non-negative timedelta, got "
                                  f"{max_age!r:.80}", field="max_age")
        latest = await self.get_latest_fundamentals(symbol)
        return latest is None or self.now() - latest.fetched_at > max_age

    # -- earnings --------------------------------------------------------------------------

    async def save_earnings(self, report: EarningsReport) -> None:
        """Store ``report`` under (symbol, fiscal_period), replacing any report with that key.

        :raises ValidationError: ``report`` is not a valid EarningsReport.
        :raises StoreError: the store is read-only or the write failed.
        """
        await self._ready()
        self._check_writable()
        rep = EarningsReport.checked(report, "report", self.now())

        def put(txn: Txn[EarningsReport]) -> None:
            txn.put(rep.symbol, rep.fiscal_period, rep)

        await self._earnings.mutate([rep.symbol], put)

    async def get_earnings_history(self, symbol: str) -> list[EarningsReport]:
        """Every report of ``symbol``, by report_date (then fiscal period).

        :raises ValidationError: malformed symbol.
        """
        await self._ready()
        sym = normalize_symbol(symbol)
        recs = await self._earnings.records(sym)
        ordered = sorted(recs.values(), key=lambda r: (r.report_date, r.fiscal_period))
        return [rec.clone() for rec in ordered]

    async def get_latest_earnings(self, symbol: str) -> EarningsReport | None:
        """The report of ``symbol`` with the greatest report_date, or None.

        :raises ValidationError: malformed symbol.
        """
        history = await self.get_earnings_history(symbol)
        return history[-1] if history else None

    # -- analyses --------------------------------------------------------------------------

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
        await self._ready()
        self._check_writable()
        ana = FundamentalAnalysis.checked(analysis, "analysis", self.now())
        one_a_day = ensure_bool(replace_same_day, "replace_same_day")

        def put(txn: Txn[FundamentalAnalysis]) -> None:
            if one_a_day:
                for key in same_day_keys(txn.records(ana.symbol), ana, self.tz):
                    txn.delete(ana.symbol, key)
            txn.put(ana.symbol, _utc_key(ana.analyzed_at), ana)

        await self._analyses.mutate([ana.symbol], put)

    async def get_analysis_history(self, symbol: str) -> list[FundamentalAnalysis]:
        """Every analysis of ``symbol``, oldest first.

        :raises ValidationError: malformed symbol.
        """
        await self._ready()
        sym = normalize_symbol(symbol)
        recs = await self._analyses.records(sym)
        return [recs[key].clone() for key in sorted(recs)]

    async def get_latest_analysis(self, symbol: str) -> FundamentalAnalysis | None:
        """The analysis of ``symbol`` with the greatest analyzed_at, or None.

        :raises ValidationError: malformed symbol.
        """
        await self._ready()
        sym = normalize_symbol(symbol)
        recs = await self._analyses.records(sym)
        return recs[max(recs)].clone() if recs else None

    # -- news ------------------------------------------------------------------------------

    async def save_news(self, items: Iterable[NewsItem]) -> int:
        """Store the items whose id is new (first one wins in the batch); return how many.

        All new items are committed in one write.

        :raises ValidationError: ``items`` is not an iterable of valid NewsItems.
        :raises StoreError: the store is read-only or the write failed.
        """
        await self._ready()
        self._check_writable()
        if isinstance(items, NewsItem | str | bytes) or not isinstance(items, Iterable):
            raise ValidationError("items: expected an iterable of NewsItem", field="items")
        now = self.now()
        batch = [NewsItem.checked(item, "items", now) for item in items]
        return await self._news.save(batch)

    async def get_news(
        self, symbol: str | None = None, *, since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[NewsItem]:
        """Stored news newest first (published_at descending, then id), filtered and limited.

        Only items of ``symbol`` (when given) published at or after ``since``
        (when given), at most ``limit`` of them.

        :raises ValidationError: malformed symbol, naive ``since`` or a negative ``limit``.
        """
        await self._ready()
        sym = None if symbol is None else normalize_symbol(symbol)
        since = ensure_optional_aware(since, "since")
        if limit is not None:
            ensure_non_negative_int(limit, "limit")
        return await self._news.query(sym, since, limit)

    async def prune_news(self, before: dt.datetime) -> int:
        """Remove news published before ``before``; return how many were removed.

        :raises ValidationError: ``before`` is not an aware datetime.
        :raises StoreError: the store is read-only or the write failed.
        """
        await self._ready()
        self._check_writable()
        return await self._news.prune(ensure_aware(before, "before"))

    # -- everything ------------------------------------------------------------------------

    async def symbols(self) -> list[str]:
        """Every symbol with a snapshot, an earnings report, a news item or an analysis, sorted.

        The first call loads the whole news collection.

        :raises StoreError: a document could not be read.
        """
        await self._ready()
        found = {s for s, years in self._snapshot_years().items() if years}
        found.update(self._earnings.doc_ids(), self._analyses.doc_ids())
        found.update(await self._news.symbols())
        return sorted(found)
