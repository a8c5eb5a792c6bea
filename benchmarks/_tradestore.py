"""The tradestore systems (durable, fast, noreuse, append), through the public API only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import ClassVar

from benchmarks._adapters import Adapter, LogPayload
from tradestore import StockSchedulerState, StockStateStore, StrategyLog, StrategyLogStore
from tradestore.persistence._fs import FileSystem

__all__ = [
    "TradestoreAppendAdapter",
    "TradestoreDurableAdapter",
    "TradestoreFastAdapter",
    "TradestoreNoReuseAdapter",
]


class TradestoreDurableAdapter(Adapter):
    """StockStateStore and StrategyLogStore with ``durable=True``."""

    name = "tradestore_durable"
    durable = True
    mode: ClassVar[bool] = True
    journal: ClassVar[str] = "files"

    def __init__(self) -> None:
        self.fs = FileSystem()
        self._states: StockStateStore | None = None
        self._logs: StrategyLogStore | None = None

    @property
    def _state_store(self) -> StockStateStore:
        assert self._states is not None, "open() first"
        return self._states

    @property
    def _log_store(self) -> StrategyLogStore:
        assert self._logs is not None, "open_logs() first"
        return self._logs

    async def create(self, path: Path, symbols: Sequence[str]) -> None:
        # One save_states (a single commit), like the peers' executemany / single
        # write, and durable like sqlite's seed transaction: seeding with
        # durable=False left tens of MB of dirty pages whose writeback the measured
        # workload then paid for (ext4 flushes them with the next fsyncs).
        store = StockStateStore(path, durable=True, fs=self.fs, journal=self.journal)
        await store.initialize()
        try:
            await store.save_states(StockSchedulerState(symbol=s) for s in symbols)
        finally:
            await store.close()

    async def open(self, path: Path) -> None:
        store = StockStateStore(path, durable=self.mode, fs=self.fs, journal=self.journal)
        await store.initialize()
        self._states = store

    async def open_logs(self, path: Path) -> None:
        store = StrategyLogStore(path, durable=self.mode, fs=self.fs, journal=self.journal)
        await store.initialize()
        self._logs = store

    async def update(self, symbol: str) -> None:
        await self._state_store.record_fetch(symbol, ok=True)

    async def read(self, symbol: str) -> int:
        state = await self._state_store.get_state(symbol)
        return int(state.fetch_count)

    async def append_log(self, strategy: str, day: date, payload: LogPayload) -> None:
        log = StrategyLog(date=day, strategy_type=strategy, **payload)
        await self._log_store.add_log(strategy, log)

    async def last_logs(self, strategy: str, n: int, today: date) -> list[date]:
        # The newest n whatever their dates (as sqlite's ORDER BY date DESC LIMIT n);
        # every log of the workload is dated at or before ``today``.
        logs = await self._log_store.get_last_logs(strategy, n)
        return [log.date for log in reversed(logs)]

    async def close(self) -> None:
        states, logs = self._states, self._logs
        self._states = self._logs = None
        try:
            if states is not None:
                await states.close()
        finally:
            if logs is not None:
                await logs.close()


class TradestoreFastAdapter(TradestoreDurableAdapter):
    """The same stores with ``durable=False``: atomic writes, no fsync."""

    name = "tradestore_fast"
    durable = False
    mode = False


class TradestoreNoReuseAdapter(TradestoreDurableAdapter):
    """``tradestore_durable`` with spares and padding off: every write creates its file."""

    name = "tradestore_noreuse"

    def __init__(self) -> None:
        super().__init__()
        self.fs.reuse_files = False


class TradestoreAppendAdapter(TradestoreDurableAdapter):
    """``tradestore_durable`` with ``journal="append"``: one record appended per commit."""

    name = "tradestore_append"
    journal = "append"
