"""``verify`` and ``repair`` on injected damage; one-line errors for damaged or locked stores."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from .conftest import SRC, invoke, run_cli


def store_files(data: Path) -> list[Path]:
    """The store files under ``data`` (not lock files, not quarantined ones)."""
    return sorted(
        p
        for p in data.rglob("*.json*")
        if p.is_file() and "quarantine" not in p.parts and not p.name.startswith(".")
    )


def damage(path: Path) -> None:
    path.write_bytes(b"\x00garbage, not a tradestore file\xff" * 4)


def test_verify_names_each_damaged_file_and_exits_non_zero(demo_dir: Path) -> None:
    files = store_files(demo_dir)
    assert len(files) >= 2
    hit = [files[0], files[-1]]
    for path in hit:
        damage(path)
    result = invoke("verify", "--data-dir", demo_dir)
    assert result.exit_code == 1
    for path in hit:
        assert path.name in result.output
    assert "2 damaged file(s)" in result.stderr
    assert result.output.count("damaged:") == 2


def test_verify_passes_on_a_healthy_folder(demo_dir: Path) -> None:
    result = invoke("verify", "--data-dir", demo_dir)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_repair_makes_a_damaged_folder_verify_clean(demo_dir: Path) -> None:
    target = store_files(demo_dir)[0]
    damage(target)
    assert invoke("verify", "--data-dir", demo_dir).exit_code == 1
    repaired = invoke("repair", "--data-dir", demo_dir)
    assert repaired.exit_code == 0, repaired.output
    assert invoke("verify", "--data-dir", demo_dir).exit_code == 0
    assert list(demo_dir.rglob("quarantine/*"))  # the damaged file was kept aside


def test_verify_in_a_real_process_exits_non_zero_on_damage(demo_dir: Path) -> None:
    damage(store_files(demo_dir)[0])
    result = run_cli("verify", "--data-dir", demo_dir)
    assert result.returncode == 1
    assert "damaged" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_store_with_no_good_version_left_is_a_one_line_error(demo_dir: Path) -> None:
    for path in store_files(demo_dir):
        damage(path)
    result = run_cli("status", "--data-dir", demo_dir)
    assert result.returncode == 1, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert "damaged file" in lines[0]
    assert "Traceback" not in result.stderr


HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from tradestore import TaskStore

    async def main():
        async with TaskStore(sys.argv[1]):
            print("holding", flush=True)
            await asyncio.sleep(60)

    asyncio.run(main())
    """
)


def test_a_locked_store_is_a_one_line_error(demo_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(demo_dir)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        began = time.monotonic()
        result = invoke("run", "--data-dir", demo_dir, "--duration", "1")
        assert time.monotonic() - began < 10
        assert result.exit_code == 1
        assert "in use by another tradestore process" in result.stderr
        assert "Traceback" not in result.output
        # A read-only command still works beside the writer.
        assert invoke("status", "--data-dir", demo_dir).exit_code == 0
    finally:
        holder.kill()
        holder.communicate(timeout=10)


def test_repair_salvages_a_task_document_with_no_good_version(demo_dir: Path) -> None:
    doc = sorted((demo_dir / "tasks").glob("doc-*.json"))[0]
    damage(doc)
    backup = doc.with_name(doc.name + ".bak")
    if backup.exists():
        damage(backup)
    assert run_cli("status", "--data-dir", demo_dir).returncode == 1  # refused, not hidden
    repaired = invoke("repair", "--data-dir", demo_dir)
    assert repaired.exit_code == 0, repaired.output
    assert "records lost with" in repaired.output
    assert invoke("verify", "--data-dir", demo_dir).exit_code == 0
    assert invoke("status", "--data-dir", demo_dir).exit_code == 0
