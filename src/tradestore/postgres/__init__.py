"""The PostgreSQL backend: the four stores on a shared database.

``Database`` is one connection pool that several stores share; a store given
a ``postgresql://`` URL makes its own. Install with ``tradestore[postgres]``.
"""

from __future__ import annotations

import asyncio

from tradestore.postgres._database import Database, is_postgres_url, latest_version

__all__ = ["Database", "is_postgres_url", "latest_version", "migrate", "migrate_sync"]


async def migrate(dsn: str) -> list[str]:
    """Apply the missing schema migrations to the database at ``dsn``; return the files applied.

    :raises StoreCorruptedError: the database was written by a newer tradestore.
    :raises StoreIOError: the server cannot be reached or refused the login.
    """
    async with Database(dsn, migrate=False, min_size=1, max_size=1) as db:
        return await db.migrate()


def migrate_sync(dsn: str) -> list[str]:
    """``migrate(dsn)`` for code without an event loop (scripts, test fixtures)."""
    return asyncio.run(migrate(dsn))
