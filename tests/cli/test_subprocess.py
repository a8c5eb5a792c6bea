"""The command run for real, as ``python -m tradestore.cli``, the way a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import run_cli


def test_run_then_status_in_real_processes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ran = run_cli("run", "--data-dir", data, "--duration", "1", "--symbols", "AAPL,JPM")
    assert ran.returncode == 0, ran.stderr
    assert "seeded 7 default recurring tasks" in ran.stdout
    assert "Run summary" in ran.stdout
    assert "Traceback" not in ran.stderr
    status = run_cli("status", "--data-dir", data)
    assert status.returncode == 0, status.stderr
    assert "portfolio-scan" in status.stdout
    assert "JPM" in status.stdout


def test_user_errors_exit_with_a_code_and_one_line(tmp_path: Path) -> None:
    missing = run_cli("status", "--data-dir", tmp_path / "missing")
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("error: no data folder at")
    assert len(missing.stderr.strip().splitlines()) == 1
    usage = run_cli("run")  # --data-dir is required
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


def test_export_and_import_in_real_processes(tmp_path: Path) -> None:
    data, copy, out = tmp_path / "data", tmp_path / "copy", tmp_path / "all.json"
    assert run_cli("run", "--data-dir", data, "--duration", "0.5", "-s", "MSFT").returncode == 0
    exported = run_cli("export", "--data-dir", data, "--out", out)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(out.read_text())["format"] == "tradestore-export"
    imported = run_cli("import", "--data-dir", copy, "--in", out)
    assert imported.returncode == 0, imported.stderr
    assert "MSFT" in run_cli("status", "--data-dir", copy).stdout
