"""PostgreSQL for the tests: one throwaway server per session, a clean database per test.

``TRADESTORE_PG_DSN`` points the tests at an existing server instead (its user
needs CREATEDB: the tests work in databases named ``tradestore_test*`` that
they create and drop). Without PostgreSQL the tests that need it skip, saying
why; with ``TRADESTORE_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tradestore.postgres._local import LocalServer, PostgresNotFound

__all__ = ["PgServer", "pg_dsn", "pg_fresh_dsn", "pg_server", "pg_unavailable"]

_TEST_DB = "tradestore_test"


def pg_unavailable(reason: str) -> NoReturn:
    """Skip (or fail, when TRADESTORE_REQUIRE_POSTGRES=1) a test that needs PostgreSQL."""
    if os.environ.get("TRADESTORE_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (TRADESTORE_REQUIRE_POSTGRES=1): {reason}")
    pytest.skip(f"no PostgreSQL: {reason}")


def with_db(dsn: str, dbname: str) -> str:
    """``dsn`` naming database ``dbname`` instead."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))


@dataclass
class PgServer:
    """The server the tests use: ``admin_dsn`` may create databases."""

    admin_dsn: str
    local: LocalServer | None

    def create_db(self, name: str) -> str:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return with_db(self.admin_dsn, name)

    def drop_db(self, name: str) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server: TRADESTORE_PG_DSN's, or a throwaway one."""
    given = os.environ.get("TRADESTORE_PG_DSN")
    if given:
        try:
            psycopg.connect(given, connect_timeout=10).close()
        except psycopg.Error as exc:
            pg_unavailable(f"TRADESTORE_PG_DSN does not connect: {exc}")
        yield PgServer(given, None)
        return
    try:
        local = LocalServer(fsync=False)
    except PostgresNotFound as exc:
        pg_unavailable(str(exc))
    try:
        local.start()
    except RuntimeError as exc:
        local.close()
        pg_unavailable(f"the throwaway server did not start: {exc}")
    try:
        yield PgServer(local.dsn, local)
    finally:
        local.close()


@pytest.fixture(scope="session")
def _pg_test_db(pg_server: PgServer) -> Iterator[str]:
    dsn = pg_server.create_db(_TEST_DB)
    from tradestore.postgres import migrate_sync

    migrate_sync(dsn)
    yield dsn
    pg_server.drop_db(_TEST_DB)


@pytest.fixture
def pg_dsn(_pg_test_db: str) -> str:
    """The URL of a migrated database whose tradestore tables are empty."""
    with psycopg.connect(_pg_test_db, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'tradestore' "
            "AND tablename <> 'schema_version'").fetchall()]
        if tables:
            conn.execute(("TRUNCATE " + ", ".join(f"tradestore.{t}" for t in tables)).encode())
    return _pg_test_db


@pytest.fixture
def pg_fresh_dsn(pg_server: PgServer) -> Iterator[str]:
    """The URL of a new, empty database (no tradestore schema), dropped after the test."""
    name = f"{_TEST_DB}_{secrets.token_hex(4)}"
    yield pg_server.create_db(name)
    pg_server.drop_db(name)
