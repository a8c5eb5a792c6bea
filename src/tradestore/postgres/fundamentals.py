"""FundamentalStore on PostgreSQL: snapshots, earnings, news and analyses, one table each.

Latest and history queries are index range scans on (symbol, date);
``save_news`` inserts with ``ON CONFLICT (id) DO NOTHING``, so an id already
stored (by any process) is never counted or replaced.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any
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
from tradestore.models._stamps import Clock
from tradestore.postgres._rows import RowCodec
from tradestore.postgres._store import Location, PgStore
from tradestore.stores._fundamental_rules import (
    check_max_age,
    check_range,
    is_stale,
    same_day_keys,
)
from tradestore.stores._stock_rules import zone

__all__ = ["PgFundamentalStore"]

_log = logging.getLogger(__name__)
_SNAPSHOTS = RowCodec(FundamentalSnapshot, "tradestore.fundamental_snapshots")
_EARNINGS = RowCodec(EarningsReport, "tradestore.earnings_reports")
_NEWS = RowCodec(NewsItem, "tradestore.news_items")
_ANALYSES = RowCodec(FundamentalAnalysis, "tradestore.fundamental_analyses")


def _upsert(codec: RowCodec[Any], key: tuple[str, ...]) -> bytes:
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in codec.columns if c not in key)
    return (f"INSERT INTO {codec.table} ({codec.column_list}) VALUES ({codec.placeholders}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}").encode()


_SAVE_SNAPSHOT = _upsert(_SNAPSHOTS, ("symbol", "as_of"))
_SAVE_EARNINGS = _upsert(_EARNINGS, ("symbol", "fiscal_period"))
_SAVE_ANALYSIS = _upsert(_ANALYSES, ("symbol", "analyzed_at"))
_SAVE_NEWS = (f"INSERT INTO {_NEWS.table} ({_NEWS.column_list}) VALUES ({_NEWS.placeholders}) "
              "ON CONFLICT (id) DO NOTHING").encode()


class PgFundamentalStore(PgStore, FundamentalStore):
    """Snapshots, earnings, news and analyses per symbol, with latest and history queries."""

    def __init__(
        self,
        location: Location,
        *,
        tz: str | ZoneInfo = "UTC",
        durable: bool = True,
        read_only: bool = False,
        clock: Clock | None = None,
        exclusive: bool = False,
        fs: object = None,
        journal: str = "files",
    ) -> None:
        self.tz = zone(tz)
        super().__init__(location, durable=durable, read_only=read_only, exclusive=exclusive,
                         clock=clock, fs=fs, journal=journal)

    kind = "fundamentals"
    codecs = ((_SNAPSHOTS, "symbol, as_of"), (_EARNINGS, "symbol, fiscal_period"),
              (_NEWS, "id"), (_ANALYSES, "symbol, analyzed_at"))

    async def _save(self, sql: bytes, params: list[Any], action: str) -> None:
        async with self._write(action) as conn:
            await conn.execute(sql, params)

    # -- snapshots -------------------------------------------------------------------------

    async def save_fundamentals(self, snapshot: FundamentalSnapshot) -> None:
        snap = FundamentalSnapshot.checked(snapshot, "snapshot", self.now())
        await self._save(_SAVE_SNAPSHOT, _SNAPSHOTS.dump(snap), "saving a snapshot")

    async def get_latest_fundamentals(self, symbol: str) -> FundamentalSnapshot | None:
        sym = ensure_symbol(symbol)
        rows = await self._fetch(
            "reading a snapshot",
            f"SELECT {_SNAPSHOTS.select_list} FROM {_SNAPSHOTS.table} WHERE symbol = %s "
            "ORDER BY as_of DESC LIMIT 1", (sym,))
        return _SNAPSHOTS.load(rows[0]) if rows else None

    async def get_fundamentals_history(
        self, symbol: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[FundamentalSnapshot]:
        sym = ensure_symbol(symbol)
        check_range(start, end)
        rows = await self._fetch(
            "reading snapshots",
            f"SELECT {_SNAPSHOTS.select_list} FROM {_SNAPSHOTS.table} WHERE symbol = %s "
            "AND (%s::date IS NULL OR as_of >= %s) AND (%s::date IS NULL OR as_of <= %s) "
            "ORDER BY as_of", (sym, start, start, end, end))
        return [_SNAPSHOTS.load(row) for row in rows]

    async def is_stale(self, symbol: str, max_age: dt.timedelta) -> bool:
        age = check_max_age(max_age)
        return is_stale(await self.get_latest_fundamentals(symbol), self.now(), age)

    # -- earnings --------------------------------------------------------------------------

    async def save_earnings(self, report: EarningsReport) -> None:
        rep = EarningsReport.checked(report, "report", self.now())
        await self._save(_SAVE_EARNINGS, _EARNINGS.dump(rep), "saving an earnings report")

    async def get_earnings_history(self, symbol: str) -> list[EarningsReport]:
        sym = ensure_symbol(symbol)
        rows = await self._fetch(
            "reading earnings reports",
            f"SELECT {_EARNINGS.select_list} FROM {_EARNINGS.table} WHERE symbol = %s "
            "ORDER BY report_date, fiscal_period", (sym,))
        return [_EARNINGS.load(row) for row in rows]

    async def get_latest_earnings(self, symbol: str) -> EarningsReport | None:
        sym = ensure_symbol(symbol)
        rows = await self._fetch(
            "reading an earnings report",
            f"SELECT {_EARNINGS.select_list} FROM {_EARNINGS.table} WHERE symbol = %s "
            "ORDER BY report_date DESC, fiscal_period DESC LIMIT 1", (sym,))
        return _EARNINGS.load(rows[0]) if rows else None

    # -- analyses --------------------------------------------------------------------------

    async def save_analysis(
        self, analysis: FundamentalAnalysis, *, replace_same_day: bool = False
    ) -> None:
        ana = FundamentalAnalysis.checked(analysis, "analysis", self.now())
        one_a_day = ensure_bool(replace_same_day, "replace_same_day")
        async with self._write("saving an analysis") as conn:
            if one_a_day:
                # Serialises same-day saves of one symbol (new rows cannot be row-locked).
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                                   (f"tradestore.analyses:{ana.symbol}",))
                cur = await conn.execute(
                    f"SELECT {_ANALYSES.select_list} FROM {_ANALYSES.table} "
                    "WHERE symbol = %s".encode(), (ana.symbol,))
                history = {str(i): _ANALYSES.load(row)
                           for i, row in enumerate(await cur.fetchall())}
                stale = [history[key].analyzed_at
                         for key in same_day_keys(history, ana, self.tz)]
                if stale:
                    await conn.execute(
                        f"DELETE FROM {_ANALYSES.table} WHERE symbol = %s "
                        "AND analyzed_at = ANY(%s)".encode(), (ana.symbol, stale))
            await conn.execute(_SAVE_ANALYSIS, _ANALYSES.dump(ana))

    async def get_analysis_history(self, symbol: str) -> list[FundamentalAnalysis]:
        sym = ensure_symbol(symbol)
        rows = await self._fetch(
            "reading analyses",
            f"SELECT {_ANALYSES.select_list} FROM {_ANALYSES.table} WHERE symbol = %s "
            "ORDER BY analyzed_at", (sym,))
        return [_ANALYSES.load(row) for row in rows]

    async def get_latest_analysis(self, symbol: str) -> FundamentalAnalysis | None:
        sym = ensure_symbol(symbol)
        rows = await self._fetch(
            "reading an analysis",
            f"SELECT {_ANALYSES.select_list} FROM {_ANALYSES.table} WHERE symbol = %s "
            "ORDER BY analyzed_at DESC LIMIT 1", (sym,))
        return _ANALYSES.load(rows[0]) if rows else None

    # -- news ------------------------------------------------------------------------------

    async def save_news(self, items: Iterable[NewsItem]) -> int:
        if isinstance(items, NewsItem | str | bytes) or not isinstance(items, Iterable):
            raise ValidationError("items: expected an iterable of NewsItem", field="items")
        now = self.now()
        fresh: dict[str, NewsItem] = {}
        for item in (NewsItem.checked(item, "items", now) for item in items):
            fresh.setdefault(item.id, item)  # the first of an id in the batch wins
        if not fresh:
            await self._ready()
            self._check_writable()
            return 0
        async with self._write("saving news") as conn, conn.cursor() as cur:
            await cur.executemany(_SAVE_NEWS, [_NEWS.dump(n) for n in fresh.values()])
            added = max(cur.rowcount, 0)
        return added

    async def get_news(
        self, symbol: str | None = None, *, since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[NewsItem]:
        sym = None if symbol is None else ensure_symbol(symbol)
        since = ensure_optional_aware(since, "since")
        cap = None if limit is None else ensure_non_negative_int(limit, "limit")
        where: list[str] = []
        params: list[Any] = []
        if sym is not None:
            where.append("symbol = %s")
            params.append(sym)
        if since is not None:
            where.append("published_at >= %s")
            params.append(since)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = await self._fetch(
            "reading news",
            f"SELECT {_NEWS.select_list} FROM {_NEWS.table}{clause} "
            "ORDER BY published_at DESC, id LIMIT %s", [*params, cap])
        return [_NEWS.load(row) for row in rows]

    async def prune_news(self, before: dt.datetime) -> int:
        cutoff = ensure_aware(before, "before")
        async with self._write("pruning news") as conn:
            cur = await conn.execute(f"DELETE FROM {_NEWS.table} WHERE published_at < %s"
                                     .encode(), (cutoff,))
            removed = cur.rowcount
        _log.info("pruned %d news items published before %s", removed, cutoff)
        return removed

    # -- everything ------------------------------------------------------------------------

    async def symbols(self) -> list[str]:
        rows = await self._fetch(
            "listing symbols",
            f"SELECT symbol FROM {_SNAPSHOTS.table} UNION SELECT symbol FROM {_EARNINGS.table}"
            f" UNION SELECT symbol FROM {_NEWS.table} WHERE symbol <> ''"
            f" UNION SELECT symbol FROM {_ANALYSES.table} ORDER BY 1")
        return [row[0] for row in rows]
