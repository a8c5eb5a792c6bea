"""StrategyLogStore on PostgreSQL: one row per (strategy, day) in ``tradestore.strategy_logs``.

``add_log`` merges under a row lock (``SELECT ... FOR UPDATE``) with the file
backend's own merge rule, so concurrent adds of one day from any number of
processes all count. Period queries are one range scan of the primary key;
summaries and insights are the shared functions over the period's rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from tradestore.contracts import StrategyLogStore
from tradestore.errors import ValidationError
from tradestore.models import PerformanceSummary, StrategyLog
from tradestore.models._checks import ensure_date, ensure_non_negative_int, ensure_strategy_name
from tradestore.models._stamps import Clock
from tradestore.postgres._rows import RowCodec
from tradestore.postgres._store import Location, PgStore
from tradestore.stores._stock_rules import zone
from tradestore.stores._strategy_rules import insights, merge_logs, recent_span

__all__ = ["PgStrategyLogStore"]

_log = logging.getLogger(__name__)
_LOGS = RowCodec(StrategyLog, "tradestore.strategy_logs")
_SELECT = f"SELECT {_LOGS.select_list} FROM tradestore.strategy_logs"
_INSERT = (f"INSERT INTO tradestore.strategy_logs ({_LOGS.column_list}) "
           f"VALUES ({_LOGS.placeholders}) ON CONFLICT (strategy_type, date) DO NOTHING")
_UPDATE = (
    "UPDATE tradestore.strategy_logs SET "
    + ", ".join(f"{c} = {m}" for c, m in zip(_LOGS.columns, _LOGS.placeholders.split(", "),
                                              strict=True))
    + " WHERE strategy_type = %s AND date = %s"
)


class PgStrategyLogStore(PgStore, StrategyLogStore):
    """Daily logs per strategy, merged per day, with period queries and summaries."""

    kind = "strategy_logs"
    codecs = ((_LOGS, "strategy_type, date"),)

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

    def today(self) -> dt.date:
        return self.now().astimezone(self.tz).date()

    async def add_log(self, strategy_type: str, log: StrategyLog) -> StrategyLog:
        strategy = ensure_strategy_name(strategy_type)
        incoming = StrategyLog.checked(log, "log", self.now())
        if incoming.strategy_type not in ("", strategy):
            raise ValidationError(
                f"log.strategy_type {incoming.strategy_type!r} differs from {strategy!r}",
                field="strategy_type",
            )
        now = self.now()
        where = f"{_SELECT} WHERE strategy_type = %s AND date = %s FOR UPDATE"
        async with self._write("adding a strategy log") as conn:
            while True:
                row = await (await conn.execute(where.encode(),
                                                (strategy, incoming.date))).fetchone()
                old = _LOGS.load(row) if row is not None else None
                merged = merge_logs(old, incoming, strategy, now)
                if old is not None:
                    await conn.execute(_UPDATE.encode(),
                                       [*_LOGS.dump(merged), strategy, incoming.date])
                    break
                cur = await conn.execute(_INSERT.encode(), _LOGS.dump(merged))
                if cur.rowcount == 1:
                    break
                # Another writer inserted the day's first log meanwhile: lock it and merge.
        return merged.clone()

    async def prune(self, before: dt.date) -> int:
        limit = ensure_date(before, "before")
        async with self._write("pruning strategy logs") as conn:
            cur = await conn.execute("DELETE FROM tradestore.strategy_logs WHERE date < %s",
                                     (limit,))
            removed = cur.rowcount
        _log.info("pruned %d strategy logs dated before %s", removed, limit)
        return removed

    async def get_log(self, strategy_type: str, day: dt.date) -> StrategyLog | None:
        strategy = ensure_strategy_name(strategy_type)
        day = ensure_date(day, "day")
        rows = await self._fetch("reading a strategy log",
                                 f"{_SELECT} WHERE strategy_type = %s AND date = %s",
                                 (strategy, day))
        return _LOGS.load(rows[0]) if rows else None

    async def get_today_log(self, strategy_type: str) -> StrategyLog | None:
        await self._ready()
        return await self.get_log(strategy_type, self.today())

    async def _period(self, strategy: str, start: dt.date, end: dt.date) -> list[StrategyLog]:
        rows = await self._fetch(
            "reading strategy logs",
            f"{_SELECT} WHERE strategy_type = %s AND date BETWEEN %s AND %s ORDER BY date",
            (strategy, start, end))
        return [_LOGS.load(row) for row in rows]

    async def get_logs_for_period(
        self, strategy_type: str, start_date: dt.date, end_date: dt.date
    ) -> list[StrategyLog]:
        strategy = ensure_strategy_name(strategy_type)
        start = ensure_date(start_date, "start_date")
        end = ensure_date(end_date, "end_date")
        if start > end:
            raise ValidationError(f"start_date {start} is after end_date {end}",
                                  field="start_date")
        return await self._period(strategy, start, end)

    async def _recent(self, strategy_type: str, days: int) -> list[StrategyLog]:
        strategy = ensure_strategy_name(strategy_type)
        return await self._period(strategy, *recent_span(self.today(), days))

    async def get_recent_logs(self, strategy_type: str, days: int = 30) -> list[StrategyLog]:
        return await self._recent(strategy_type, days)

    async def get_last_logs(self, strategy_type: str, n: int) -> list[StrategyLog]:
        strategy = ensure_strategy_name(strategy_type)
        count = ensure_non_negative_int(n, "n")
        rows = await self._fetch(
            "reading strategy logs",
            f"{_SELECT} WHERE strategy_type = %s ORDER BY date DESC LIMIT %s",
            (strategy, count))
        return [_LOGS.load(row) for row in rows]

    async def get_performance_summary(
        self, strategy_type: str, days: int = 30
    ) -> PerformanceSummary:
        return PerformanceSummary.from_logs(await self._recent(strategy_type, days), days)

    async def get_insights(self, strategy_type: str, days: int = 30) -> dict[str, Any]:
        logs = await self._recent(strategy_type, days)
        return insights(logs, days)

    async def strategy_types(self) -> list[str]:
        rows = await self._fetch(
            "listing strategies",
            "SELECT DISTINCT strategy_type FROM tradestore.strategy_logs ORDER BY 1")
        return [row[0] for row in rows]
