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
from typing import ClassVar
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
from tradestore.stores._stock_queries import StockQueries
from tradestore.stores._stock_rules import SymbolKeys, zone

__all__ = ["StockStateStore"]

_log = logging.getLogger(__name__)


def _assign(state: StockSchedulerState, fields: dict[str, object]) -> None:
    for name, value in fields.items():
        setattr(state, name, value)


class StockStateStore(StockQueries, BaseStore):
    """When the scheduler last fetched each kind of data for each symbol."""

    folder_name = "stock_state"
    handle_attrs: ClassVar[frozenset[str]] = frozenset({
        "tz", "news_interval_days", "earnings_interval_days", "fundamentals_interval_days",
        "_intervals",
    })

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
        journal: str = "files",
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
        super().__init__(data_dir, durable=durable, read_only=read_only, clock=clock, fs=fs,
                         journal=journal)
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
        state = self._states.peek(doc, sym)
        if state is False:
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

    # -- writes -----------------------------------------------------------------------------

    async def update_news_check(self, symbol: str, check_date: date | None = None) -> None:
        """Record a news check on ``check_date`` (default: today in the store's zone).

        The store clock's time is kept too (``last_news_checked_at``): it breaks ties
        among equal dates in ``get_oldest_news_stocks``.

        :raises ValidationError: ``symbol`` or ``check_date`` is invalid.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._set(symbol, last_news_check=self._day(check_date),
                        last_news_checked_at=self.now())

    async def update_earnings_check(self, symbol: str, check_date: date | None = None) -> None:
        """Record an earnings check on ``check_date`` (default: today in the store's zone).

        :raises ValidationError: ``symbol`` or ``check_date`` is invalid.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._set(symbol, last_earnings_check=self._day(check_date),
                        last_earnings_checked_at=self.now())

    async def update_fundamentals_check(
        self, symbol: str, check_date: date | None = None
    ) -> None:
        """Record a fundamentals check (default: today) and clear the recheck flag.

        :raises ValidationError: ``symbol`` or ``check_date`` is invalid.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._set(symbol, last_fundamentals_check=self._day(check_date),
                        last_fundamentals_checked_at=self.now(),
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

    async def save_state(self, state: StockSchedulerState) -> None:
        """Insert or replace one whole state as given (``updated_at`` included): for restores.

        :raises ValidationError: ``state`` is not a valid StockSchedulerState.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self.save_states([state])

    async def save_states(self, states: Iterable[StockSchedulerState]) -> None:
        """Insert or replace whole states in one atomic write (a later duplicate wins).

        :raises ValidationError: an item is not a valid StockSchedulerState.
        :raises StoreError: the store is read-only, closed, or the write failed.
        """
        await self._ready()
        self._check_writable()
        if isinstance(states, StockSchedulerState) or not isinstance(states, Iterable):
            raise ValidationError("states: expected an iterable of StockSchedulerState",
                                  field="states")
        staged: dict[str, tuple[str, StockSchedulerState]] = {}
        for state in states:
            copy = StockSchedulerState.checked(state, "states", self.now())
            sym, doc = self._key(copy.symbol)
            copy.symbol = sym
            staged[sym] = (doc, copy)

        def apply(txn: Txn[StockSchedulerState]) -> None:
            for sym, (doc, copy) in staged.items():
                txn.put(doc, sym, copy)

        if staged:
            await self._states.mutate({doc for doc, _ in staged.values()}, apply)

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
