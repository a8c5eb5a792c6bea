"""One small adapter per store: a numbered durable mutation, its expected effect, a full read.

Every suite is written against :class:`Adapter`, so it runs unchanged on every
store. ``apply(store, i)`` performs mutation number ``i`` (deterministic), and
``expected(n)`` is the state after mutations ``0 .. n-1``, computed without
the store; ``snapshot(store)`` reads the same state back through the public
API. A store holds exactly the acknowledged prefix (or one more, the call in
flight) or something is wrong.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, ClassVar

from tradestore import (
    BackgroundTask,
    FundamentalSnapshot,
    FundamentalStore,
    NewsItem,
    StockStateStore,
    StrategyLog,
    StrategyLogStore,
    TaskPriority,
    TaskStore,
)
from tradestore.persistence import BaseStore
from tradestore.persistence._fs import FileSystem
from tradestore.stores.fundamental_store import FileFundamentalStore
from tradestore.stores.stock_state_store import FileStockStateStore
from tradestore.stores.strategy_log_store import FileStrategyLogStore
from tradestore.stores.task_store import FileTaskStore

from .probe import ProbeStore

__all__ = [
    "ADAPTERS",
    "JOURNALS",
    "Adapter",
    "FundamentalAdapter",
    "ProbeAdapter",
    "StockStateAdapter",
    "StrategyLogAdapter",
    "TaskAdapter",
    "adapter_names",
    "get_adapter",
    "in_both_modes",
]

T0 = dt.datetime(2025, 3, 3, 14, 30, tzinfo=dt.UTC)
D0 = dt.date(2025, 3, 3)


def _clock() -> dt.datetime:
    return T0

Snapshot = dict[str, Any]


class Adapter:
    """How the suites drive one store."""

    name: ClassVar[str]
    folder: ClassVar[str]

    def __init__(self, journal: str = "files") -> None:
        self.journal = journal  # the journal mode of every store this adapter opens

    def open(self, data_dir: str | os.PathLike[str], *, fs: FileSystem | None = None,
             read_only: bool = False, durable: bool = True) -> BaseStore:
        """A new, not yet initialized store on ``data_dir``."""
        raise NotImplementedError

    async def apply(self, store: BaseStore, i: int) -> None:
        """Mutation number ``i``; returns once it is acknowledged."""
        raise NotImplementedError

    def expected(self, n: int) -> Snapshot:
        """The state after mutations ``0 .. n-1``."""
        raise NotImplementedError

    async def snapshot(self, store: BaseStore) -> Snapshot:
        """The state, read back through the public API."""
        raise NotImplementedError

    def store_dir(self, data_dir: Path) -> Path:
        """The store's own folder."""
        return data_dir / self.folder


class ProbeAdapter(Adapter):
    """The test store of :mod:`probe`: puts and deletes over two collections."""

    name = "probe"
    folder = ProbeStore.folder_name

    def open(self, data_dir: str | os.PathLike[str], *, fs: FileSystem | None = None,
             read_only: bool = False, durable: bool = True) -> BaseStore:
        return ProbeStore(data_dir, fs=fs, read_only=read_only, durable=durable,
                          journal=self.journal)

    @staticmethod
    def _op(i: int) -> tuple[str, str, int, str]:
        key = f"k{(i * 7) % 11}"
        return ("delete" if i % 5 == 4 else "put"), key, i, f"n{i}" * (i % 4)

    async def apply(self, store: BaseStore, i: int) -> None:
        assert isinstance(store, ProbeStore)
        op, key, value, note = self._op(i)
        if op == "delete":
            await store.delete(key)
        else:
            await store.put(key, value, note)

    def expected(self, n: int) -> Snapshot:
        state: Snapshot = {}
        for i in range(n):
            op, key, value, note = self._op(i)
            if op == "delete":
                state.pop(key, None)
            else:
                state[key] = [value, note]
        return state

    async def snapshot(self, store: BaseStore) -> Snapshot:
        assert isinstance(store, ProbeStore)
        return {k: [v, note] for k, (v, note) in (await store.items()).items()}


