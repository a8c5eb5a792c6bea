"""The StrategyLogStore contract: daily strategy journals, merged per day."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar, Self
from zoneinfo import ZoneInfo

from tradestore.contracts._base import Clock, Location, Store
from tradestore.models import PerformanceSummary, StrategyLog

if TYPE_CHECKING:
    from tradestore.persistence._fs import FileSystem

__all__ = ["StrategyLogStore"]


class StrategyLogStore(Store):
    """Daily logs per strategy, merged per day, with period queries and summaries."""

    tz: ZoneInfo  #: whose calendar "today" is

    backends: ClassVar[dict[str, str]] = {
        "file": "tradestore.stores.strategy_log_store:FileStrategyLogStore",
        "postgres": "tradestore.postgres.strategy_logs:PgStrategyLogStore"}

    def __new__(
        cls, location: Location, *, tz: str | ZoneInfo = "UTC", durable: bool = True,
        read_only: bool = False, clock: Clock | None = None, exclusive: bool = False,
        fs: FileSystem | None = None,
        journal: str = "files",
    ) -> Self:
        return cls._dispatch(location)

    def today(self) -> dt.date:
        """Today's date in the store's time zone, by its clock.

        :raises ValidationError: the clock returned a naive datetime.
        """
        raise NotImplementedError

    async def add_log(self, strategy_type: str, log: StrategyLog) -> StrategyLog:
        """Add ``log`` for its day, merging into the day's log; return the stored log.

        Lists are extended without repeats (``tomorrows_focus`` is replaced),
        counts, P&L and token usage summed, metadata updated key by key;
        ``created_at`` is set on the first add and ``updated_at`` on every add.

        :raises ValidationError: bad strategy name or log, or a log naming another strategy.
        :raises StoreError: the store is read-only or the write failed.
        """
        raise NotImplementedError

    async def prune(self, before: dt.date) -> int:
        """Remove every log dated before ``before``; return how many were removed.

        :raises ValidationError: ``before`` is not a date.
        :raises StoreError: the store is read-only or the write failed.
        """
        raise NotImplementedError

    async def get_log(self, strategy_type: str, day: dt.date) -> StrategyLog | None:
        """The log of ``strategy_type`` for ``day``, or None.

        :raises ValidationError: bad strategy name or ``day`` not a date.
        """
        raise NotImplementedError

    async def get_today_log(self, strategy_type: str) -> StrategyLog | None:
        """The log of ``strategy_type`` for today (in the store's time zone), or None.

        :raises ValidationError: bad strategy name.
        """
        raise NotImplementedError

    async def get_logs_for_period(
        self, strategy_type: str, start_date: dt.date, end_date: dt.date
    ) -> list[StrategyLog]:
        """Logs dated ``start_date`` .. ``end_date`` inclusive, oldest first.

        :raises ValidationError: bad strategy name, non-date bounds, or start after end.
        """
        raise NotImplementedError

    async def get_recent_logs(self, strategy_type: str, days: int = 30) -> list[StrategyLog]:
        """Logs dated from ``days`` days before today through today, oldest first.

        :raises ValidationError: bad strategy name or ``days`` not a non-negative int.
        """
        raise NotImplementedError

    async def get_last_logs(self, strategy_type: str, n: int) -> list[StrategyLog]:
        """The newest ``n`` logs by date, whatever their dates, newest first.

        :raises ValidationError: bad strategy name or ``n`` not a non-negative int.
        """
        raise NotImplementedError

    async def get_performance_summary(
        self, strategy_type: str, days: int = 30
    ) -> PerformanceSummary:
        """Totals over the recent logs; win_rate = wins / (wins + losses) * 100.

        :raises ValidationError: bad strategy name or ``days``.
        """
        raise NotImplementedError

    async def get_insights(self, strategy_type: str, days: int = 30) -> dict[str, Any]:
        """The five most frequent what_worked / what_didnt_work items and the latest focus.

        Ties are broken by first appearance, scanning the logs oldest first.

        :raises ValidationError: bad strategy name or ``days``.
        """
        raise NotImplementedError

    async def strategy_types(self) -> list[str]:
        """The strategies that have at least one log, sorted."""
        raise NotImplementedError
