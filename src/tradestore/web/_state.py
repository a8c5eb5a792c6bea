"""The dashboard's state: the stores, the scheduler (if any), the token, refreshes."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from tradestore.scheduler import Scheduler, Stores
from tradestore.scheduler.timing import utc_now
from tradestore.web._actions import new_token
from tradestore.web._health import HealthView, VerifyRunner, health_view
from tradestore.web._metrics import DashboardMetrics

__all__ = ["Dashboard", "folder_signature"]

FULL_RELOAD_EVERY = 30.0
"""Seconds after which a read-only dashboard re-reads the files even if they look unchanged."""


def folder_signature(roots: list[Path]) -> tuple[object, ...]:
    """What changes whenever a writer commits or checkpoints: names and mtimes of the folders.

    Every commit creates a journal name and every checkpoint renames files, so an
    unchanged signature means there is nothing new to read (the periodic full
    reload covers a change within one timestamp tick).
    """
    parts: list[object] = []
    for root in roots:
        for folder in (root, *sorted(p for p in root.glob("*/") if p.name != "quarantine")):
            try:
                parts.append((str(folder), folder.stat().st_mtime_ns,
                              tuple(sorted(os.listdir(folder)))))
            except OSError:
                parts.append((str(folder), None))
    return tuple(parts)


class Dashboard:
    """What every route of one app shares."""

    def __init__(  # noqa: PLR0913  # the options create_app passes through
        self,
        stores: Stores,
        *,
        scheduler: Scheduler | None,
        token: str | None,
        clock: Callable[[], datetime] | None,
        refresh_seconds: float,
        verify_interval: float,
        reload_interval: float,
    ) -> None:
        self.stores = stores
        self.scheduler = scheduler
        self.writer = not stores.tasks.read_only
        # Actions go through the writer's stores only; a writer app always has a token.
        self.token = (token or new_token()) if self.writer else None
        self.clock = clock or utc_now
        self.refresh_seconds = refresh_seconds
        self.reload_interval = reload_interval
        self.verify = VerifyRunner(stores, self.clock, verify_interval)
        folder: Path | None = getattr(stores.tasks, "data_dir", None)
        self.metrics = DashboardMetrics(folder)
        self._reload_lock = asyncio.Lock()
        self._reloaded = -float("inf")
        self._full_reload = -float("inf")
        self._signature: tuple[object, ...] | None = None
        if scheduler is not None:
            scheduler.subscribe(self.metrics.on_event)

    @property
    def actions(self) -> bool:
        """Whether run now / pause / resume / retry are offered."""
        return self.writer

    def wake(self) -> Callable[[], None] | None:
        """The scheduler's ``wake()`` (start due tasks now), if there is one."""
        return self.scheduler.wake if self.scheduler is not None else None

    async def refresh(self) -> None:
        """A read-only app re-reads the files (at most every ``reload_interval`` seconds).

        Only when they changed (see :func:`folder_signature`), or after
        ``FULL_RELOAD_EVERY`` seconds; concurrent requests share one reload. A
        writer's stores are always current.
        """
        self.verify.poke()
        if self.writer or time.monotonic() - self._reloaded < self.reload_interval:
            return
        async with self._reload_lock:
            if time.monotonic() - self._reloaded < self.reload_interval:
                return
            s = self.stores
            stores = (s.tasks, s.stocks, s.strategy_logs, s.fundamentals)
            folders = [getattr(store, "folder", None) for store in stores]
            signature: tuple[object, ...] | None = None
            if all(folder is not None for folder in folders):  # files: reload only on change
                roots = [Path(folder) for folder in folders if folder is not None]
                signature = await asyncio.to_thread(folder_signature, roots)
            now = time.monotonic()
            if (signature is None or signature != self._signature
                    or now - self._full_reload >= FULL_RELOAD_EVERY):
                for store in stores:
                    await store.reload()
                self._signature, self._full_reload = signature, now
            self._reloaded = time.monotonic()

    async def health(self) -> HealthView:
        """The health strip now."""
        return await health_view(self.stores, self.clock(), self.verify.result,
                                 writer=self.writer)
