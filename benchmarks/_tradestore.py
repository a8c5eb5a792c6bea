"""The ``tradestore_durable`` and ``tradestore_fast`` systems, through the public API only."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

from benchmarks._adapters import Adapter, LogPayload

__all__ = ["TradestoreDurableAdapter", "TradestoreFastAdapter"]

# Concurrent record_fetch calls per batch while seeding: enough for the store to
# coalesce writes, few enough to keep the number of live tasks modest.
_SEED_BATCH = 5_000


def _tradestore() -> Any:
    return importlib.import_module("tradestore")


class TradestoreDurableAdapter(Adapter):
    """StockStateStore and StrategyLogStore with ``durable=True``."""

    name = "tradestore_durable"
    durable = True
    mode: ClassVar[bool] = True

    def __init__(self) -> None:
        self._ts = _tradestore()
        self._states: Any = None
        self._logs: Any = None

    async def create(self, path: Path, symbols: Sequence[str]) -> None:
        # Fastest honest path: concurrent record_fetch on a durable=False store.
        store = self._ts.StockStateStore(path, durable=False)
        await store.initialize()
        try:
            for start in range(0, len(symbols), _SEED_BATCH):
                batch = symbols[start : start + _SEED_BATCH]
                await asyncio.gather(*(store.record_fetch(s, ok=True) for s in batch))
        finally:
            await store.close()

    async def open(self, path: Path) -> None:
        store = self._ts.StockStateStore(path, durable=self.mode)
        await store.initialize()
        self._states = store

    async def open_logs(self, path: Path) -> None:
        store = self._ts.StrategyLogStore(path, durable=self.mode)
        await store.initialize()
        self._logs = store

    async def update(self, symbol: str) -> None:
        await self._states.record_fetch(symbol, ok=True)

    async def read(self, symbol: str) -> int:
        state = await self._states.get_state(symbol)
        return int(state.fetch_count)

    async def append_log(self, strategy: str, day: date, payload: LogPayload) -> None:
        log = self._ts.StrategyLog(date=day, strategy_type=strategy, **payload)
        await self._logs.add_log(strategy, log)

    async def last_logs(self, strategy: str, n: int, today: date) -> list[date]:
        # Daily logs: the last n by date are the ones dated today-(n-1) .. today.
        logs = await self._logs.get_logs_for_period(strategy, today - timedelta(days=n - 1), today)
        return [log.date for log in logs[-n:]]

    async def close(self) -> None:
        for attr in ("_states", "_logs"):
            store = getattr(self, attr)
            if store is not None:
                setattr(self, attr, None)
                await store.close()


class TradestoreFastAdapter(TradestoreDurableAdapter):
    """The same stores with ``durable=False``: atomic writes, no fsync."""

    name = "tradestore_fast"
    durable = False
    mode = False
