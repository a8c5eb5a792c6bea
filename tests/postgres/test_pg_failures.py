"""PostgreSQL backend under failure: bad URLs, refused logins, lost connections, newer schemas."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from tests.pg_fixtures import PgServer, with_db
from tradestore import (
    FundamentalStore,
    StockStateStore,
    StoreCorruptedError,
    StoreIOError,
    StoreLockedError,
    StrategyLog,
    StrategyLogStore,
    TaskStore,
    ValidationError,
)
from tradestore.postgres import Database, latest_version, migrate
from tradestore.scheduler import open_stores

from ._commits import kill_the_committer, slow_commits


async def test_a_malformed_url_is_a_validation_error() -> None:
    for bad in ("postgresql://u@host:notaport/db", "postgresql://u@h/db?sslmode=maybe&x"):
        with pytest.raises(ValidationError):
            TaskStore(bad)
    with pytest.raises(ValidationError):
        Database("mysql://u@h/db")


async def test_a_refused_connection_is_a_recoverable_store_io_error() -> None:
    store = TaskStore("postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(StoreIOError) as caught:
        await store.initialize()
    assert caught.value.recoverable is True
    assert isinstance(caught.value.__cause__, psycopg.Error)
    await store.close()


async def test_a_wrong_password_or_database_is_not_recoverable(pg_server: PgServer) -> None:
    if pg_server.local is None:
        pytest.skip("needs the throwaway server's known password (TRADESTORE_PG_DSN is set)")
    for dsn in (pg_server.local.dsn_for("postgres", password="wrong"),
                with_db(pg_server.admin_dsn, "no_such_database")):
        async with _closing(TaskStore(dsn)) as store:
            with pytest.raises(StoreIOError) as caught:
                await store.get("x")
        assert caught.value.recoverable is False
        assert isinstance(caught.value.__cause__, psycopg.OperationalError)
        assert "wrong" not in caught.value.message  # the password is never echoed


async def test_bad_input_is_refused_before_anything_is_sent() -> None:
    # The server is unreachable: a ValidationError proves no statement was attempted.
    store = StockStateStore("postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(ValidationError):
        await store.record_fetch("not a symbol!", ok=True)
    with pytest.raises(ValidationError):
        await store.update_analysis_check("AAPL", datetime(2025, 1, 1))
    logs = StrategyLogStore("postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(ValidationError):
        await logs.add_log("s", StrategyLog(date=datetime.now(UTC).date(),
                                            pnl_realized=float("inf")))
    await store.close()
    await logs.close()


@pytest.mark.parametrize("store_class", [TaskStore, StockStateStore, StrategyLogStore,
                                         FundamentalStore])
def test_the_file_journal_modes_are_refused_on_postgresql(store_class: type[Any]) -> None:
    url = "postgresql://postgres@127.0.0.1:1/postgres"
    assert store_class(url, journal="files").journal == "files"  # the default, accepted
    with pytest.raises(ValidationError, match="file backend only") as caught:
        store_class(url, journal="append")
    assert caught.value.field == "journal"
    with pytest.raises(ValidationError, match="one of files, append"):
        store_class(url, journal="wal")


async def test_a_newer_schema_is_refused_and_left_untouched(pg_fresh_dsn: str) -> None:
    await migrate(pg_fresh_dsn)
    with psycopg.connect(pg_fresh_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO tradestore.schema_version (version, name) VALUES (999, 'x')")
    for read_only in (False, True):
        store = TaskStore(pg_fresh_dsn, read_only=read_only)
        with pytest.raises(StoreCorruptedError, match="newer"):
            await store.initialize()
        await store.close()
    with psycopg.connect(pg_fresh_dsn) as conn:
        versions = [r[0] for r in conn.execute(
            "SELECT version FROM tradestore.schema_version ORDER BY 1").fetchall()]
    assert versions == [*range(1, latest_version() + 1), 999]


async def test_migrations_from_many_connections_at_once_apply_once(pg_fresh_dsn: str) -> None:
    dbs = [Database(pg_fresh_dsn) for _ in range(6)]
    await asyncio.gather(*(db.open() for db in dbs))
    for db in dbs:
        await db.close()
    assert await migrate(pg_fresh_dsn) == []
    with psycopg.connect(pg_fresh_dsn) as conn:
        rows = conn.execute("SELECT version FROM tradestore.schema_version").fetchall()
    assert sorted(r[0] for r in rows) == list(range(1, latest_version() + 1))


async def test_a_read_only_store_needs_the_schema(pg_fresh_dsn: str) -> None:
    store = TaskStore(pg_fresh_dsn, read_only=True)
    with pytest.raises(Exception, match="migrate") as caught:
        await store.initialize()
    assert not isinstance(caught.value, psycopg.Error)
    await store.close()


async def test_exclusive_keeps_store_locked_error(pg_dsn: str) -> None:
    first = TaskStore(pg_dsn, exclusive=True)
    await first.initialize()
    try:
        second = TaskStore(pg_dsn, exclusive=True)
        with pytest.raises(StoreLockedError):
            await second.initialize()
        async with TaskStore(pg_dsn) as shared:  # non-exclusive opens are not refused
            assert await shared.list_tasks() == []
    finally:
        await first.close()
    async with TaskStore(pg_dsn, exclusive=True) as third:
        assert await third.list_tasks() == []


async def test_a_commit_lost_in_flight_is_flagged_in_doubt(pg_fresh_dsn: str) -> None:
    await migrate(pg_fresh_dsn)
    slow_commits(pg_fresh_dsn, "stock_state")

    async with StockStateStore(pg_fresh_dsn) as store:
        killer = asyncio.create_task(kill_the_committer(pg_fresh_dsn))
        with pytest.raises(StoreIOError) as caught:
            await store.record_fetch("AAPL", ok=True)
        await killer
        assert caught.value.metadata.get("in_doubt") is True
        assert isinstance(caught.value.__cause__, psycopg.Error)
        # The pool replaces the dead connection: the next call works.
        with psycopg.connect(pg_fresh_dsn, autocommit=True) as conn:
            conn.execute("DROP TRIGGER slow_commit ON tradestore.stock_state")
        await store.record_fetch("MSFT", ok=True)
        assert (await store.get_state("MSFT")).fetch_count == 1


async def test_check_constraints_refuse_nan_and_infinity_from_any_writer(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        for value in ("NaN", "Infinity", "-Infinity"):
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(
                    "INSERT INTO tradestore.strategy_logs (strategy_type, date, trades_executed,"
                    " wins, losses, pnl_realized, created_at, created_at_off, updated_at,"
                    " updated_at_off) VALUES ('s', '2025-01-01', 0, 0, 0, %s::float8, now(), 0,"
                    " now(), 0)", (value,))
            conn.rollback()


async def test_verify_decodes_every_row(pg_dsn: str) -> None:
    async with StockStateStore(pg_dsn) as store:
        await store.record_fetch("AAPL", ok=True)
        assert await store.verify() == []
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute("INSERT INTO tradestore.stock_state (symbol, updated_at, updated_at_off)"
                         " VALUES ('bad symbol!', now(), 0)")
        problems = await store.verify()
        assert [p.kind for p in problems] == ["invalid_row"]
        assert "bad symbol!" in problems[0].path
        report = await store.repair()
        assert report.checked_documents == 2
        assert report.lost == [problems[0].path]


async def test_read_only_reads_are_live(pg_dsn: str) -> None:
    async with TaskStore(pg_dsn, read_only=True) as reader, StockStateStore(pg_dsn) as writer:
        states = StockStateStore(pg_dsn, read_only=True)
        async with states:
            assert await states.all_states() == {}
            await writer.record_fetch("AAPL", ok=True)
            assert list(await states.all_states()) == ["AAPL"]  # no reload() needed
        assert await reader.list_tasks() == []


class _closing:  # reads like contextlib.aclosing, which calls aclose()
    """``async with`` that closes a store that may never have opened."""

    def __init__(self, store: TaskStore) -> None:
        self.store = store

    async def __aenter__(self) -> TaskStore:
        return self.store

    async def __aexit__(self, *exc: object) -> None:
        await self.store.close()


async def test_one_database_shared_by_the_four_stores(pg_dsn: str) -> None:
    async with Database(pg_dsn, prepare_threshold=None, max_size=2) as db:  # PgBouncer-safe
        async with open_stores(db) as stores:
            assert stores.tasks.database is db  # type: ignore[attr-defined]  # PG backend
            await stores.stocks.record_fetch("AAPL", ok=True)
            await asyncio.gather(*(stores.stocks.record_fetch("AAPL", ok=True)
                                   for _ in range(20)))
            assert (await stores.stocks.get_state("AAPL")).fetch_count == 21
        assert db.is_open  # the stores leave a Database they were given open
        async with StockStateStore(db, read_only=True) as again:
            assert (await again.get_state("AAPL")).fetch_count == 21
    assert not db.is_open
