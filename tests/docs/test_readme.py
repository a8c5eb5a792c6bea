"""The README's example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_block(block: str, tmp_path: Path, name: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / name
    script.write_text(block)
    return subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_readme_scheduler_example_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 2, "the README shows how to embed the scheduler"
    result = _run_block(blocks[1], tmp_path, "scheduler.py")
    assert result.returncode == 0, result.stderr
    assert "{'symbols': ['AAPL', 'MSFT']}" in result.stdout


def test_readme_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "the README shows a Python example"
    script = tmp_path / "example.py"
    script.write_text(blocks[0])
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "due: news" in result.stdout
    assert "win_rate=75.0" in result.stdout
    assert (tmp_path / "bot-data" / "tasks").is_dir()


def test_scheduler_embedding_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "scheduler.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    embed = next(b for b in blocks if "Scheduler(" in b and "asyncio.run" in b)
    script = tmp_path / "embed.py"
    script.write_text(embed)
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "rebalance" in result.stdout
    assert (tmp_path / "bot-data" / "tasks").is_dir()


def test_the_examples_run_the_bot_on_a_local_zone() -> None:
    """A bot's day is local: the first README example and the scheduler docs say so."""
    readme = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    docs = (ROOT / "docs" / "scheduler.md").read_text()
    embed = next(b for b in re.findall(r"```python\n(.*?)```", docs, re.S) if "Scheduler(" in b)
    assert '"Asia/Kolkata"' in readme[0]
    assert "tz=IST" in readme[0]
    assert 'open_stores("./bot-data", tz="Asia/Kolkata")' in readme[1]
    assert 'open_stores("./bot-data", tz="Asia/Kolkata")' in embed
    assert "--tz Asia/Kolkata" in docs
