"""The README's PostgreSQL example runs as written against a real server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_postgres_example_runs(tmp_path: Path, pg_dsn: str) -> None:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Running on PostgreSQL"):]
    block = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    script = tmp_path / "pg_example.py"
    script.write_text(block)
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin",
             "TRADESTORE_PG_DSN": pg_dsn},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True 1"
