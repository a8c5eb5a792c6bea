"""StockStateStore on PostgreSQL: one row per symbol in ``tradestore.stock_state``.

Every mutation is one upsert statement, so concurrent writers from any number
of processes never lose an update (``record_fetch`` adds to the stored count
in SQL). The "needs a fetch" and "oldest first" rules are the file backend's
own functions (``stores/_stock_rules.py``), applied to the rows of the symbols
asked about (primary-key lookups).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from tradestore.contracts import StockStateStore
from tradestore.errors import ValidationError
from tradestore.models import StockSchedulerState
from tradestore.models._checks import (
    ensure_bool,
    ensure_non_negative_int,
    ensure_symbol,
)
from tradestore.models._stamps import Clock
from tradestore.postgres._rows import RowCodec
from tradestore.postgres._store import Location, PgStore
from tradestore.stores._stock_api import StockStateMethods
from tradestore.stores._stock_rules import distinct_symbols, is_due, oldest_first, zone

__all__ = ["PgStockStateStore"]

_log = logging.getLogger(__name__)
_STATES = RowCodec(StockSchedulerState, "tradestore.stock_state")
_SELECT = f"SELECT {_STATES.select_list} FROM tradestore.stock_state"
_UPSERT = (
    f"INSERT INTO tradestore.stock_state ({_STATES.column_list}) "
    f"VALUES ({_STATES.placeholders}) ON CONFLICT (symbol) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _STATES.columns if c != "symbol")
)
_RECORD_FETCH = (
    "INSERT INTO tradestore.stock_state (symbol, fetch_count, error_count, updated_at, "
    "updated_at_off) VALUES (%s, 1, %s, %s, %s) ON CONFLICT (symbol) DO UPDATE SET "
    "fetch_count = stock_state.fetch_count + 1, "
    "error_count = stock_state.error_count + EXCLUDED.error_count, "
    "updated_at = EXCLUDED.updated_at, updated_at_off = EXCLUDED.updated_at_off"
)


class PgStockStateStore(StockStateMethods, PgStore, StockStateStore):
    """When the scheduler last fetched each kind of data for each symbol."""

    kind = "stock_state"
    codecs = ((_STATES, "symbol"),)

    def __init__(
        self,
        location: Location,
        *,
        tz: str | ZoneInfo = "UTC",
        news_interval_days: int = 1,
        earnings_interval_days: int = 7,
        fundamentals_interval_days: int = 7,
        durable: bool = True,
        read_only: bool = False,
        clock: Clock | None = None,
        exclusive: bool = False,
        fs: object = None,
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
        super().__init__(location, durable=durable, read_only=read_only, exclusive=exclusive,
                         clock=clock, fs=fs, journal=journal)

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    # -- reads ------------------------------------------------------------------------------

    async def get_state(self, symbol: str) -> StockSchedulerState:
        sym = ensure_symbol(symbol)
        rows = await self._fetch("reading a stock state", f"{_SELECT} WHERE symbol = %s",
                                 (sym,))
        if not rows:
            return StockSchedulerState(symbol=sym, updated_at=self.now())
        return _STATES.load(rows[0])

    async def all_states(self) -> dict[str, StockSchedulerState]:
        rows = await self._fetch("reading stock states", f"{_SELECT} ORDER BY symbol")
        return {state.symbol: state for state in map(_STATES.load, rows)}

    async def _states(
        self, symbols: Iterable[str], skip_invalid: bool = False
    ) -> list[tuple[str, StockSchedulerState | None]]:
        """(symbol, stored state) for each distinct symbol, first occurrence kept."""
        keys = distinct_symbols(symbols, skip_invalid)
        rows = await self._fetch("reading stock states",
                                 f"{_SELECT} WHERE symbol = ANY(%s)", (keys,)) if keys else []
        found = {state.symbol: state for state in map(_STATES.load, rows)}
        if not keys:
            await self._ready()
        return [(sym, found.get(sym)) for sym in keys]

    async def _needs_one(self, kind: str, symbol: str) -> bool:
        sym = ensure_symbol(symbol)
        rows = await self._fetch("reading a stock state", f"{_SELECT} WHERE symbol = %s",
                                 (sym,))
        state = _STATES.load(rows[0]) if rows else None
        return is_due(kind, state, self.today(), self._intervals[kind])

    async def _needing(self, kind: str, symbols: Iterable[str], skip_invalid: bool) -> list[str]:
        found = await self._states(symbols, skip_invalid)
        today, interval = self.today(), self._intervals[kind]
        return [sym for sym, state in found if is_due(kind, state, today, interval)]

    async def _oldest(self, kind: str, symbols: Iterable[str], limit: int | None,
                      skip_invalid: bool) -> list[str]:
        cap = None if limit is None else ensure_non_negative_int(limit, "limit")
        return oldest_first(await self._states(symbols, skip_invalid), kind, cap)

    # -- writes -----------------------------------------------------------------------------

    async def _set(self, symbol: str, **fields: Any) -> None:
        """Upsert the symbol's row with ``fields`` (validated) set and ``updated_at`` now."""
        sym = ensure_symbol(symbol)
        now = self.now()
        fields["updated_at"] = now
        cols, marks, params = _STATES.dump_fields(fields)
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols)
        sql = (f"INSERT INTO tradestore.stock_state (symbol, {', '.join(cols)}) "
               f"VALUES (%s, {', '.join(marks)}) ON CONFLICT (symbol) DO UPDATE SET {sets}")
        async with self._write("updating a stock state") as conn:
            await conn.execute(sql.encode(), [sym, *params])

    async def record_fetch(self, symbol: str, *, ok: bool) -> None:
        errors = 0 if ensure_bool(ok, "ok") else 1
        sym = ensure_symbol(symbol)
        now = self.now()
        async with self._write("recording a fetch") as conn:
            await conn.execute(_RECORD_FETCH, (sym, errors, *_STATES.field("updated_at").dump(now)))

    async def save_state(self, state: StockSchedulerState) -> None:
        await self.save_states([state])

    async def save_states(self, states: Iterable[StockSchedulerState]) -> None:
        if isinstance(states, StockSchedulerState) or not isinstance(states, Iterable):
            raise ValidationError("states: expected an iterable of StockSchedulerState",
                                  field="states")
        staged: dict[str, StockSchedulerState] = {}
        for state in states:
            copy = StockSchedulerState.checked(state, "states", self.now())
            staged[copy.symbol] = copy
        if not staged:
            await self._ready()
            self._check_writable()
            return
        async with self._write("saving stock states") as conn, conn.cursor() as cur:
            await cur.executemany(_UPSERT.encode(), [_STATES.dump(s) for s in staged.values()])

    async def delete(self, symbol: str) -> bool:
        sym = ensure_symbol(symbol)
        async with self._write("deleting a stock state") as conn:
            cur = await conn.execute("DELETE FROM tradestore.stock_state WHERE symbol = %s",
                                     (sym,))
            removed = cur.rowcount > 0
        _log.debug("delete stock state %s: %s", sym, "removed" if removed else "absent")
        return removed
