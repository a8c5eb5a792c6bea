"""The adapter interface every benchmarked system implements, and the registry.

An adapter wraps one store behind the handful of operations the workloads
need. Every operation is awaited by the workload exactly as a scheduler would
await it; an adapter adds no batching or caching of its own beyond what the
system it stands for does.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "MULTI_WRITER_SYSTEMS",
    "PEER_SYSTEMS",
    "POSTGRES_SYSTEMS",
    "TRADESTORE_SYSTEMS",
    "Adapter",
    "LogPayload",
    "SystemInfo",
    "log_payload",
    "make_adapter",
    "symbol_names",
    "system_info",
    "tradestore_missing_reason",
]

LogPayload = dict[str, Any]
"""The content of one daily strategy log, as JSON-safe values (about 1 KiB)."""


class Adapter(ABC):
    """One system under test: a stock-state store and a strategy-log store.

    Lifecycle: ``create`` prepares a store on disk (untimed) and leaves it
    closed; ``open`` / ``open_logs`` open it; ``close`` releases everything.
    """

    name: ClassVar[str]
    durable: ClassVar[bool]

    @abstractmethod
    async def create(self, path: Path, symbols: Sequence[str]) -> None:
        """Prepare a stock-state store at ``path`` holding ``symbols``; leave it closed.

        Uses the fastest honest bulk path the system offers.
        """

    @abstractmethod
    async def open(self, path: Path) -> None:
        """Open the stock-state store at ``path`` (created by ``create``)."""

    @abstractmethod
    async def open_logs(self, path: Path) -> None:
        """Open (creating if missing) the strategy-log store at ``path``."""

    @abstractmethod
    async def update(self, symbol: str) -> None:
        """One durable (per the system's mode) mutation: fetch_count += 1."""

    @abstractmethod
    async def read(self, symbol: str) -> int:
        """Return the symbol's fetch_count."""

    @abstractmethod
    async def append_log(self, strategy: str, day: date, payload: LogPayload) -> None:
        """Persist one daily log of ``strategy`` dated ``day``."""

    @abstractmethod
    async def last_logs(self, strategy: str, n: int, today: date) -> list[date]:
        """Return the dates of the last ``n`` logs dated on or before ``today``, by date.

        Every log is decoded, as a caller would use it; only the dates are returned.
        """

    @abstractmethod
    async def close(self) -> None:
        """Close whatever is open; pending writes finish first."""


@dataclass(frozen=True)
class SystemInfo:
    """What the report says about a system."""

    name: str
    durable: bool
    description: str


_SYSTEMS: dict[str, tuple[str, str, bool, str]] = {
    # name: (module, class, durable, description)
    "naive": (
        "benchmarks._naive",
        "NaiveAdapter",
        False,
        "one dict, one pretty-printed JSON file rewritten per update via a fixed .tmp, no fsync",
    ),
    "naive_fsync": (
        "benchmarks._naive",
        "NaiveFsyncAdapter",
        True,
        "naive + fsync of the file and the folder",
    ),
    "sqlite_full": (
        "benchmarks._sqlite",
        "SqliteFullAdapter",
        True,
        "aiosqlite, WAL, synchronous=FULL, one JSON row per symbol, one transaction per update",
    ),
    "sqlite_normal": (
        "benchmarks._sqlite",
        "SqliteNormalAdapter",
        False,
        "sqlite_full with synchronous=NORMAL (atomic, not durable on power loss)",
    ),
    "tradestore_durable": (
        "benchmarks._tradestore",
        "TradestoreDurableAdapter",
        True,
        "tradestore StockStateStore / StrategyLogStore, durable=True",
    ),
    "tradestore_fast": (
        "benchmarks._tradestore",
        "TradestoreFastAdapter",
        False,
        "tradestore StockStateStore / StrategyLogStore, durable=False",
    ),
    "tradestore_noreuse": (
        "benchmarks._tradestore",
        "TradestoreNoReuseAdapter",
        True,
        "tradestore_durable with spares and padding off (FileSystem.reuse_files = False)",
    ),
    "postgres_durable": (
        "benchmarks._postgres",
        "PostgresDurableAdapter",
        True,
        "tradestore's PostgreSQL backend (psycopg pool, loopback TCP, server fsync=on), "
        "durable=True",
    ),
    "postgres_fast": (
        "benchmarks._postgres",
        "PostgresFastAdapter",
        False,
        "tradestore's PostgreSQL backend, durable=False (synchronous_commit=off)",
    ),
    "tradestore_append": (
        "benchmarks._tradestore",
        "TradestoreAppendAdapter",
        True,
        'tradestore_durable with journal="append" (records appended to a preallocated log)',
    ),
}

PEER_SYSTEMS: tuple[str, ...] = ("naive", "naive_fsync", "sqlite_full", "sqlite_normal")
TRADESTORE_SYSTEMS: tuple[str, ...] = (
    "tradestore_durable", "tradestore_fast", "tradestore_noreuse", "tradestore_append",
)
POSTGRES_SYSTEMS: tuple[str, ...] = ("postgres_durable", "postgres_fast")
MULTI_WRITER_SYSTEMS: tuple[str, ...] = (*POSTGRES_SYSTEMS, "sqlite_full", "sqlite_normal")
"""The systems several processes may write at once (W1P); a tradestore folder has one writer."""


def system_info(name: str) -> SystemInfo:
    """Describe the system ``name`` (a key of the registry)."""
    _module, _cls, durable, description = _SYSTEMS[name]
    return SystemInfo(name=name, durable=durable, description=description)


def make_adapter(name: str) -> Adapter:
    """Build a fresh adapter for ``name``, importing its module only now."""
    module_name, class_name, _durable, _description = _SYSTEMS[name]
    module = importlib.import_module(module_name)
    factory: Callable[[], Adapter] = getattr(module, class_name)
    return factory()


def tradestore_missing_reason() -> str | None:
    """Why the tradestore systems cannot run, or None when they can."""
    try:
        tradestore = importlib.import_module("tradestore")
    except ImportError as exc:
        return f"tradestore cannot be imported: {exc}"
    missing = [
        name
        for name in ("StockStateStore", "StrategyLogStore", "StrategyLog")
        if not hasattr(tradestore, name)
    ]
    if missing:
        return "tradestore does not provide " + ", ".join(missing) + " yet"
    return None


def symbol_names(n: int) -> list[str]:
    """``n`` distinct, valid ticker-like symbols."""
    return [f"SYM{i:06d}" for i in range(n)]


_WORDS = (
    "momentum entries on opening range breakouts held above VWAP with rising volume",
    "mean reversion fades in large caps after gap ups failed within the first hour",
    "sector rotation into semiconductors kept the trailing stops comfortably in profit",
    "earnings drift trades on small caps gave back gains when the index sold off late",
    "tight stops below the prior day low cut losers quickly and limited the drawdown",
)


def log_payload(day: date, index: int) -> LogPayload:
    """A realistic daily log body of about 1 KiB as JSON; deterministic in ``index``."""
    pick = [_WORDS[(index + k) % len(_WORDS)] for k in range(len(_WORDS))]
    return {
        "what_worked": [f"{pick[0]} ({day.isoformat()})", pick[1], pick[2]],
        "what_didnt_work": [pick[3], f"{pick[4]} #{index}"],
        "tomorrows_focus": [f"watch {pick[2]}", f"avoid {pick[3]}"],
        "market_observations": [pick[4], f"breadth {index % 97} of 100 advancing"],
        "trades_executed": 4 + index % 7,
        "wins": 2 + index % 3,
        "losses": 1 + index % 2,
        "pnl_realized": round(((index * 37) % 2001 - 1000) / 7.0, 2),
        "token_usage": {"input": 1200 + index % 500, "output": 300 + index % 200},
        "metadata": {"session": "regular", "model_version": "v3"},
    }
