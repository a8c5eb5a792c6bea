"""The database server's clock, for schedulers on hosts whose own clocks disagree."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradestore.postgres._database import Database

__all__ = ["PgServerTime"]


class PgServerTime:
    """``TaskStore.server_time()`` on PostgreSQL (mixed into the PostgreSQL ``TaskStore``)."""

    database: Database

    if TYPE_CHECKING:
        async def _ready(self) -> None: ...

    async def server_time(self) -> datetime:
        """The server's current time (``clock_timestamp()``), timezone-aware.

        Leases, claims and due times on PostgreSQL are all decided by this clock;
        the scheduler times its outcomes and heartbeats by it too.

        :raises StoreIOError: the server cannot be reached.
        """
        await self._ready()
        async with self.database.connection("reading the server's clock") as conn:
            row = await (await conn.execute(b"SELECT clock_timestamp()")).fetchone()
        assert row is not None
        value = row[0]
        assert isinstance(value, datetime)
        return value
