"""The command line on PostgreSQL: --dsn beside --data-dir, migrate, and export/import both ways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import invoke


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A data folder after a short ``tradestore run``."""
    data = tmp_path / "data"
    result = invoke("run", "--data-dir", data, "--once", "--symbols", "AAPL,MSFT,^NSEI")
    assert result.exit_code == 0, result.output
    return data


def _exported(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    document.pop("exported_at")
    return document


def test_export_from_a_folder_import_into_postgres_and_back_round_trips_exactly(
    demo_dir: Path, tmp_path: Path, pg_dsn: str
) -> None:
    from_folder = tmp_path / "folder.json"
    assert invoke("export", "--data-dir", demo_dir, "--out", from_folder).exit_code == 0
    result = invoke("import", "--dsn", pg_dsn, "--in", from_folder)
    assert result.exit_code == 0, result.output
    from_pg = tmp_path / "pg.json"
    result = invoke("export", "--dsn", pg_dsn, "--out", from_pg)
    assert result.exit_code == 0, result.output
    original = _exported(from_folder)
    assert original["tasks"]
    assert original["stock_states"]
    assert original["strategy_logs"]
    assert original["news"]
    assert _exported(from_pg) == original
    back = tmp_path / "back"
    assert invoke("import", "--data-dir", back, "--in", from_pg).exit_code == 0
    again = tmp_path / "again.json"
    assert invoke("export", "--data-dir", back, "--out", again).exit_code == 0
    assert _exported(again) == original

    refused = invoke("import", "--dsn", pg_dsn, "--in", from_folder)
    assert refused.exit_code == 1
    assert "--force" in refused.output
    assert "***" in refused.output  # the password is never printed
    forced = invoke("import", "--dsn", pg_dsn, "--in", from_folder, "--force")
    assert forced.exit_code == 0, forced.output


def test_run_status_verify_repair_migrate_on_postgres(pg_dsn: str) -> None:
    result = invoke("migrate", "--dsn", pg_dsn)
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    result = invoke("run", "--dsn", pg_dsn, "--once", "--symbols", "AAPL,MSFT")
    assert result.exit_code == 0, result.output
    assert "seeded" in result.output
    result = invoke("status", "--dsn", pg_dsn)
    assert result.exit_code == 0, result.output
    assert "AAPL" in result.output
    result = invoke("verify", "--dsn", pg_dsn)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    result = invoke("repair", "--dsn", pg_dsn)
    assert result.exit_code == 0, result.output


def test_location_options_are_checked(tmp_path: Path) -> None:
    assert invoke("status").exit_code == 2
    assert invoke("status", "--dsn", "mysql://x").exit_code == 2
    both = invoke("status", "--dsn", "postgresql://x@h/db", "--data-dir", tmp_path)
    assert both.exit_code == 2
    down = invoke("status", "--dsn", "postgresql://postgres@127.0.0.1:1/db")
    assert down.exit_code == 1
    assert "Traceback" not in down.output
