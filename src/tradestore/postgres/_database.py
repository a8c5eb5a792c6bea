"""``Database``: one psycopg connection pool shared by the stores, and the schema migrations.

Open and close it explicitly (or ``async with``); a store given a URL makes
and owns its own. Behind PgBouncer in transaction mode pass
``prepare_threshold=None`` (no server-side prepared statements).

Migrations are the numbered files ``migrations/NNNN_name.sql`` shipped in the
package. ``migrate()`` applies the missing ones in one transaction under a
transaction-level advisory lock, so any number of processes may start at
once: one applies, the others wait and then find nothing to do. The applied
versions are rows of ``tradestore.schema_version``; a database whose version
is newer than this tradestore knows is refused with ``StoreCorruptedError``
(``metadata["newer_version"]``) and left untouched, as the file backend
refuses a file of a newer format.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import weakref
from collections.abc import AsyncIterator
from importlib import resources
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import psycopg
import psycopg_pool
from psycopg.conninfo import conninfo_to_dict

from tradestore.errors import StoreClosedError, StoreCorruptedError, StoreError, ValidationError
from tradestore.postgres._errors import wrap_error

__all__ = ["SCHEMA", "Database", "is_postgres_url", "latest_version", "migrations"]

_log = logging.getLogger(__name__)
SCHEMA = "tradestore"
_MIGRATION_RE = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_MIGRATE_LOCK = 0x7472_6164_6573_746F  # "tradesto": the advisory lock key of migrations
_FRESH_S = 1.0  # a connection returned this recently is handed out again without a test
_BEGIN = b"BEGIN"
_BEGIN_FAST = b"BEGIN; SET LOCAL synchronous_commit = off"


def is_postgres_url(location: object) -> bool:
    """Whether ``location`` is a ``postgresql://`` or ``postgres://`` URL."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every shipped migration, in version order."""
    found: list[tuple[int, str, str]] = []
    folder = resources.files("tradestore.postgres") / "migrations"
    for entry in folder.iterdir():
        match = _MIGRATION_RE.fullmatch(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort()
    if [v for v, _, _ in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..n: {[n for _, n, _ in found]}")
    return found


def latest_version() -> int:
    """The schema version this tradestore writes."""
    return len(migrations())


def _check_url(dsn: object) -> str:
    if not is_postgres_url(dsn):
        raise ValidationError(f"dsn: expected a postgresql:// or postgres:// URL, got "
                              f"{dsn!r:.80}", field="dsn")
    assert isinstance(dsn, str)
    try:
        conninfo_to_dict(dsn)
        urlsplit(dsn).port  # noqa: B018  # raises ValueError for a bad port
    except (psycopg.ProgrammingError, ValueError) as exc:
        raise ValidationError(f"dsn: not a valid PostgreSQL URL: {exc}", field="dsn") from None
    return dsn


def redact(dsn: str) -> str:
    """``dsn`` without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", dsn)


class Database:
    """A connection pool to one PostgreSQL database, shared by any number of stores.

    :raises ValidationError: ``dsn`` is not a PostgreSQL URL.
    """

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 10.0,
        prepare_threshold: int | None = 5,
        migrate: bool = True,
        application_name: str = "tradestore",
    ) -> None:
        self.dsn = _check_url(dsn)
        self.auto_migrate = migrate
        self.timeout = timeout
        self._kwargs: dict[str, Any] = {"prepare_threshold": prepare_threshold}
        self._conninfo_extra = {"application_name": application_name,
                                "connect_timeout": max(1, int(timeout))}
        self._sizes = (min_size, max_size)
        self._returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self._probing: asyncio.Lock | None = None
        self._pool = self._new_pool()
        self._state = "new"
        self._opening: asyncio.Lock | None = None
        self.schema_version = 0

    def _new_pool(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        # autocommit: a read is one statement, one round trip; writes send BEGIN/COMMIT.
        return psycopg_pool.AsyncConnectionPool(
            self.dsn, min_size=self._sizes[0], max_size=self._sizes[1], timeout=self.timeout,
            kwargs={**self._kwargs, **self._conninfo_extra, "autocommit": True}, open=False,
            check=self._check, reset=self._reset, name="tradestore",
        )

    async def _reset(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._returned[conn] = time.monotonic()

    async def _check(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Before a connection is handed out: test it, unless it was in use a moment ago.

        Testing costs round trips on every call; a connection used within the last
        second is taken as alive (if the server went away meanwhile, the call fails
        with a recoverable StoreIOError and the pool drops the connection).
        """
        last = self._returned.get(conn)
        if last is not None and time.monotonic() - last < _FRESH_S:
            return
        await psycopg_pool.AsyncConnectionPool.check_connection(conn)

    def __repr__(self) -> str:
        return f"Database({redact(self.dsn)!r})"

    @property
    def is_open(self) -> bool:
        """Whether ``open()`` succeeded and ``close()`` was not called."""
        return self._state == "open"

    async def _probe(self) -> None:
        """One direct connection, so a refused or failed login raises its real error."""
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.dsn, application_name="tradestore", connect_timeout=max(1, int(self.timeout)))
        except psycopg.Error as exc:
            raise wrap_error(exc, f"connecting to {redact(self.dsn)}") from exc
        await conn.close()

    async def open(self) -> None:
        """Connect (and apply missing migrations unless ``migrate=False``). Idempotent.

        :raises StoreIOError: the server cannot be reached or refused the login.
        :raises StoreCorruptedError: the database was written by a newer tradestore.
        """
        if self._state == "open":
            return
        if self._state == "closed":
            raise StoreClosedError(f"{self!r} is closed")
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._state == "open":
                return
            await self._probe()
            try:
                await self._pool.open(wait=False)
            except psycopg.Error as exc:
                raise wrap_error(exc, f"connecting to {redact(self.dsn)}") from exc
            try:
                if self.auto_migrate:
                    await self.migrate()
                else:
                    await self.check_version(require_current=False)
            except BaseException:
                await self._pool.close()
                self._pool = self._new_pool()
                raise
            self._state = "open"

    async def close(self) -> None:
        """Close every connection. Idempotent."""
        if self._state == "closed":
            return
        self._state = "closed"
        await self._pool.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def connection(self, action: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection (autocommit); driver errors inside come out as tradestore errors.

        For several statements that must commit together use ``transaction()``.
        """
        if self._state == "closed":
            raise StoreClosedError(f"{self!r} is closed")
        try:
            async with self._pool.connection() as conn:
                yield conn
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            if isinstance(exc, psycopg_pool.PoolTimeout) and not self._pool.get_stats().get(
                    "pool_size", 0):
                # No connection at all: one probe (not one per waiting caller) names
                # the real cause, e.g. a refused connection or a failed login.
                if self._probing is None:
                    self._probing = asyncio.Lock()
                async with self._probing:
                    try:
                        await self._probe()
                    except StoreError as err:
                        raise err from exc
            raise wrap_error(exc, action) from exc

    @contextlib.asynccontextmanager
    async def transaction(
        self, action: str, *, durable: bool = True
    ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection in a transaction, committed when the block ends.

        ``durable=False`` commits with ``synchronous_commit = off``. An error in
        the block rolls back (nothing was committed: the caller may retry); a
        connection lost during COMMIT raises StoreIOError flagged ``in_doubt``.
        """
        async with self.connection(action) as conn:
            await conn.execute(_BEGIN if durable else _BEGIN_FAST)
            try:
                yield conn
            except BaseException:
                if not conn.broken and not conn.closed:
                    with contextlib.suppress(psycopg.Error):
                        await conn.execute(b"ROLLBACK")
                raise
            try:
                await conn.execute(b"COMMIT")
            except psycopg.Error as exc:
                raise wrap_error(exc, action, in_commit=True) from exc

    # -- migrations ------------------------------------------------------------------------

    async def _current(self, conn: psycopg.AsyncConnection[Any]) -> int:
        row = await (await conn.execute(
            "SELECT to_regclass('tradestore.schema_version') IS NOT NULL")).fetchone()
        if not row or not row[0]:
            return 0
        row = await (await conn.execute(
            "SELECT coalesce(max(version), 0) FROM tradestore.schema_version")).fetchone()
        return int(row[0]) if row else 0

    def _refuse_newer(self, current: int) -> None:
        latest = latest_version()
        if current > latest:
            raise StoreCorruptedError(
                f"the database {redact(self.dsn)} has tradestore schema version {current}, "
                f"newer than this tradestore knows ({latest}); upgrade tradestore",
                path=redact(self.dsn),
                metadata={"newer_version": True, "schema_version": current},
            )

    async def check_version(self, *, require_current: bool = True) -> int:
        """The database's schema version, refusing a newer one (applies nothing).

        :raises StoreCorruptedError: the schema is newer than this tradestore knows.
        :raises StoreError: ``require_current`` and the schema is missing or older
            (run ``migrate()``).
        """
        try:
            async with self._pool.connection() as conn:
                current = await self._current(conn)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise wrap_error(exc, f"reading the schema version of {redact(self.dsn)}") from exc
        self._refuse_newer(current)
        self.schema_version = current
        if require_current and current < latest_version():
            raise StoreError(
                f"the database {redact(self.dsn)} has tradestore schema version {current}, "
                f"this tradestore needs {latest_version()}: run "
                "'tradestore migrate --dsn URL'", code="store_needs_migration")
        self.schema_version = current
        return current

    async def migrate(self) -> list[str]:
        """Apply the missing migrations under an advisory lock; return the files applied.

        :raises StoreCorruptedError: the schema is newer than this tradestore knows.
        :raises StoreIOError: the server cannot be reached, or a migration failed.
        """
        applied: list[str] = []
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
                current = await self._current(conn)
                self._refuse_newer(current)
                if current == 0:
                    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
                    await conn.execute(
                        "CREATE TABLE tradestore.schema_version (version integer PRIMARY KEY,"
                        " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
                for version, name, sql in migrations():
                    if version <= current:
                        continue
                    await conn.execute(sql.encode())
                    await conn.execute(
                        "INSERT INTO tradestore.schema_version (version, name) VALUES (%s, %s)",
                        (version, name))
                    applied.append(name)
        except psycopg.Error as exc:
            raise wrap_error(exc, f"migrating {redact(self.dsn)}") from exc
        except psycopg_pool.PoolTimeout as exc:
            await self._probe()
            raise wrap_error(exc, f"migrating {redact(self.dsn)}") from exc
        self.schema_version = latest_version()
        if applied:
            _log.info("applied tradestore migrations %s to %s", applied, redact(self.dsn))
        return applied
