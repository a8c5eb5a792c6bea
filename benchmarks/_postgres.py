"""The ``postgres_durable`` and ``postgres_fast`` systems: tradestore's PostgreSQL backend.

The same public API as the ``tradestore_*`` systems, on a real server: the one
named by ``TRADESTORE_PG_DSN``, else a throwaway local one started once per
run from the machine's binaries with ``fsync=on`` (durable commits really
reach the disk, as the file backend's do). Each case's folder path names its
own database (``bench_<hash of the path>``), so a fresh process (W4, W1P)
finds the store a parent prepared. Over loopback TCP: the figures include a
network round trip per statement, as any client-server database pays.
"""

from __future__ import annotations

import atexit
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from benchmarks._tradestore import TradestoreDurableAdapter
from tradestore import StockSchedulerState, StockStateStore, StrategyLogStore

__all__ = ["PostgresDurableAdapter", "PostgresFastAdapter", "postgres_missing_reason",
           "server_dsn"]

_ENV = "TRADESTORE_PG_DSN"
_created: set[str] = set()


def postgres_missing_reason() -> str | None:
    """Why the PostgreSQL systems cannot run here, or None when they can."""
    try:
        import psycopg  # noqa: F401  # only checks that the extra is installed
    except ImportError:
        return "psycopg is not installed (pip install 'tradestore[postgres]')"
    if os.environ.get(_ENV):
        return None
    from tradestore.postgres._local import PostgresNotFound, find_bindir

    try:
        find_bindir()
    except PostgresNotFound as exc:
        return str(exc)
    return None


def server_dsn() -> str:
    """The server's URL; starts the throwaway one (and exports its URL) on first use."""
    dsn = os.environ.get(_ENV)
    if dsn:
        return dsn
    from tradestore.postgres._local import LocalServer

    server = LocalServer(fsync=True).start()
    atexit.register(server.close)
    os.environ[_ENV] = server.dsn  # children (W4, W1P) use the same server
    return server.dsn


def _db_name(path: Path) -> str:
    return "bench_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]


def database_for(path: Path, *, create: bool) -> str:
    """The URL of the database standing for ``path``; a fresh one when ``create``."""
    import psycopg

    dsn = server_dsn()
    name = _db_name(path)
    if create:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        _created.add(name)
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def _drop_created() -> None:
    if not _created or not os.environ.get(_ENV):
        return
    import psycopg

    try:
        with psycopg.connect(os.environ[_ENV], autocommit=True) as conn:
            for name in _created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
    except psycopg.Error:
        pass  # the throwaway server may already be gone: nothing is left then


atexit.register(_drop_created)


class PostgresDurableAdapter(TradestoreDurableAdapter):
    """StockStateStore and StrategyLogStore on PostgreSQL, ``durable=True``."""

    name = "postgres_durable"
    durable = True
    mode: ClassVar[bool] = True

    async def create(self, path: Path, symbols: Sequence[str]) -> None:
        store = StockStateStore(database_for(path, create=True), durable=True)
        await store.initialize()
        try:
            await store.save_states(StockSchedulerState(symbol=s) for s in symbols)
        finally:
            await store.close()

    async def open(self, path: Path) -> None:
        store = StockStateStore(database_for(path, create=False), durable=self.mode)
        await store.initialize()
        self._states = store

    async def open_logs(self, path: Path) -> None:
        store = StrategyLogStore(database_for(path, create=True), durable=self.mode)
        await store.initialize()
        self._logs = store


class PostgresFastAdapter(PostgresDurableAdapter):
    """The same with ``durable=False``: ``synchronous_commit = off`` per transaction."""

    name = "postgres_fast"
    durable = False
    mode = False
