"""``tradestore run --journal``: the append journal mode from the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import SRC, invoke, run_cli


def _logs(data: Path) -> list[Path]:
    return sorted(data.rglob("journal-*.log"))


def test_a_killed_append_run_keeps_its_commits_and_a_files_run_folds_them(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    child = subprocess.Popen(
        [sys.executable, "-m", "tradestore.cli", "run", "--data-dir", str(data),
         "--journal", "append", "--duration", "60", "--symbols", "AAPL,JPM"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not _logs(data) and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert _logs(data), "no append log was written"
        time.sleep(0.2)  # more task runs commit into the log
    finally:
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=30)
    assert "journal: append" in out, out + err

    shown = run_cli("status", "--data-dir", data)  # opens (read-only) from the logs
    assert shown.returncode == 0, shown.stderr
    assert "portfolio-scan" in shown.stdout

    ran = run_cli("run", "--data-dir", data, "--once", "--symbols", "AAPL,JPM")
    assert ran.returncode == 0, ran.stderr
    assert "seeded" not in ran.stdout  # the seeded tasks were found in the logs
    assert not _logs(data), "closing in files mode leaves no append log behind"


def test_an_unknown_journal_mode_is_a_one_line_usage_error(tmp_path: Path) -> None:
    result = invoke("run", "--data-dir", tmp_path / "data", "--journal", "wal")
    assert result.exit_code == 2, result.output
    assert "--journal: expected one of files, append, got 'wal'" in result.stderr
    assert not (tmp_path / "data").exists()


def test_append_is_refused_for_a_database() -> None:
    result = invoke("run", "--dsn", "postgresql://nobody@127.0.0.1:1/none", "--journal",
                    "append")
    assert result.exit_code == 2, result.output
    assert "--journal append is for a data folder" in result.stderr
