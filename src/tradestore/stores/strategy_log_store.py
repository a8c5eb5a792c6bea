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
from collections import Counter
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tradestore.contracts import StrategyLogStore
from tradestore.errors import ValidationError
from tradestore.models import (
    PerformanceSummary,
    StrategyLog,
    copy_json,
    ensure_date,
    ensure_non_negative_int,
    validate_strategy_name,
)
from tradestore.persistence import BaseStore, Clock, FileSystem, Txn

__all__ = ["FileStrategyLogStore"]

_log = logging.getLogger(__name__)
_TOP_ITEMS = 5
_MERGED_LISTS = ("what_worked", "what_didnt_work", "market_observations")


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _extend_unique(into: list[str], items: Iterable[str]) -> None:
    """Append each item not already in ``into``, keeping order."""
    seen = set(into)
    for item in items:
        if item not in seen:
            seen.add(item)
            into.append(item)


def _parse_tz(tz: object) -> ZoneInfo:
    """The IANA zone named ``tz``; raise ``ValidationError`` if unknown."""
    if not isinstance(tz, str) or not tz or len(tz) > 128:
        raise ValidationError(f"tz: expected an IANA zone name, got {tz!r:.80}", field="tz")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"tz: unknown time zone {tz!r:.80}", field="tz") from exc


class FileStrategyLogStore(BaseStore, StrategyLogStore):
    """Daily logs per strategy, merged per day, with period queries and summaries.

    :raises StoreClosedError: from any method after ``close()``.
    :raises StoreIOError: from any method, on an operating-system error.
    """

    folder_name = "strategy_logs"

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        tz: str = "UTC",
        durable: bool = True,
        read_only: bool = False,
        clock: Clock | None = None,
        exclusive: bool = False,
        fs: FileSystem | None = None,
    ) -> None:
        self.tz = _parse_tz(tz)
        super().__init__(data_dir, durable=durable, read_only=read_only, clock=clock, fs=fs)
        self._logs = self._collection(None, "strategy_logs", StrategyLog, lazy=True)
        # strategy -> months that may hold logs (a superset: empty months are harmless).
        self._index: dict[str, set[str]] | None = None

    # -- helpers ---------------------------------------------------------------------------

    def _months(self) -> dict[str, set[str]]:
        """Strategy -> months that may hold logs, built from the document ids on first use."""
        if self._index is None:
            index: dict[str, set[str]] = {}
            for doc in self._logs.doc_ids():
                name, _, month = doc.rpartition("/")
                if name and len(month) == 7:
                    index.setdefault(name, set()).add(month)
                else:
                    _log.warning("ignoring unexpected document %r in %s", doc, self.folder)
            self._index = index
        return self._index

    def today(self) -> dt.date:
        """Today's date in the store's time zone, by its clock.

        :raises ValidationError: the clock returned a naive datetime.
        """
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
        strategy = validate_strategy_name(strategy_type)
        span = _check_days(days)
        today = self.today()
        return await self._period(strategy, _days_before(today, span), today)

    async def reload(self) -> None:
        """Re-read the files (for a read-only store, see the writer's latest commits).

        :raises StoreError: a file could not be read or is damaged beyond recovery.
        """
        await super().reload()
        self._index = None

    # -- writing ---------------------------------------------------------------------------

    async def add_log(self, strategy_type: str, log: StrategyLog) -> StrategyLog:
        """Add ``log`` for its day, merging into the day's log; return the stored log.

        Lists are extended without repeats (``tomorrows_focus`` is replaced),
        counts, P&L and token usage summed, metadata updated key by key;
        ``created_at`` is set on the first add and ``updated_at`` on every add.

        :raises ValidationError: bad strategy name or log, or a log naming another strategy.
        :raises StoreError: the store is read-only or the write failed.
        """
        await self._ready()
        self._check_writable()
        strategy = validate_strategy_name(strategy_type)
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
            merged = _merge(old, incoming, strategy, now)
            txn.put(doc, key, merged)
            self._months().setdefault(strategy, set()).add(_month(incoming.date))
            return merged.clone()

        return await self._logs.mutate([doc], merge)

    async def prune(self, before: dt.date) -> int:
        """Remove every log dated before ``before``; return how many were removed.

        :raises ValidationError: ``before`` is not a date.
        :raises StoreError: the store is read-only or the write failed.
        """
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
        """The log of ``strategy_type`` for ``day``, or None.

        :raises ValidationError: bad strategy name or ``day`` not a date.
        """
        await self._ready()
        strategy = validate_strategy_name(strategy_type)
        day = ensure_date(day, "day")
        if _month(day) not in self._months().get(strategy, ()):
            return None
        rec = await self._logs.get(f"{strategy}/{_month(day)}", day.isoformat())
        return rec.clone() if rec is not None else None

    async def get_today_log(self, strategy_type: str) -> StrategyLog | None:
        """The log of ``strategy_type`` for today (in the store's time zone), or None.

        :raises ValidationError: bad strategy name.
        """
        await self._ready()
        return await self.get_log(strategy_type, self.today())

    async def get_logs_for_period(
        self, strategy_type: str, start_date: dt.date, end_date: dt.date
    ) -> list[StrategyLog]:
        """Logs dated ``start_date`` .. ``end_date`` inclusive, oldest first.

        :raises ValidationError: bad strategy name, non-date bounds, or start after end.
        """
        await self._ready()
        strategy = validate_strategy_name(strategy_type)
        start = ensure_date(start_date, "start_date")
        end = ensure_date(end_date, "end_date")
        if start > end:
            raise ValidationError(f"start_date {start} is after end_date {end}",
                                  field="start_date")
        return [rec.clone() for rec in await self._period(strategy, start, end)]

    async def get_recent_logs(self, strategy_type: str, days: int = 30) -> list[StrategyLog]:
        """Logs dated from ``days`` days before today through today, oldest first.

        :raises ValidationError: bad strategy name or ``days`` not a non-negative int.
        """
        return [rec.clone() for rec in await self._recent(strategy_type, days)]

    async def get_performance_summary(
        self, strategy_type: str, days: int = 30
    ) -> PerformanceSummary:
        """Totals over the recent logs; win_rate = wins / (wins + losses) * 100.

        :raises ValidationError: bad strategy name or ``days``.
        """
        logs = await self._recent(strategy_type, days)
        return PerformanceSummary.from_logs(logs, days)

    async def get_insights(self, strategy_type: str, days: int = 30) -> dict[str, Any]:
        """The five most frequent what_worked / what_didnt_work items and the latest focus.

        Ties are broken by first appearance, scanning the logs oldest first.

        :raises ValidationError: bad strategy name or ``days``.
        """
        logs = await self._recent(strategy_type, days)
        return {
            "period_days": days,
            "top_working_strategies": _top(log.what_worked for log in logs),
            "top_failing_approaches": _top(log.what_didnt_work for log in logs),
            "most_recent_focus": list(logs[-1].tomorrows_focus) if logs else [],
        }

    async def strategy_types(self) -> list[str]:
        """The strategies that have at least one log, sorted.

        :raises StoreError: a document could not be read.
        """
        await self._ready()
        names: list[str] = []
        for name, months in sorted(self._months().items()):
            for month in sorted(months, reverse=True):
                if await self._logs.records(f"{name}/{month}"):
                    names.append(name)
                    break
        return names


