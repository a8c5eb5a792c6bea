"""The ``sqlite_full`` and ``sqlite_normal`` peers: aiosqlite in WAL mode.

One row per symbol holding the record as JSON text; every update is one
statement in autocommit mode, so one transaction, committed before the call
returns. Logs live in a table whose primary key ``(strategy, day)`` is the
date index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import aiosqlite

from benchmarks._adapters import Adapter, LogPayload
from benchmarks._naive import _record

__all__ = ["SqliteFullAdapter", "SqliteNormalAdapter"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stock_state (symbol TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS strategy_logs (
    strategy TEXT NOT NULL, day TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (strategy, day)
);
"""

_UPDATE = (
    "UPDATE stock_state SET data = json_set(data, '$.fetch_count', "
    "json_extract(data, '$.fetch_count') + 1, '$.updated_at', ?) WHERE symbol = ?"
)
_UPSERT_LOG = (
    "INSERT INTO strategy_logs (strategy, day, data) VALUES (?, ?, ?) "
    "ON CONFLICT (strategy, day) DO UPDATE SET data = excluded.data"
)
_LAST_LOGS = (
    "SELECT data FROM strategy_logs WHERE strategy = ? AND day <= ? ORDER BY day DESC LIMIT ?"
)


class SqliteFullAdapter(Adapter):
    """aiosqlite, WAL, synchronous=FULL: the durable peer to beat."""

    name = "sqlite_full"
    durable = True
    synchronous: ClassVar[str] = "FULL"

    def __init__(self) -> None:
        self._db: aiosqlite.Connection | None = None

    async def _connect(self, path: Path) -> aiosqlite.Connection:
        if self._db is None:
            # isolation_level=None: autocommit, each statement is its own transaction.
            db = await aiosqlite.connect(path / "store.db", isolation_level=None)
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute(f"PRAGMA synchronous={self.synchronous}")
            await db.executescript(_SCHEMA)
            self._db = db
        return self._db

    @property
    def _conn(self) -> aiosqlite.Connection:
        assert self._db is not None, "open() first"
        return self._db

    async def create(self, path: Path, symbols: Sequence[str]) -> None:
        db = await self._connect(path)
        rows = [(s, json.dumps(_record(s))) for s in symbols]
        await db.execute("BEGIN")
        await db.executemany("INSERT INTO stock_state (symbol, data) VALUES (?, ?)", rows)
        await db.execute("COMMIT")
        await self.close()

    async def open(self, path: Path) -> None:
        await self._connect(path)

    async def open_logs(self, path: Path) -> None:
        await self._connect(path)

    async def update(self, symbol: str) -> None:
        await self._conn.execute(_UPDATE, (datetime.now(UTC).isoformat(), symbol))

    async def read(self, symbol: str) -> int:
        rows = await self._conn.execute_fetchall(
            "SELECT data FROM stock_state WHERE symbol = ?", (symbol,)
        )
        for (data,) in rows:
            record: dict[str, Any] = json.loads(data)
            return int(record["fetch_count"])
        raise KeyError(symbol)

    async def append_log(self, strategy: str, day: date, payload: LogPayload) -> None:
        stamp = datetime.now(UTC).isoformat()
        entry = {"strategy_type": strategy, "date": day.isoformat(), **payload}
        entry["created_at"] = entry["updated_at"] = stamp
        await self._conn.execute(_UPSERT_LOG, (strategy, day.isoformat(), json.dumps(entry)))

    async def last_logs(self, strategy: str, n: int, today: date) -> list[date]:
        rows = await self._conn.execute_fetchall(_LAST_LOGS, (strategy, today.isoformat(), n))
        entries = [json.loads(data) for (data,) in rows]
        return [date.fromisoformat(e["date"]) for e in reversed(entries)]

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()


class SqliteNormalAdapter(SqliteFullAdapter):
    """The same with synchronous=NORMAL: atomic, not durable on power loss."""

    name = "sqlite_normal"
    durable = False
    synchronous = "NORMAL"
