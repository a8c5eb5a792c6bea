"""The ``naive`` and ``naive_fsync`` peers: what a typical trading bot's persistence does.

Every record lives in one dict persisted as one pretty-printed JSON file. Each
update serialises the whole dict on the event loop, writes it with aiofiles to
the fixed ``<file>.tmp`` and renames it over the file. Concurrent updates race
on that fixed temporary path; the errors this raises reach the workload, which
counts them. ``naive_fsync`` adds an fsync of the file and of the folder.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiofiles
import aiofiles.os

from benchmarks._adapters import Adapter, LogPayload

__all__ = ["NaiveAdapter", "NaiveFsyncAdapter"]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _record(symbol: str) -> dict[str, Any]:
    """A fresh stock-state record, shaped like ``StockSchedulerState``."""
    return {
        "symbol": symbol,
        "last_news_check": None,
        "last_earnings_check": None,
        "last_fundamentals_check": None,
        "last_portfolio_update": None,
        "last_analysis_check": None,
        "needs_fundamentals_recheck": False,
        "fetch_count": 0,
        "error_count": 0,
        "updated_at": _now(),
    }


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class NaiveAdapter(Adapter):
    """One dict, one JSON file, whole-file rewrite per update, no fsync."""

    name = "naive"
    durable = False
    fsync = False

    def __init__(self) -> None:
        self._state: dict[str, dict[str, Any]] = {}
        self._logs: list[dict[str, Any]] = []
        self._state_file: Path | None = None
        self._logs_file: Path | None = None

    async def _save(self, file: Path, data: object) -> None:
        # Serialising on the event loop is part of this peer's definition.
        text = json.dumps(data, indent=2)
        tmp = file.with_name(file.name + ".tmp")
        async with aiofiles.open(tmp, "w", encoding="utf-8") as f:
            await f.write(text)
            if self.fsync:
                await f.flush()
                await asyncio.to_thread(os.fsync, f.fileno())
        # A plain os.replace on the event loop, as this peer's definition has it; with
        # the fixed temp path, a concurrent update may already have renamed it away.
        os.replace(tmp, file)
        if self.fsync:
            await asyncio.to_thread(_fsync_dir, file.parent)

    @staticmethod
    async def _load(file: Path) -> Any:
        async with aiofiles.open(file, encoding="utf-8") as f:
            text = await f.read()
        return json.loads(text)

    async def create(self, path: Path, symbols: Sequence[str]) -> None:
        await self._save(path / "state.json", {s: _record(s) for s in symbols})

    async def open(self, path: Path) -> None:
        self._state_file = path / "state.json"
        self._state = await self._load(self._state_file)

    async def open_logs(self, path: Path) -> None:
        self._logs_file = path / "logs.json"
        exists = await aiofiles.os.path.exists(self._logs_file)
        self._logs = await self._load(self._logs_file) if exists else []

    async def update(self, symbol: str) -> None:
        assert self._state_file is not None, "open() first"
        record = self._state[symbol]
        record["fetch_count"] += 1
        record["updated_at"] = _now()
        await self._save(self._state_file, self._state)

    async def read(self, symbol: str) -> int:
        return int(self._state[symbol]["fetch_count"])

    async def append_log(self, strategy: str, day: date, payload: LogPayload) -> None:
        assert self._logs_file is not None, "open_logs() first"
        stamp = _now()
        entry = {"strategy_type": strategy, "date": day.isoformat(), **payload}
        entry["created_at"] = entry["updated_at"] = stamp
        self._logs.append(entry)
        await self._save(self._logs_file, self._logs)

    async def last_logs(self, strategy: str, n: int, today: date) -> list[date]:
        limit = today.isoformat()
        mine = [e for e in self._logs if e["strategy_type"] == strategy and e["date"] <= limit]
        mine.sort(key=lambda e: str(e["date"]))
        return [date.fromisoformat(e["date"]) for e in mine[-n:]]

    async def close(self) -> None:
        self._state = {}
        self._logs = []
        self._state_file = self._logs_file = None


class NaiveFsyncAdapter(NaiveAdapter):
    """The naive peer made durable: fsync of the file and of the folder."""

    name = "naive_fsync"
    durable = True
    fsync = True
