"""Daily strategy journals: one log per (strategy, day), merged when added twice.

Layout: ``<data_dir>/strategy_logs/`` holds one document per strategy and
month, id ``"<strategy>/<yyyy-mm>"``, each mapping the day's ISO date to its
log. An update rewrites one month of one strategy, never the whole history,
and the last-30-days query touches at most two documents.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from tradestore.contracts import StrategyLogStore
from tradestore.errors import ValidationError
from tradestore.models import PerformanceSummary, StrategyLog
from tradestore.models._checks import ensure_date, ensure_non_negative_int, ensure_strategy_name
from tradestore.persistence import BaseStore, Clock
from tradestore.persistence._changes import Txn
from tradestore.persistence._fs import FileSystem
from tradestore.stores._doc_index import DocIndex
from tradestore.stores._stock_rules import zone
from tradestore.stores._strategy_rules import insights, merge_logs, recent_span
from tradestore.stores._strategy_rules import month_of as _month

__all__ = ["FileStrategyLogStore"]

_log = logging.getLogger(__name__)


def _parse_month(text: str) -> str | None:
    return text if len(text) == 7 else None


class FileStrategyLogStore(BaseStore, StrategyLogStore):
    """Daily logs per strategy, merged per day, with period queries and summaries."""

    folder_name = "strategy_logs"
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
        self.tz = zone(tz)
        super().__init__(data_dir, durable=durable, read_only=read_only, clock=clock, fs=fs,
                         journal=journal)
        self._logs = self._collection(None, "strategy_logs", StrategyLog, lazy=True)
        # strategy -> months that may hold logs (a superset: empty months are harmless).
        self._index = DocIndex(self._logs, _parse_month)

    # -- helpers ---------------------------------------------------------------------------

    def _months(self) -> dict[str, set[str]]:
        """Strategy -> months that may hold logs, built from the document ids on first use."""
        return self._index.get()

    def today(self) -> dt.date:
        return self.now().astimezone(self.tz).date()

    async def _period(self, strategy: str, start: dt.date, end: dt.date) -> list[StrategyLog]:
        """Cached logs dated ``start`` .. ``end`` inclusive, oldest first (copy to hand out)."""
        lo, hi = _month(start), _month(end)
        first, last = start.isoformat(), end.isoformat()
        found: list[tuple[str, StrategyLog]] = []
        for month in sorted(m for m in self._months().get(strategy, ()) if lo <= m <= hi):
            recs = await self._logs.records(f"{strategy}/{month}")
            found.extend((k, r) for k, r in recs.items() if first <= k <= last)
        found.sort(key=lambda item: item[0])
        return [rec for _, rec in found]

    async def _recent(self, strategy_type: str, days: int) -> list[StrategyLog]:
        """Cached logs from ``days`` days before today through today (not copies)."""
        await self._ready()
        strategy = ensure_strategy_name(strategy_type)
        return await self._period(strategy, *recent_span(self.today(), days))

    async def reload(self) -> None:
        """Also forget the document indexes built from the files."""
        await super().reload()
        self._index.reset()

    # -- writing ---------------------------------------------------------------------------

    async def add_log(self, strategy_type: str, log: StrategyLog) -> StrategyLog:
        await self._ready()
        self._check_writable()
        strategy = ensure_strategy_name(strategy_type)
        incoming = StrategyLog.checked(log, "log", self.now())
        if incoming.strategy_type not in ("", strategy):
            raise ValidationError(
                f"log.strategy_type {incoming.strategy_type!r} differs from {strategy!r}",
                field="strategy_type",
            )
        now = self.now()
        doc, key = f"{strategy}/{_month(incoming.date)}", incoming.date.isoformat()

        def merge(txn: Txn[StrategyLog]) -> StrategyLog:
            old = txn.get(doc, key)
            merged = merge_logs(old, incoming, strategy, now)
            txn.put(doc, key, merged)
            self._months().setdefault(strategy, set()).add(_month(incoming.date))
            return merged.clone()

        return await self._logs.mutate([doc], merge)

    async def prune(self, before: dt.date) -> int:
        await self._ready()
        self._check_writable()
        limit = ensure_date(before, "before")
        cutoff, last_month = limit.isoformat(), _month(limit)
        docs = [f"{name}/{m}" for name, months in self._months().items()
                for m in months if m <= last_month]
        if not docs:
            return 0

        def drop(txn: Txn[StrategyLog]) -> int:
            removed = 0
            for doc in docs:
                for key in [k for k in txn.records(doc) if k < cutoff]:
                    txn.delete(doc, key)
                    removed += 1
            return removed

        removed = await self._logs.mutate(docs, drop)
        _log.info("pruned %d strategy logs dated before %s", removed, cutoff)
        return removed

    # -- reading ---------------------------------------------------------------------------

    async def get_log(self, strategy_type: str, day: dt.date) -> StrategyLog | None:
        await self._ready()
        strategy = ensure_strategy_name(strategy_type)
        day = ensure_date(day, "day")
        if _month(day) not in self._months().get(strategy, ()):
            return None
        rec = await self._logs.get(f"{strategy}/{_month(day)}", day.isoformat())
        return rec.clone() if rec is not None else None

    async def get_today_log(self, strategy_type: str) -> StrategyLog | None:
        await self._ready()
        return await self.get_log(strategy_type, self.today())

    async def get_logs_for_period(
        self, strategy_type: str, start_date: dt.date, end_date: dt.date
    ) -> list[StrategyLog]:
        await self._ready()
        strategy = ensure_strategy_name(strategy_type)
        start = ensure_date(start_date, "start_date")
        end = ensure_date(end_date, "end_date")
        if start > end:
            raise ValidationError(f"start_date {start} is after end_date {end}",
                                  field="start_date")
        return [rec.clone() for rec in await self._period(strategy, start, end)]

    async def get_recent_logs(self, strategy_type: str, days: int = 30) -> list[StrategyLog]:
        return [rec.clone() for rec in await self._recent(strategy_type, days)]

    async def get_last_logs(self, strategy_type: str, n: int) -> list[StrategyLog]:
        await self._ready()
        strategy = ensure_strategy_name(strategy_type)
        count = ensure_non_negative_int(n, "n")
        found: list[StrategyLog] = []
        for month in sorted(self._months().get(strategy, ()), reverse=True):
            if len(found) >= count:
                break
            recs = await self._logs.records(f"{strategy}/{month}")
            found.extend(recs[key] for key in sorted(recs, reverse=True))
        return [rec.clone() for rec in found[:count]]

    async def get_performance_summary(
        self, strategy_type: str, days: int = 30
    ) -> PerformanceSummary:
        logs = await self._recent(strategy_type, days)
        return PerformanceSummary.from_logs(logs, days)

    async def get_insights(self, strategy_type: str, days: int = 30) -> dict[str, Any]:
        logs = await self._recent(strategy_type, days)
        return insights(logs, days)

    async def strategy_types(self) -> list[str]:
        await self._ready()
        names: list[str] = []
        for name, months in sorted(self._months().items()):
            for month in sorted(months, reverse=True):
                if await self._logs.records(f"{name}/{month}"):
                    names.append(name)
                    break
        return names
