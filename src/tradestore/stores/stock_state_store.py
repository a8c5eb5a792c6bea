"""StockStateStore: per-symbol scheduler bookkeeping, durable in ``<data_dir>/stock_state/``.

States are spread over 1,024 documents by a stable hash of the normalised
symbol (``zlib.crc32(symbol) % 1024`` as three hex digits). The open reads
no document (``lazy``); they are then read in the background (``warm``: a
scheduler soon touches every symbol), and a durable update writes one small journal
file plus, at checkpoints, only the documents it changed: its cost does not
grow with the number of symbols stored.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from datetime import date
from typing import ClassVar
from zoneinfo import ZoneInfo

from tradestore.contracts import StockStateStore
from tradestore.errors import ValidationError
from tradestore.models import StockSchedulerState
from tradestore.models._checks import (
    ensure_bool,
    ensure_non_negative_int,
)
from tradestore.persistence import BaseStore, Clock
from tradestore.persistence._collection import Txn
from tradestore.persistence._fs import FileSystem
from tradestore.stores._stock_api import StockStateMethods
from tradestore.stores._stock_queries import StockQueries
from tradestore.stores._stock_rules import SymbolKeys, zone

__all__ = ["FileStockStateStore"]

_log = logging.getLogger(__name__)


def _assign(state: StockSchedulerState, fields: dict[str, object]) -> None:
    for name, value in fields.items():
        setattr(state, name, value)


class FileStockStateStore(StockQueries, StockStateMethods, BaseStore, StockStateStore):
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
        exclusive: bool = False,
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
        self._states = self._collection(None, "stock_state", StockSchedulerState, lazy=True,
                                       warm=True)
        self._key = SymbolKeys()

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    # -- reads ------------------------------------------------------------------------------

    async def get_state(self, symbol: str) -> StockSchedulerState:
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
        await self._ready()
        await self._states.load_all()
        found: dict[str, StockSchedulerState] = {}
        for doc in self._states.doc_ids():
            for sym, state in (await self._states.records(doc)).items():
                found[sym] = state.clone()
        return dict(sorted(found.items()))

    # -- writes -----------------------------------------------------------------------------

    async def record_fetch(self, symbol: str, *, ok: bool) -> None:
        errors = 0 if ensure_bool(ok, "ok") else 1

        def edit(state: StockSchedulerState) -> None:
            state.fetch_count += 1
            state.error_count += errors

        await self._change(symbol, edit)

    async def save_state(self, state: StockSchedulerState) -> None:
        await self.save_states([state])

    async def save_states(self, states: Iterable[StockSchedulerState]) -> None:
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
