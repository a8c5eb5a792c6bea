"""The throwaway server: starts from the machine's binaries, never as root, leaves nothing."""

from __future__ import annotations

import os

import psycopg
import pytest

from tests.pg_fixtures import PgServer, pg_unavailable
from tradestore.postgres._local import LocalServer, PostgresNotFound, find_bindir


def test_session_server_accepts_connections(pg_server: PgServer, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    assert row is not None
    assert row[0] >= 120000


def test_throwaway_server_runs_unprivileged_and_is_removed() -> None:
    try:
        find_bindir()
    except PostgresNotFound as exc:
        pg_unavailable(str(exc))
    server = LocalServer(fsync=False)
    with server:
        root = server.root
        assert root is not None
        assert root.is_dir()
        with psycopg.connect(server.dsn) as conn:
            pid_row = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert pid_row is not None
            # While connected: the backend process exits with its connection.
            owner = os.stat(f"/proc/{pid_row[0]}").st_uid
        assert owner != 0, "the server must not run as root"
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(server.dsn_for("postgres", password="wrong")).close()
        server.stop()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(server.dsn, connect_timeout=2).close()
        server.start()  # the same data, the same port
        psycopg.connect(server.dsn).close()
    assert not root.exists()
