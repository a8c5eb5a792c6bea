"""What a plain install promises: the library without extras, a launcher, a version."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import tradestore
from tests.cli.conftest import invoke

SRC = Path(__file__).resolve().parents[2] / "src"

# Importing a name mapped to None in sys.modules raises ModuleNotFoundError, exactly as
# when the distribution is not installed: the state of a plain `pip install tradestore`.
WITHOUT_CLI_EXTRA = (
    "import sys\nfor name in ('typer', 'click', 'rich'):\n    sys.modules[name] = None\n"
)


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(SRC)}, check=False,
    )


def test_version_comes_from_the_installed_metadata() -> None:
    assert tradestore.__version__ == metadata.version("tradestore")


def test_version_option_prints_the_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"tradestore {metadata.version('tradestore')}"


def test_python_dash_m_runs_the_command(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    version = subprocess.run(
        [sys.executable, "-m", "tradestore", "--version"], capture_output=True, text=True,
        env=env, timeout=60, check=False,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"tradestore {tradestore.__version__}"
    missing = subprocess.run(
        [sys.executable, "-m", "tradestore", "status", "--data-dir", str(tmp_path / "none")],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("error: no data folder at")


def test_console_script_is_the_launcher() -> None:
    (script,) = [ep for ep in metadata.entry_points(group="console_scripts")
                 if ep.name == "tradestore"]
    assert script.value == "tradestore.__main__:main"


def test_command_without_cli_extra_names_the_extra_in_one_line() -> None:
    result = _python(WITHOUT_CLI_EXTRA + "from tradestore.__main__ import main\nmain()",
                     "status")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "pip install 'tradestore[cli]'" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_library_works_without_cli_extra(tmp_path: Path) -> None:
    code = WITHOUT_CLI_EXTRA + (
        "import asyncio, sys\n"
        "from datetime import UTC, datetime\n"
        "import tradestore, tradestore.scheduler, tradestore.persistence, tradestore.models\n"
        "from tradestore import BackgroundTask, TaskPriority, TaskStore\n"
        "async def main():\n"
        "    async with TaskStore(sys.argv[1]) as store:\n"
        "        await store.save(BackgroundTask(task_id='t', task_type='health_check',\n"
        "            priority=TaskPriority.LOW, execute_at=datetime.now(UTC)))\n"
        "        print([t.task_id for t in await store.due_tasks()])\n"
        "asyncio.run(main())\n"
    )
    result = _python(code, str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['t']"
