"""The lifecycle every PostgreSQL store shares: database, clock, read-only, exclusive, close.

Differences from the file backend (all listed in docs/backends.md): reads are
live (a read-only store sees every commit at once, ``reload()`` is a no-op);
no single-writer lock unless ``exclusive=True`` (a session advisory lock per
store kind, refused with ``StoreLockedError``); ``durable=False`` commits with
``synchronous_commit = off``; ``verify()`` decodes and validates every row and
``repair()`` applies the migrations and then verifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar, Self

import psycopg

from tradestore.errors import StoreClosedError, StoreError, StoreLockedError, ValidationError
from tradestore.models._stamps import Clock, ensure_clock, read_clock
from tradestore.persistence import Problem, RepairReport
from tradestore.persistence._applog import ensure_journal_mode
from tradestore.postgres._database import Database, latest_version, redact
from tradestore.postgres._errors import wrap_error
from tradestore.postgres._rows import RowCodec

__all__ = ["Location", "PgStore"]

Location = str | Database


class PgStore:
    """Shared lifecycle of the PostgreSQL stores (see the module docs)."""

    backend: ClassVar[str] = "postgres"
    kind: ClassVar[str]  # the store's name, also its advisory lock key
    codecs: ClassVar[tuple[tuple[RowCodec[Any], str], ...]]  # (codec, key column list)

    def __init__(
        self,
        location: Location,
        *,
        durable: bool = True,
        read_only: bool = False,
        clock: Clock | None = None,
        exclusive: bool = False,
        fs: object = None,
        journal: str = "files",
    ) -> None:
        if fs is not None:
            raise ValidationError("fs: a FileSystem applies to the file backend only",
                                  field="fs")
        ensure_journal_mode(journal)
        if journal != "files":
            raise ValidationError(f"journal={journal!r} applies to the file backend only: "
                                  "PostgreSQL keeps its own write-ahead log", field="journal")
        self._clock: Clock = ensure_clock(clock)  # checked before anything is made
        if isinstance(location, Database):
            self.database, self._owns_db = location, False
        elif isinstance(location, str):
            self.database, self._owns_db = Database(location, migrate=not read_only), True
        else:
            raise ValidationError("location must be a folder, a postgresql:// URL or a "
                                  "tradestore.postgres.Database", field="location")
        self.durable = bool(durable)
        self.read_only = bool(read_only)
        self.exclusive = bool(exclusive)
        self.journal = journal
        self._state = "new"
        self._opening: asyncio.Lock | None = None
        self._lock_conn: psycopg.AsyncConnection[Any] | None = None

    @property
    def folder(self) -> str:
        """Where the store lives, for messages (the URL without its password)."""
        return f"{redact(self.database.dsn)} ({self.kind})"

    def now(self) -> datetime:
        """The store clock's current time (timezone-aware)."""
        return read_clock(self._clock)

    # -- lifecycle -------------------------------------------------------------------------

    async def initialize(self) -> None:
        """Connect (and migrate, unless read-only). Idempotent, safe to call concurrently."""
        if self._state == "open":
            return
        if self._state == "closed":
            raise StoreClosedError(f"{self.folder} store is closed")
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._state == "open":
                return
            if self._state == "closed":
                raise StoreClosedError(f"{self.folder} store is closed")
            await self.database.open()
            if self.database.schema_version < latest_version():
                await self.database.check_version()  # names the missing migration
            if self.exclusive and not self.read_only:
                await self._take_lock()
            self._state = "open"

    async def _take_lock(self) -> None:
        key = zlib.crc32(f"tradestore:{self.kind}".encode())
        try:
            conn = await psycopg.AsyncConnection.connect(self.database.dsn, autocommit=True)
        except psycopg.Error as exc:
            raise wrap_error(exc, f"locking {self.folder}") from exc
        try:
            row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)",
                                            (key,))).fetchone()
        except psycopg.Error as exc:
            await conn.close()
            raise wrap_error(exc, f"locking {self.folder}") from exc
        if not row or not row[0]:
            await conn.close()
            if self._owns_db:
                await self.database.close()
            self._state = "closed"
            raise StoreLockedError(f"{self.folder} is opened exclusively by another process",
                                   path=self.folder)
        self._lock_conn = conn

    async def _ready(self) -> None:
        if self._state != "open":
            await self.initialize()

    async def close(self) -> None:
        """Release the exclusive lock and, if the store made its own pool, close it."""
        if self._state == "closed":
            return
        self._state = "closed"
        if self._lock_conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._lock_conn.close()
            self._lock_conn = None
        if self._owns_db:
            await self.database.close()

    async def reload(self) -> None:
        """A no-op: reads on PostgreSQL are live."""
        await self._ready()

    async def flush(self) -> None:
        """A no-op: every mutation is committed before it returns."""
        await self._ready()

    async def checkpoint(self) -> None:
        """A no-op on PostgreSQL (the server checkpoints)."""
        await self._ready()

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.folder} is open read-only", code="store_read_only")

    def __del__(self) -> None:
        if getattr(self, "_state", "closed") == "open":
            warnings.warn(f"{type(self).__name__} at {self.folder} was never closed",
                          ResourceWarning, stacklevel=2)

    # -- statements ------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _read(self, action: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for reads (autocommit: each statement sees the latest commits)."""
        await self._ready()
        async with self.database.connection(action) as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def _write(self, action: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection in a transaction committed (durably unless ``durable=False``) at exit."""
        await self._ready()
        self._check_writable()
        async with self.database.transaction(action, durable=self.durable) as conn:
            yield conn

    async def _fetch(self, action: str, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        async with self._read(action) as conn:
            cur = await conn.execute(sql.encode(), params)
            return await cur.fetchall()

    # -- checks ----------------------------------------------------------------------------

    async def verify(self) -> list[Problem]:
        """Check the schema version and decode and validate every row; changes nothing.

        A row that does not decode is a Problem of kind ``invalid_row`` (written by
        something other than tradestore); a newer schema, ``newer_version``.
        """
        await self._ready()
        problems: list[Problem] = []
        try:
            await self.database.check_version()
        except StoreError as exc:
            kind = "newer_version" if exc.metadata.get("newer_version") else "damaged"
            return [Problem(self.folder, kind, exc.message, False)]
        for codec, keys in self.codecs:
            rows = await self._fetch(f"verifying {codec.table}",
                                     f"SELECT {keys}, {codec.select_list} FROM {codec.table}")
            width = keys.count(",") + 1
            for row in rows:
                try:
                    codec.load(row[width:], validate=True)
                except (ValidationError, ValueError, TypeError) as exc:
                    where = "/".join(str(v) for v in row[:width])
                    problems.append(Problem(f"{codec.table}/{where}", "invalid_row",
                                            str(exc), False))
        return problems

    async def repair(self, progress: Callable[[str], None] | None = None) -> RepairReport:
        """Apply missing migrations, then list the rows ``verify()`` cannot decode as lost.

        Nothing is deleted: a damaged row stays in its table for a person to fix.
        """
        await self._ready()
        if progress is not None:
            progress(self.folder)
        report = RepairReport()
        try:
            await self.database.migrate()
        except StoreError as exc:
            if exc.metadata.get("newer_version"):
                report.refused.append(self.folder)
                return report
            raise
        for codec, _ in self.codecs:
            rows = await self._fetch(f"counting {codec.table}",
                                     f"SELECT count(*) FROM {codec.table}")
            report.checked_documents += int(rows[0][0])
        report.lost.extend(p.path for p in await self.verify())
        return report
