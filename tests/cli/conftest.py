"""Helpers for the command-line tests: the in-process runner and a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tradestore.cli import app

SRC = Path(__file__).resolve().parents[2] / "src"


def invoke(*args: str | Path) -> Result:
    """Run ``tradestore ARGS`` in this process; never let an exception escape silently."""
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def run_cli(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tradestore.cli ARGS`` in a child process."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "tradestore.cli", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A data folder after a short ``tradestore run``."""
    data = tmp_path / "data"
    result = invoke("run", "--data-dir", data, "--once", "--symbols", "AAPL,MSFT,^NSEI")
    assert result.exit_code == 0, result.output
    return data
