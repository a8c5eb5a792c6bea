"""The health strip: scheduler heartbeat, writer lock owner, last verify, journal backlog."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import msgspec

from tradestore.contracts import Store
from tradestore.persistence._lock import read_lock_owner
from tradestore.persistence._observe import journal_backlog
from tradestore.scheduler import Stores

__all__ = [
    "HealthView",
    "HeartbeatView",
    "VerifyRunner",
    "VerifyView",
    "WriterView",
    "health_view",
    "heartbeat_views",
    "store_name",
]

_log = logging.getLogger(__name__)

HeartbeatState = Literal["alive", "stale", "never"]


class HeartbeatView(msgspec.Struct, kw_only=True):
    """One scheduler's last heartbeat as the dashboard shows it."""

    scheduler_id: str
    host: str
    pid: int
    started_at: datetime
    last_beat: datetime
    age_seconds: float
    alive: bool
    running: list[str]
    stopped_at: datetime | None


class WriterView(msgspec.Struct, kw_only=True):
    """Who holds (or last held) one store's writer lock."""

    store: str
    pid: int | None = None
    host: str | None = None
    since: datetime | None = None
    alive: bool | None = None  # None: on another host, or no record


class VerifyView(msgspec.Struct, kw_only=True):
    """The result of the last read-only ``verify()`` of every store."""

    checked_at: datetime | None = None
    ok: bool | None = None  # None: not run yet
    damaged: list[str] = msgspec.field(default_factory=list)
    notes: int = 0
    error: str | None = None


class HealthView(msgspec.Struct, kw_only=True):
    """Everything the health strip shows."""

    now: datetime
    mode: Literal["read-only", "writer"]
    heartbeat: HeartbeatState
    scheduler: HeartbeatView | None
    schedulers: list[HeartbeatView]
    writers: list[WriterView]
    verify: VerifyView
    journal_backlog: dict[str, int]

    @property
    def backlog_total(self) -> int:
        """Journal files waiting for a checkpoint, over every store."""
        return sum(self.journal_backlog.values())


def _stores(stores: Stores) -> list[Store]:
    return [stores.tasks, stores.stocks, stores.strategy_logs, stores.fundamentals]


def store_name(store: object) -> str:
    """The store's folder name (``tasks``...), or its class name on a backend without folders."""
    name = getattr(store, "folder_name", None)
    return name if isinstance(name, str) else type(store).__name__


async def heartbeat_views(stores: Stores, now: datetime) -> list[HeartbeatView]:
    """Every scheduler heartbeat the task store keeps, newest first."""
    views = []
    for beat in await stores.tasks.heartbeats():
        views.append(
            HeartbeatView(
                scheduler_id=beat.scheduler_id,
                host=beat.host,
                pid=beat.pid,
                started_at=beat.started_at,
                last_beat=beat.last_beat,
                age_seconds=max(0.0, (now - beat.last_beat).total_seconds()),
                alive=beat.is_alive(now),
                running=list(beat.running),
                stopped_at=beat.stopped_at,
            )
        )
    return views


def _writer(store: Store) -> WriterView:
    name = store_name(store)
    folder: Path | None = getattr(store, "folder", None)  # a file backend's folder
    owner = read_lock_owner(folder) if folder is not None else None
    if owner is None:
        return WriterView(store=name)
    return WriterView(store=name, pid=owner.pid, host=owner.host, since=owner.since,
                      alive=owner.is_alive())


class VerifyRunner:
    """Runs the read-only ``verify()`` of every store now and then, in the background.

    Started lazily by a request (a mounted app gets no lifespan events), at most
    one run at a time, at most once per ``interval`` seconds.
    """

    def __init__(self, stores: Stores, clock: Any, interval: float) -> None:
        self._stores = stores
        self._clock = clock
        self.interval = interval
        self.result = VerifyView()
        self._last = -float("inf")
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """Start a run if none is going and the last one is older than ``interval``."""
        if self._task is not None and not self._task.done():
            return
        if time.monotonic() - self._last < self.interval:
            return
        self._last = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        """Verify every store now and keep the result."""
        damaged: list[str] = []
        notes = 0
        try:
            for store in _stores(self._stores):
                verify = getattr(store, "verify", None)
                if verify is None:
                    continue
                for problem in await verify():
                    if problem.kind == "leftover_temp":
                        notes += 1
                    else:
                        damaged.append(f"{problem.path}: {problem.detail}")
        except Exception as exc:  # shown on the dashboard instead of crashing a request
            _log.warning("verify failed", exc_info=True)
            self.result = VerifyView(checked_at=self._clock(), ok=False, error=str(exc))
            return
        self.result = VerifyView(checked_at=self._clock(), ok=not damaged, damaged=damaged,
                                 notes=notes)


async def health_view(
    stores: Stores, now: datetime, verify: VerifyView, *, writer: bool
) -> HealthView:
    """The health strip's content at ``now``."""
    beats = await heartbeat_views(stores, now)
    state: HeartbeatState = "never"
    if beats:
        state = "alive" if any(b.alive for b in beats) else "stale"
    current = next((b for b in beats if b.alive), beats[0] if beats else None)
    backlog: dict[str, int] = {}
    for store in _stores(stores):
        folder = getattr(store, "folder", None)  # journals exist on the file backend only
        if folder is not None:
            backlog[store_name(store)] = await journal_backlog(folder)
    return HealthView(
        now=now,
        mode="writer" if writer else "read-only",
        heartbeat=state,
        scheduler=current,
        schedulers=beats,
        writers=[_writer(s) for s in _stores(stores)],
        verify=verify,
        journal_backlog=backlog,
    )
