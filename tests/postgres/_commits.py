"""A COMMIT cut off in flight: a trigger that makes COMMIT slow, and the admin who kills it."""

from __future__ import annotations

import asyncio

import psycopg

__all__ = ["kill_the_committer", "slow_commits"]


def slow_commits(dsn: str, table: str) -> None:
    """Make every COMMIT that changed ``table`` (``tradestore.<table>``) take five seconds.

    A deferred constraint trigger runs at COMMIT, so the commit itself is what waits.
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"""
            CREATE FUNCTION tradestore.slow_commit() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT OR UPDATE
            ON tradestore.{table} DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION tradestore.slow_commit();""".encode())


async def kill_the_committer(dsn: str) -> None:
    """Terminate the first backend seen running a COMMIT (within ten seconds)."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as admin:
        for _ in range(200):
            cur = await admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE query = 'COMMIT' "
                "AND state = 'active' AND pid <> pg_backend_pid()")
            row = await cur.fetchone()
            if row is not None:
                await admin.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the COMMIT never showed up")
