"""The recipes in docs/recipes.md run as written."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from tradestore import BackgroundTask, TaskPriority, TaskStatus, TaskStore, TaskType

ROOT = Path(__file__).resolve().parents[2]
IST = ZoneInfo("Asia/Kolkata")


def _blocks(kind: str, text: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", text, re.S)


def _run(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """One shell line of the recipe, with ``python`` and ``tradestore`` of this checkout."""
    argv = shlex.split(line)
    if argv[0] == "python":
        argv[0] = sys.executable
    elif argv[0] == "tradestore":
        argv[:1] = [sys.executable, "-m", "tradestore.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=env, check=False)


def test_importing_an_old_one_file_task_list(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "recipes.md").read_text()
    (tmp_path / "tasks.json").write_text(_blocks("json", text)[0])
    (tmp_path / "convert_tasks.py").write_text(_blocks("python", text)[0])
    lines = [ln for ln in _blocks("sh", text)[0].splitlines() if ln.strip()]
    outputs = []
    for line in lines:
        done = _run(line, tmp_path)
        assert done.returncode == 0, (line, done.stderr)
        outputs.append(done.stdout)
    assert "converted 4 task(s)" in outputs[0]
    report = outputs[1]
    assert "imported 3 tasks" in report
    assert "skipped 1 invalid record(s):" in report
    assert "tasks[2] (portfolio_scan):" in report
    expected_report = _blocks("text", text)[0].splitlines()[-1].strip()
    assert expected_report in report  # the doc shows what the command prints

    async def read() -> dict[str, BackgroundTask]:
        async with TaskStore(tmp_path / "bot-data", read_only=True) as tasks:
            return {t.task_id: t for t in await tasks.list_tasks()}

    tasks = asyncio.run(read())
    assert sorted(tasks) == ["earnings_check", "my_rebalance", "news_monitoring"]
    news = tasks["news_monitoring"]
    earnings = tasks["earnings_check"]
    mine = tasks["my_rebalance"]
    assert news.task_type is TaskType.NEWS_MONITORING
    assert news.priority is TaskPriority.HIGH
    assert news.execute_at == dt.datetime(2025, 1, 2, 9, 15, tzinfo=IST)
    assert news.metadata == {"symbols": ["INFY", "TCS"]}
    assert earnings.status is TaskStatus.SUCCEEDED
    assert earnings.last_executed == dt.datetime(2025, 1, 1, 18, 0, 4, tzinfo=IST)
    assert mine.task_type == "rebalance"
    assert mine.status is TaskStatus.FAILED