class TaskAdapter(Adapter):
    """TaskStore: save a task (five ids in turn), or update one already saved."""

    name = "tasks"
    folder = FileTaskStore.folder_name
    _PRIORITIES: ClassVar[list[TaskPriority]] = list(TaskPriority)

    def open(self, data_dir: str | os.PathLike[str], *, fs: FileSystem | None = None,
             read_only: bool = False, durable: bool = True) -> BaseStore:
        return FileTaskStore(data_dir, fs=fs, read_only=read_only, durable=durable, clock=_clock,
                             journal=self.journal)

    @staticmethod
    def _is_update(i: int) -> bool:
        return i >= 5 and i % 3 == 2

    async def apply(self, store: BaseStore, i: int) -> None:
        assert isinstance(store, TaskStore)
        if self._is_update(i):
            await store.update(f"t{i % 5}", retry_count=i % 4, metadata={"i": i, "u": True})
        else:
            await store.save(BackgroundTask(
                task_id=f"t{i % 5}", task_type="health_check",
                priority=self._PRIORITIES[i % 4], execute_at=T0 + dt.timedelta(minutes=i),
                interval_seconds=60.0, metadata={"i": i},
            ))

    def expected(self, n: int) -> Snapshot:
        state: Snapshot = {}
        for i in range(n):
            key = f"t{i % 5}"
            if self._is_update(i):
                state[key] = [{"i": i, "u": True}, i % 4, state[key][2]]
            else:
                state[key] = [{"i": i}, 0, str(self._PRIORITIES[i % 4])]
        return state

    async def snapshot(self, store: BaseStore) -> Snapshot:
        assert isinstance(store, TaskStore)
        return {t.task_id: [t.metadata, t.retry_count, str(t.priority)]
                for t in await store.list_tasks()}


class StockStateAdapter(Adapter):
    """StockStateStore: record a fetch (counters), now and then a news check date."""

    name = "stock_state"
    folder = FileStockStateStore.folder_name
    SYMBOLS = ("AAPL", "MSFT", "BRK.B", "M&M", "^NSEI")

    def open(self, data_dir: str | os.PathLike[str], *, fs: FileSystem | None = None,
             read_only: bool = False, durable: bool = True) -> BaseStore:
        return FileStockStateStore(data_dir, fs=fs, read_only=read_only, durable=durable,
                                   clock=_clock, journal=self.journal)

    async def apply(self, store: BaseStore, i: int) -> None:
        assert isinstance(store, StockStateStore)
        symbol = self.SYMBOLS[i % 5]
        if i % 7 == 6:
            await store.update_news_check(symbol, D0 + dt.timedelta(days=i))
        else:
            await store.record_fetch(symbol, ok=i % 3 != 0)

    def expected(self, n: int) -> Snapshot:
        state: Snapshot = {}
        for i in range(n):
            fetches, errors, news = state.get(self.SYMBOLS[i % 5], [0, 0, None])
            if i % 7 == 6:
                news = (D0 + dt.timedelta(days=i)).isoformat()
            else:
                fetches, errors = fetches + 1, errors + (i % 3 == 0)
            state[self.SYMBOLS[i % 5]] = [fetches, errors, news]
        return state

    async def snapshot(self, store: BaseStore) -> Snapshot:
        assert isinstance(store, StockStateStore)
        return {
            sym: [s.fetch_count, s.error_count,
                  s.last_news_check.isoformat() if s.last_news_check else None]
            for sym, s in (await store.all_states()).items()
        }


