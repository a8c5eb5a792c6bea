"""Wake-ups on PostgreSQL: LISTEN on a dedicated connection that heals itself.

Schema 2 (``0002_wakeups.sql``) sends a NOTIFY on ``CHANNEL`` whenever a
statement leaves active PENDING tasks behind; its payload is the number of
milliseconds, by the server's clock, until the soonest of them is due.
``listen(dsn)`` turns that into a stream of delays in seconds (0.0 = something
is due now) for a scheduler to act on.

The connection is its own, outside the pool: a pooled connection is reset and
handed to other callers, and LISTEN belongs to one session. It can die without
a word (the server restarts, ``pg_terminate_backend``, a network cut): reading
notifications then raises, and when nothing arrives for ``check_interval``
seconds a ``SELECT 1`` proves the connection still works. Either failure is
logged and the listener reconnects with exponential backoff (``retry_min`` to
``retry_max`` seconds). After every (re)connect it yields 0.0 first, because a
task may have come due while nobody was listening. The scheduler's poll loop
stays the fallback: a lost notification delays a task by one poll at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import psycopg

from tradestore.postgres._database import redact

if TYPE_CHECKING:
    from tradestore.postgres._database import Database

__all__ = ["CHANNEL", "PgWakeups", "listen", "parse_delay"]

_log = logging.getLogger(__name__)

CHANNEL = "tradestore_tasks"
"""The NOTIFY channel of schema 2's task triggers."""


def parse_delay(payload: str) -> float:
    """Seconds until due from a notification's payload; 0.0 for due now or a foreign payload."""
    try:
        millis = int(payload)
    except ValueError:
        return 0.0  # someone else's NOTIFY on our channel: look, it costs one claim
    return max(0, millis) / 1000.0


async def _connect(dsn: str, connect_timeout: float) -> psycopg.AsyncConnection[Any]:
    conn = await psycopg.AsyncConnection.connect(
        dsn, autocommit=True, application_name="tradestore-listener",
        connect_timeout=max(1, int(connect_timeout)),
        # TCP keepalives: a peer that vanished without a FIN is noticed by the kernel too.
        keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
    )
    try:
        await conn.execute(f"LISTEN {CHANNEL}".encode())
    except BaseException:
        await conn.close()
        raise
    return conn


async def listen(
    dsn: str,
    *,
    check_interval: float = 5.0,
    retry_min: float = 0.1,
    retry_max: float = 5.0,
    connect_timeout: float = 10.0,
) -> AsyncGenerator[float, None]:
    """Yield the delay (seconds) of every task wake-up on ``dsn``, forever, reconnecting.

    Never raises a driver error: connection failures are logged and retried.
    Close the generator (``aclose``) or cancel its consumer to stop it.
    """
    retry = retry_min
    where = redact(dsn)
    while True:
        try:
            conn = await _connect(dsn, connect_timeout)
        except psycopg.Error as exc:
            _log.warning("wake-up listener: cannot connect to %s (%s); retrying in %.1fs",
                         where, exc, retry)
            await asyncio.sleep(retry)
            retry = min(retry_max, retry * 2)
            continue
        _log.info("wake-up listener: listening on %s", where)
        retry = retry_min
        try:
            yield 0.0  # anything that came due while nobody listened
            while True:
                heard = False
                async for note in conn.notifies(timeout=check_interval):
                    heard = True
                    yield parse_delay(note.payload)
                if not heard:
                    await conn.execute(b"SELECT 1")  # quiet: prove the session is alive
        except psycopg.Error as exc:
            _log.warning("wake-up listener: connection to %s lost (%s); reconnecting in %.1fs",
                         where, exc, retry)
        finally:
            with contextlib.suppress(psycopg.Error):
                await conn.close()
        await asyncio.sleep(retry)
        retry = min(retry_max, retry * 2)


class PgWakeups:
    """``TaskStore.wakeups()`` on PostgreSQL (mixed into the PostgreSQL ``TaskStore``)."""

    database: Database

    def wakeups(self) -> AsyncGenerator[float, None]:
        """Delays in seconds until tasks saved or rescheduled on any host are due (0.0 = now).

        An endless async iterator on its own connection (see ``listen``); the
        scheduler wakes on each. Stop it with ``aclose()``.
        """
        return listen(self.database.dsn, connect_timeout=self.database.timeout)
