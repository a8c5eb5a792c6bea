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

from tradestore.contracts import FundamentalStore
from tradestore.errors import ValidationError
from tradestore.models import EarningsReport, FundamentalAnalysis, FundamentalSnapshot, NewsItem
from tradestore.models._checks import (
    ensure_aware,
    ensure_bool,
    ensure_non_negative_int,
    ensure_optional_aware,
    ensure_symbol,
)
from tradestore.persistence import BaseStore, Clock
from tradestore.persistence._changes import Txn
from tradestore.persistence._fs import FileSystem
from tradestore.stores._doc_index import DocIndex
from tradestore.stores._fundamental_rules import (
    check_max_age,
    check_range,
    is_stale,
    same_day_keys,
)
from tradestore.stores._news import NewsArchive
from tradestore.stores._stock_rules import zone

__all__ = ["FileFundamentalStore"]

_log = logging.getLogger(__name__)


def _utc_key(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _parse_year(text: str) -> int | None:
    return int(text) if text.isdigit() else None


class FileFundamentalStore(BaseStore, FundamentalStore):
    """Snapshots, earnings, news and analyses per symbol, with latest and history queries."""

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
        exclusive: bool = False,
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
        """Also forget the document indexes built from the files."""
        async with self._news.lock:
            await super().reload()
            self._years.reset()
            self._news.reset()

    # -- snapshots -------------------------------------------------------------------------

    async def save_fundamentals(self, snapshot: FundamentalSnapshot) -> None:
        await self._ready()
        self._check_writable()
        snap = FundamentalSnapshot.checked(snapshot, "snapshot", self.now())
        doc = f"{snap.symbol}/{snap.as_of.year:04d}"

        def put(txn: Txn[FundamentalSnapshot]) -> None:
            txn.put(doc, snap.as_of.isoformat(), snap)

        await self._snapshots.mutate([doc], put)
        self._snapshot_years().setdefault(snap.symbol, set()).add(snap.as_of.year)

    async def get_latest_fundamentals(self, symbol: str) -> FundamentalSnapshot | None:
        await self._ready()
        sym = ensure_symbol(symbol)
        for year in sorted(self._snapshot_years().get(sym, ()), reverse=True):
            recs = await self._snapshots.records(f"{sym}/{year:04d}")
            if recs:
                return recs[max(recs)].clone()
        return None

    async def get_fundamentals_history(
        self, symbol: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[FundamentalSnapshot]:
        await self._ready()
        sym = ensure_symbol(symbol)
        check_range(start, end)
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
        age = check_max_age(max_age)
        return is_stale(await self.get_latest_fundamentals(symbol), self.now(), age)

    # -- earnings --------------------------------------------------------------------------

    async def save_earnings(self, report: EarningsReport) -> None:
        await self._ready()
        self._check_writable()
        rep = EarningsReport.checked(report, "report", self.now())

        def put(txn: Txn[EarningsReport]) -> None:
            txn.put(rep.symbol, rep.fiscal_period, rep)

        await self._earnings.mutate([rep.symbol], put)

    async def get_earnings_history(self, symbol: str) -> list[EarningsReport]:
        await self._ready()
        sym = ensure_symbol(symbol)
        recs = await self._earnings.records(sym)
        ordered = sorted(recs.values(), key=lambda r: (r.report_date, r.fiscal_period))
        return [rec.clone() for rec in ordered]

    async def get_latest_earnings(self, symbol: str) -> EarningsReport | None:
        history = await self.get_earnings_history(symbol)
        return history[-1] if history else None

    # -- analyses --------------------------------------------------------------------------

    async def save_analysis(
        self, analysis: FundamentalAnalysis, *, replace_same_day: bool = False
    ) -> None:
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
        await self._ready()
        sym = ensure_symbol(symbol)
        recs = await self._analyses.records(sym)
        return [recs[key].clone() for key in sorted(recs)]

    async def get_latest_analysis(self, symbol: str) -> FundamentalAnalysis | None:
        await self._ready()
        sym = ensure_symbol(symbol)
        recs = await self._analyses.records(sym)
        return recs[max(recs)].clone() if recs else None

    # -- news ------------------------------------------------------------------------------

    async def save_news(self, items: Iterable[NewsItem]) -> int:
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
        await self._ready()
        sym = None if symbol is None else ensure_symbol(symbol)
        since = ensure_optional_aware(since, "since")
        if limit is not None:
            ensure_non_negative_int(limit, "limit")
        return await self._news.query(sym, since, limit)

    async def prune_news(self, before: dt.datetime) -> int:
        await self._ready()
        self._check_writable()
        return await self._news.prune(ensure_aware(before, "before"))

    # -- everything ------------------------------------------------------------------------

    async def symbols(self) -> list[str]:
        await self._ready()
        found = {s for s, years in self._snapshot_years().items() if years}
        found.update(self._earnings.doc_ids(), self._analyses.doc_ids())
        found.update(await self._news.symbols())
        return sorted(found)