class StrategyLogAdapter(Adapter):
    """StrategyLogStore: add a log that merges into the day's log of one of two strategies."""

    name = "strategy_logs"
    folder = FileStrategyLogStore.folder_name
    STRATEGIES = ("momentum", "mean-rev")

    def open(self, data_dir: str | os.PathLike[str], *, fs: FileSystem | None = None,
             read_only: bool = False, durable: bool = True) -> BaseStore:
        return FileStrategyLogStore(data_dir, fs=fs, read_only=read_only, durable=durable,
                                    clock=_clock, journal=self.journal)

    @staticmethod
    def _day(i: int) -> dt.date:
        return D0 - dt.timedelta(days=(i * 5) % 40)  # spans two months

    async def apply(self, store: BaseStore, i: int) -> None:
        assert isinstance(store, StrategyLogStore)
        await store.add_log(self.STRATEGIES[i % 2], StrategyLog(
            date=self._day(i), what_worked=[f"w{i % 7}"], trades_executed=2, wins=i % 2,
            losses=1, pnl_realized=float(i), token_usage={"in": i},
        ))

    def expected(self, n: int) -> Snapshot:
        state: Snapshot = {}
        for i in range(n):
            key = f"{self.STRATEGIES[i % 2]}/{self._day(i).isoformat()}"
            worked, trades, wins, losses, pnl, tokens = state.get(key, [[], 0, 0, 0, 0.0, 0])
            if f"w{i % 7}" not in worked:
                worked = [*worked, f"w{i % 7}"]
            state[key] = [worked, trades + 2, wins + i % 2, losses + 1, pnl + i, tokens + i]
        return state

    async def snapshot(self, store: BaseStore) -> Snapshot:
        assert isinstance(store, StrategyLogStore)
        out: Snapshot = {}
        for strategy in await store.strategy_types():
            for log in await store.get_logs_for_period(strategy, D0 - dt.timedelta(days=60),
                                                       D0):
                out[f"{strategy}/{log.date.isoformat()}"] = [
                    log.what_worked, log.trades_executed, log.wins, log.losses,
                    log.pnl_realized, log.token_usage.get("in", 0),
                ]
        return out


class FundamentalAdapter(Adapter):
    """FundamentalStore: save a snapshot (same key replaces), or a news item (dedup by id)."""

    name = "fundamentals"
    folder = FileFundamentalStore.folder_name
    SYMBOLS = ("AAPL", "BRK.B")

    def open(self, data_dir: str | os.PathLike[str], *, fs: FileSystem | None = None,
             read_only: bool = False, durable: bool = True) -> BaseStore:
        return FileFundamentalStore(data_dir, fs=fs, read_only=read_only, durable=durable,
                                    clock=_clock, journal=self.journal)

    async def apply(self, store: BaseStore, i: int) -> None:
        assert isinstance(store, FundamentalStore)
        symbol = self.SYMBOLS[i % 2]
        if i % 3 == 0:
            await store.save_news([NewsItem(
                symbol=symbol, title=f"n{i}", url=f"https://example.com/{i % 8}",
                published_at=T0 - dt.timedelta(days=(i * 11) % 70),
            )])
        else:
            await store.save_fundamentals(FundamentalSnapshot(
                symbol=symbol, as_of=D0 - dt.timedelta(days=i % 4), source="test",
                fetched_at=T0, pe_ratio=float(i),
            ))

    def expected(self, n: int) -> Snapshot:
        state: Snapshot = {}
        for i in range(n):
            symbol = self.SYMBOLS[i % 2]
            if i % 3 == 0:
                state.setdefault(f"news/{i % 8}", f"{symbol}/n{i}")  # the first one is kept
            else:
                state[f"{symbol}/{(D0 - dt.timedelta(days=i % 4)).isoformat()}"] = float(i)
        return state

    async def snapshot(self, store: BaseStore) -> Snapshot:
        assert isinstance(store, FundamentalStore)
        out: Snapshot = {}
        for symbol in await store.symbols():
            for snap in await store.get_fundamentals_history(symbol):
                out[f"{symbol}/{snap.as_of.isoformat()}"] = snap.pe_ratio
        for item in await store.get_news():
            out[f"news/{item.url.rsplit('/', 1)[1]}"] = f"{item.symbol}/{item.title}"
        return out


ADAPTERS: dict[str, Adapter] = {
    a.name: a for a in (ProbeAdapter(), TaskAdapter(), StockStateAdapter(),
                        StrategyLogAdapter(), FundamentalAdapter())
}



def adapter_names() -> list[str]:
    """Every adapter the suites are parametrised over."""
    return list(ADAPTERS)


JOURNALS = ("files", "append")  # the journal modes the suites run every store in


def get_adapter(name: str) -> Adapter:
    """The adapter called ``name``; ``<store>@append`` opens its store with journal="append"."""
    base, _, journal = name.partition("@")
    return type(ADAPTERS[base])(journal or "files")


def in_both_modes(names: list[str]) -> list[str]:
    """``names`` in the default journal mode, then each again with journal="append"."""
    return [*names, *(f"{n}@append" for n in names)]