def _check_days(days: object) -> int:
    return ensure_non_negative_int(days, "days")


def _days_before(day: dt.date, span: int) -> dt.date:
    try:
        return day - dt.timedelta(days=span)
    except OverflowError:
        return dt.date.min


def _top(lists: Iterable[list[str]]) -> list[str]:
    """The five most frequent items; Counter keeps first-seen order among equal counts."""
    counts: Counter[str] = Counter()
    for items in lists:
        counts.update(items)
    return [item for item, _ in counts.most_common(_TOP_ITEMS)]


def _merge(
    old: StrategyLog | None, new: StrategyLog, strategy: str, now: dt.datetime
) -> StrategyLog:
    """The stored log after adding ``new`` onto ``old`` (neither is modified)."""
    if old is None:
        merged = new.clone()
        for name in (*_MERGED_LISTS, "tomorrows_focus"):
            items: list[str] = []
            _extend_unique(items, getattr(new, name))
            setattr(merged, name, items)
        merged.strategy_type = strategy
        merged.created_at = now
        merged.updated_at = now
        # No validate(): ``new`` is a validated copy, the lists only lost repeats, the
        # name was validated and ``now`` is aware (BaseStore.now checks it).
        return merged
    merged = old.clone()
    for name in _MERGED_LISTS:
        _extend_unique(getattr(merged, name), getattr(new, name))
    merged.tomorrows_focus = []
    _extend_unique(merged.tomorrows_focus, new.tomorrows_focus)
    merged.trades_executed += new.trades_executed
    merged.wins += new.wins
    merged.losses += new.losses
    merged.pnl_realized += new.pnl_realized
    for model, count in new.token_usage.items():
        merged.token_usage[model] = merged.token_usage.get(model, 0) + count
    merged.metadata.update(copy_json(new.metadata))
    merged.updated_at = now
    merged.validate()
    return merged
