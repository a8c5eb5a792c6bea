"""StockStateStore: per-symbol scheduler bookkeeping, durable in ``<data_dir>/stock_state/``.

States are spread over 1,024 documents by a stable hash of the normalised
symbol (``zlib.crc32(symbol) % 1024`` as three hex digits). Documents are
loaded on first touch (``lazy``), and a durable update writes one small journal
file plus, at checkpoints, only the documents it changed: its cost does not
grow with the number of symbols stored.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tradestore.errors import ValidationError
from tradestore.models import (
    StockSchedulerState,
    ensure_aware,
    ensure_bool,
    ensure_date,
    ensure_non_negative_int,
)
from tradestore.persistence import BaseStore, Clock, FileSystem, Txn
from tradestore.stores._stock_rules import SymbolKeys, is_due, oldest_first, zone

__all__ = ["StockStateStore"]

_log = logging.getLogger(__name__)


def _assign(state: StockSchedulerState, fields: dict[str, object]) -> None:
    for name, value in fields.items():
        setattr(state, name, value)


class StockStateStore(BaseStore):
    """When the scheduler last fetched each kind of data for each symbol."""

    folder_name = "stock_state"

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        tz: str | ZoneInfo = "UTC",
        news_interval_days: int = 1,
        earnings_interval_days: int = 7,
        fundamentals_interval_days: int = 7,
        durable: bool = True,
        read_only: bool = False,
        clock: Clock | None = None,
        fs: FileSystem | None = None,
    ) -> None:
        self.tz = zone(tz)
        self.news_interval_days = ensure_non_negative_int(news_interval_days,
                                                          "news_interval_days")
        self.earnings_interval_days = ensure_non_negative_int(earnings_interval_days,
                                                              "earnings_interval_days")
        self.fundamentals_interval_days = ensure_non_negative_int(
            fundamentals_interval_days, "fundamentals_interval_days")
        self._intervals = {
            "news": self.news_interval_days,
            "earnings": self.earnings_interval_days,
            "fundamentals": self.fundamentals_interval_days,
        }
        super().__init__(data_dir, durable=durable, read_only=read_only, clock=clock, fs=fs)
        self._states = self._collection(None, "stock_state", StockSchedulerState, lazy=True)
        self._key = SymbolKeys()

    def today(self) -> date:
        """The calendar date in the store's zone at the store clock's current time."""
        return self.now().astimezone(self.tz).date()

    # -- reads ------------------------------------------------------------------------------

    async def get_state(self, symbol: str) -> StockSchedulerState:
        """A copy of the symbol's state, or a default one (nothing is written) if unknown.

        :raises ValidationError: ``symbol`` is malformed.
        :raises StoreClosedError: the store was closed.
        """
        if self._state != "open":  # checked inline: this is the scheduler's hottest call
            await self._ready()
        sym, doc = self._key(symbol)
        state = await self._states.get(doc, sym)
        if state is None:
            return StockSchedulerState(symbol=sym, updated_at=self.now())
        return state.clone()

    async def all_states(self) -> dict[str, StockSchedulerState]:
        """Copies of every stored state, keyed by symbol in symbol order.

        :raises StoreClosedError: the store was closed.
        """
        await self._ready()
        await self._states.load_all()
        found: dict[str, StockSchedulerState] = {}
        for doc in self._states.doc_ids():
            for sym, state in (await self._states.records(doc)).items():
                found[sym] = state.clone()
        return dict(sorted(found.items()))

    async def needs_news_fetch(self, symbol: str) -> bool:
        """Whether news was not checked within the last ``news_interval_days``.

        :raises ValidationError: ``symbol`` is malformed.
        :raises StoreClosedError: the store was closed.
        """
        return await self._needs_one("news", symbol)

    async def needs_earnings_fetch(self, symbol: str) -> bool:
        """Whether earnings were never checked, or ``earnings_interval_days`` ago or more.

        :raises ValidationError: ``symbol`` is malformed.
        :raises StoreClosedError: the store was closed.
        """
        return await self._needs_one("earnings", symbol)

    async def needs_fundamentals_check(self, symbol: str) -> bool:
        """Whether fundamentals are flagged, never checked, or checked long enough ago.

        :raises ValidationError: ``symbol`` is malformed.
        :raises StoreClosedError: the store was closed.
        """
        return await self._needs_one("fundamentals", symbol)

    async def get_stocks_needing_news(self, symbols: Iterable[str]) -> list[str]:
        """The symbols that need a news fetch, in input order (first occurrence kept).

        :raises ValidationError: ``symbols`` is not an iterable of valid symbols.
        :raises StoreClosedError: the store was closed.
        """
        return await self._needing("news", symbols)

    async def get_stocks_needing_earnings(self, symbols: Iterable[str]) -> list[str]:
        """The symbols that need an earnings fetch, in input order (first occurrence kept).

        :raises ValidationError: ``symbols`` is not an iterable of valid symbols.
        :raises StoreClosedError: the store was closed.
        """
        return await self._needing("earnings", symbols)

    async def get_stocks_needing_fundamentals(self, symbols: Iterable[str]) -> list[str]:
        """The symbols that need a fundamentals check, in input order (first occurrence kept).

        :raises ValidationError: ``symbols`` is not an iterable of valid symbols.
        :raises StoreClosedError: the store was closed.
        """
        return await self._needing("fundamentals", symbols)

    async def get_oldest_news_stocks(
        self, symbols: Iterable[str], limit: int | None = 5
    ) -> list[str]:
        """Up to ``limit`` symbols: never news-checked first, then oldest check; ties by input.

        :raises ValidationError: a symbol is malformed or ``limit`` is negative.
        :raises StoreClosedError: the store was closed.
        """
        return await self._oldest("news", symbols, limit)

    async def get_oldest_earnings_stocks(
        self, symbols: Iterable[str], limit: int | None = 5
    ) -> list[str]:
        """Up to ``limit`` symbols: never earnings-checked first, then oldest; ties by input.

        :raises ValidationError: a symbol is malformed or ``limit`` is negative.
        :raises StoreClosedError: the store was closed.
        """
        return await self._oldest("earnings", symbols, limit)

    async def get_oldest_fundamentals_stocks(
        self, symbols: Iterable[str], limit: int | None = 5
    ) -> list[str]:
        """Up to ``limit`` symbols: never fundamentals-checked first, then oldest; ties by input.

        :raises ValidationError: a symbol is malformed or ``limit`` is negative.
        :raises StoreClosedError: the store was closed.
        """
        return await self._oldest("fundamentals", symbols, limit)

    async def _needs_one(self, kind: str, symbol: object) -> bool:
        await self._ready()
        sym, doc = self._key(symbol)
        state = await self._states.get(doc, sym)
        return is_due(kind, state, self.today(), self._intervals[kind])

    async def _lookup(
        self, symbols: Iterable[str]
    ) -> list[tuple[str, StockSchedulerState | None]]:
        """(symbol, cached state) for each distinct symbol, first occurrence kept."""
        await self._ready()
        if isinstance(symbols, str | bytes) or not isinstance(symbols, Iterable):
            raise ValidationError("symbols: expected an iterable of symbols (not a str)",
                                  field="symbols")
        keys: dict[str, str] = {}
        for symbol in symbols:
            sym, doc = self._key(symbol)
            keys.setdefault(sym, doc)
        return [(sym, await self._states.get(doc, sym)) for sym, doc in keys.items()]

    async def _needing(self, kind: str, symbols: Iterable[str]) -> list[str]:
        found = await self._lookup(symbols)
        today, interval = self.today(), self._intervals[kind]
        return [sym for sym, state in found if is_due(kind, state, today, interval)]

    async def _oldest(self, kind: str, symbols: Iterable[str], limit: int | None) -> list[str]:
        cap = None if limit is None else ensure_non_negative_int(limit, "limit")
        return oldest_first(await self._lookup(symbols), kind, cap)

    # -- writes -----------------------------------------------------------------------------

    async def update_news_check(self, symbol: str, check_date: date | None = None) -> None:
        """Record a news check on ``check_date`` (default: today in the store's zone).

        :raises ValidationError: ``symbol`` or ``check_date`` is invalid.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._set(symbol, last_news_check=self._day(check_date))

    async def update_earnings_check(self, symbol: str, check_date: date | None = None) -> None:
        """Record an earnings check on ``check_date`` (default: today in the store's zone).

        :raises ValidationError: ``symbol`` or ``check_date`` is invalid.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._set(symbol, last_earnings_check=self._day(check_date))

    async def update_fundamentals_check(
        self, symbol: str, check_date: date | None = None
    ) -> None:
        """Record a fundamentals check (default: today) and clear the recheck flag.

        :raises ValidationError: ``symbol`` or ``check_date`` is invalid.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._set(symbol, last_fundamentals_check=self._day(check_date),
                        needs_fundamentals_recheck=False)

    async def flag_fundamentals_recheck(self, symbol: str) -> None:
        """Mark the symbol's fundamentals as needing a check regardless of the interval.

        :raises ValidationError: ``symbol`` is malformed.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._set(symbol, needs_fundamentals_recheck=True)

    async def update_analysis_check(
        self, symbol: str, check_time: datetime | None = None
    ) -> None:
        """Record an analysis at ``check_time`` (default: now).

        :raises ValidationError: ``symbol`` is malformed or ``check_time`` is naive.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        at = self.now() if check_time is None else ensure_aware(check_time, "check_time")
        await self._set(symbol, last_analysis_check=at)

    async def update_portfolio_update(self, symbol: str, when: datetime | None = None) -> None:
        """Record a portfolio update at ``when`` (default: now).

        :raises ValidationError: ``symbol`` is malformed or ``when`` is naive.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        at = self.now() if when is None else ensure_aware(when, "when")
        await self._set(symbol, last_portfolio_update=at)

    async def record_fetch(self, symbol: str, *, ok: bool) -> None:
        """Count one fetch for the symbol, and one error too when ``ok`` is False.

        :raises ValidationError: ``symbol`` is malformed or ``ok`` is not a bool.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        errors = 0 if ensure_bool(ok, "ok") else 1

        def edit(state: StockSchedulerState) -> None:
            state.fetch_count += 1
            state.error_count += errors

        await self._change(symbol, edit)

    async def delete(self, symbol: str) -> bool:
        """Forget the symbol's state; True if there was one. Durable when this returns.

        :raises ValidationError: ``symbol`` is malformed.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._ready()
        self._check_writable()
        sym, doc = self._key(symbol)

        def apply(txn: Txn[StockSchedulerState]) -> bool:
            if txn.get(doc, sym) is None:
                return False
            txn.delete(doc, sym)
            return True

        removed = await self._states.mutate((doc,), apply)
        _log.debug("delete stock state %s: %s", sym, "removed" if removed else "absent")
        return removed

    def _day(self, value: date | None) -> date:
        return self.today() if value is None else ensure_date(value, "check_date")

    async def _set(self, symbol: object, **fields: object) -> None:
        """Store the symbol's state (default if unknown) with ``fields`` (validated) set."""
        await self._change(symbol, lambda state: _assign(state, fields))

    async def _change(self, symbol: object, edit: Callable[[StockSchedulerState], None]) -> None:
        """Apply ``edit`` to a fresh copy of the state (default if unknown) and store it."""
        await self._ready()
        self._check_writable()
        sym, doc = self._key(symbol)
        now = self.now()

        def apply(txn: Txn[StockSchedulerState]) -> None:
            current = txn.get(doc, sym)
            if current is None:
                state = StockSchedulerState(symbol=sym, updated_at=now)
            else:
                state = current.clone()  # never change the cached object itself
            edit(state)
            state.updated_at = now
            txn.put(doc, sym, state)

        await self._states.mutate((doc,), apply)
