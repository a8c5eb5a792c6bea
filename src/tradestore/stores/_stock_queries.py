"""The file backend's read side of StockStateStore: due and oldest symbols from the cache."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from tradestore.errors import ValidationError
from tradestore.models import StockSchedulerState
from tradestore.models._checks import ensure_bool, ensure_non_negative_int
from tradestore.persistence._collection import Collection
from tradestore.stores._stock_rules import SymbolKeys, is_due, oldest_first

__all__ = ["StockQueries"]

_log = logging.getLogger(__name__)
_SHOWN = 10  # invalid entries named in one warning


class StockQueries:
    """``_needs_one``, ``_needing`` and ``_oldest`` over the cached states (see ``_stock_api``)."""

    _states: Collection[StockSchedulerState]
    _key: SymbolKeys
    _intervals: dict[str, int]

    if TYPE_CHECKING:  # provided by BaseStore and StockStateStore

        async def _ready(self) -> None: ...

        def today(self) -> date: ...

    async def _needs_one(self, kind: str, symbol: object) -> bool:
        await self._ready()
        sym, doc = self._key(symbol)
        state = await self._states.get(doc, sym)
        return is_due(kind, state, self.today(), self._intervals[kind])

    async def _lookup(
        self, symbols: Iterable[str], skip_invalid: bool = False
    ) -> list[tuple[str, StockSchedulerState | None]]:
        """(symbol, cached state) for each distinct symbol, first occurrence kept."""
        await self._ready()
        if isinstance(symbols, str | bytes) or not isinstance(symbols, Iterable):
            raise ValidationError("symbols: expected an iterable of symbols (not a str)",
                                  field="symbols")
        skip = ensure_bool(skip_invalid, "skip_invalid")
        keys: dict[str, str] = {}
        skipped: list[object] = []
        for symbol in symbols:
            try:
                sym, doc = self._key(symbol)
            except ValidationError:
                if not skip:
                    raise
                skipped.append(symbol)
                continue
            keys.setdefault(sym, doc)
        if skipped:
            _log.warning("skipped %d invalid symbol(s): %s", len(skipped),
                         ", ".join(f"{s!r:.40}" for s in skipped[:_SHOWN]))
        return [(sym, await self._states.get(doc, sym)) for sym, doc in keys.items()]

    async def _needing(self, kind: str, symbols: Iterable[str], skip_invalid: bool) -> list[str]:
        found = await self._lookup(symbols, skip_invalid)
        today, interval = self.today(), self._intervals[kind]
        return [sym for sym, state in found if is_due(kind, state, today, interval)]

    async def _oldest(
        self, kind: str, symbols: Iterable[str], limit: int | None, skip_invalid: bool
    ) -> list[str]:
        cap = None if limit is None else ensure_non_negative_int(limit, "limit")
        return oldest_first(await self._lookup(symbols, skip_invalid), kind, cap)
