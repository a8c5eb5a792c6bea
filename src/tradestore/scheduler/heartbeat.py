"""The scheduler's heartbeat: who it is, and a beat in the task store every few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from secrets import token_hex
from typing import TYPE_CHECKING

from tradestore.errors import TradingError
from tradestore.models import SchedulerHeartbeat

if TYPE_CHECKING:
    from tradestore import TaskStore
    from tradestore.scheduler.timing import Clock

__all__ = ["HEARTBEAT_RETENTION", "Heartbeat", "new_scheduler_id"]

logger = logging.getLogger(__name__)

HEARTBEAT_RETENTION = timedelta(days=7)
"""Heartbeats not renewed for this long are pruned when a scheduler starts."""

_NOT_ID = re.compile(r"[^A-Za-z0-9.\-_]+")


def new_scheduler_id(host: str, pid: int | None = None) -> str:
    """A scheduler id unique per run: ``"<host>:<pid>:<8 hex digits>"``.

    The host part keeps only letters, digits and ``. - _`` (so the id is a valid
    identifier whatever the machine is called) and at most 100 characters.
    """
    safe = _NOT_ID.sub("-", host).strip("-")[:100] or "host"
    return f"{safe}:{os.getpid() if pid is None else pid}:{token_hex(4)}"


class Heartbeat:
    """Writes ``SchedulerHeartbeat`` records for one scheduler run.

    A failed write is logged and retried at the next beat: a full disk must
    not stop the scheduler (its beat going stale is how the problem shows).
    """

    def __init__(  # noqa: PLR0913  one keyword per field of the heartbeat it writes
        self, store: TaskStore, *, scheduler_id: str, host: str, interval: float, clock: Clock,
        running: Callable[[], list[str]],
    ) -> None:
        self.store = store
        self.scheduler_id = scheduler_id
        self.host = host
        self.interval = interval
        self.clock = clock
        self.running = running
        self.started_at: datetime | None = None
        self._loop: asyncio.Task[None] | None = None
        self._pruned = False

    async def beat(self, *, stopped: bool = False) -> bool:
        """Write one heartbeat now; True if it was written."""
        now = self.clock()
        if self.started_at is None:
            self.started_at = now
        beat = SchedulerHeartbeat(
            scheduler_id=self.scheduler_id, host=self.host, pid=os.getpid(),
            started_at=self.started_at, last_beat=now, interval_seconds=self.interval,
            running=sorted(self.running()), stopped_at=now if stopped else None,
        )
        try:
            await self.store.record_heartbeat(beat)
            if not self._pruned:
                self._pruned = True
                await self.store.prune_heartbeats(now - HEARTBEAT_RETENTION)
        except TradingError:
            logger.warning("could not write the heartbeat of scheduler %s", self.scheduler_id,
                           exc_info=True)
            return False
        return True

    def start(self) -> None:
        """Beat now and every ``interval`` seconds until ``stop``."""
        if self._loop is None or self._loop.done():
            self._loop = asyncio.get_running_loop().create_task(
                self._run(), name=f"tradestore-heartbeat-{self.scheduler_id}")

    async def _run(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Stop beating and record a clean stop (``stopped_at``)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        await self.beat(stopped=True)
