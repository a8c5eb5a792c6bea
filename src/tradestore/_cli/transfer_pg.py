"""``tradestore import --dsn``: an export document into a PostgreSQL database.

The database must hold no tradestore data (or ``--force`` empties it first).
The records go in through the stores' public methods, as into a folder; if
anything fails, the tradestore tables are emptied again, so a failed import
leaves nothing half-written behind (readers that look meanwhile may see part
of it: the folder import, which renames a finished folder into place, has no
such window).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tradestore._cli.common import UserError, shown
from tradestore.scheduler import Stores, open_stores

if TYPE_CHECKING:
    from tradestore._cli.transfer import ExportDocument

__all__ = ["import_database"]


async def _tables(db: Any) -> list[str]:
    async with db.connection("listing tables") as conn:
        cur = await conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'tradestore' "
            "AND tablename <> 'schema_version' ORDER BY 1")
        return [row[0] for row in await cur.fetchall()]


async def _is_empty(db: Any) -> bool:
    async with db.connection("checking for data") as conn:
        for table in await _tables(db):
            cur = await conn.execute(f"SELECT EXISTS (SELECT 1 FROM tradestore.{table})"
                                     .encode())
            row = await cur.fetchone()
            if row is not None and row[0]:
                return False
    return True


async def _empty(db: Any) -> None:
    tables = await _tables(db)
    async with db.transaction("emptying the tradestore tables") as conn:
        await conn.execute(("TRUNCATE " + ", ".join(f"tradestore.{t}" for t in tables))
                           .encode())


async def import_database(
    document: ExportDocument, dsn: str, *, force: bool,
    write_all: Callable[[Stores, ExportDocument, Any], Awaitable[None]],
    clock: Callable[[], datetime],
) -> dict[str, int]:
    """Store ``document`` in the (empty, or emptied with ``force``) database at ``dsn``."""
    from tradestore.postgres import Database  # noqa: PLC0415  # psycopg is an optional extra

    async with Database(dsn) as db:
        if not await _is_empty(db):
            if not force:
                raise UserError(f"{shown(dsn)} holds tradestore data; use --force to replace "
                                "it with the import")
            await _empty(db)
        try:
            async with open_stores(db, clock=clock) as stores:
                await write_all(stores, document, clock)
        except BaseException:
            await _empty(db)
            raise
    return document.counts()
