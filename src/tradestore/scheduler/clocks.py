"""Which clock times a scheduler's runs: its own, or its store's server.

On a store with a server clock (PostgreSQL: ``TaskStore.server_time()``) the
server decides what is due and when leases expire, so the scheduler must not
let its host's clock decide anything either: a host whose clock is minutes off
would otherwise plan the next run of a recurring task on the wrong grid slot
(run it again at once, or skip periods) and stamp heartbeats others misread.
``ServerClock`` estimates the server's time on this host as the last server
reading plus the monotonic time elapsed since (error: half a round trip),
re-read every ``resync_seconds``. Until a first reading succeeds it falls back
to the host's clock, logged.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from tradestore.errors import TradingError
from tradestore.scheduler.timing import Clock

__all__ = ["ServerClock", "ServerTimed"]

logger = logging.getLogger(__name__)


@runtime_checkable
class ServerTimed(Protocol):
    """A task store whose server's clock times claims and leases."""

    async def server_time(self) -> datetime:
        """The server's current time."""
        ...


class ServerClock:
    """A zero-argument clock that follows the server of ``store`` (see the module docs)."""

    def __init__(self, store: ServerTimed, fallback: Clock, *,
                 resync_seconds: float = 30.0) -> None:
        self.store = store
        self.fallback = fallback
        self.resync_seconds = resync_seconds
        self._base: tuple[datetime, float] | None = None

    @property
    def synced(self) -> bool:
        """Whether the server's time was read at least once."""
        return self._base is not None

    async def sync(self, *, force: bool = False) -> bool:
        """Read the server's clock (unless read less than ``resync_seconds`` ago)."""
        if (not force and self._base is not None
                and time.monotonic() - self._base[1] < self.resync_seconds):
            return True
        sent = time.monotonic()
        try:
            server = await self.store.server_time()
        except TradingError as exc:
            logger.warning("could not read the database server's clock (%s); %s", exc,
                           "keeping the last reading" if self._base else "using this host's")
            return False
        got = time.monotonic()
        self._base = (server, (sent + got) / 2)
        return True

    def __call__(self) -> datetime:
        if self._base is None:
            return self.fallback()
        server, at = self._base
        return server + timedelta(seconds=time.monotonic() - at)
