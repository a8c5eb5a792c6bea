"""Smoke test of the benchmark suite's machinery at tiny sizes (no figure is asserted)."""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path

import pytest
from benchmarks._adapters import (
    PEER_SYSTEMS,
    POSTGRES_SYSTEMS,
    TRADESTORE_SYSTEMS,
    tradestore_missing_reason,
)
from benchmarks._cli import build_config, run
from benchmarks._floors import FLOORS
from benchmarks._report import _Table, _where_peers_win, evaluate_targets
from benchmarks._runner import Summary
from benchmarks._stall import StallMonitor
from benchmarks._workloads import FULL, WORKLOADS, Sizes, floors_for, runs_on

from tests.pg_fixtures import PgServer

TINY = Sizes(
    w1_symbols=20,
    w1_tasks=3,
    w1_updates_per_task=4,
    w2_symbols=20,
    w2_updates=5,
    w3_symbols=(10, 30),
    w3_updates=3,
    w4_symbols=50,
    w5_symbols=20,
    w5_reads=50,
    w6_logs=35,
    w6_last=30,
    w6_queries=2,
)

_MISSING = tradestore_missing_reason()


def _run_tiny(tmp_path: Path, systems: tuple[str, ...]) -> tuple[str, dict[str, object]]:
    out = tmp_path / "docs" / "benchmarks.md"
    argv = ["--repeats", "1", "--systems", ",".join(systems)]
    argv += ["--out", str(out), "--work-dir", str(tmp_path / "work")]
    written = run(build_config(argv, sizes=TINY), verbose=False)
    assert written == [out, out.with_suffix(".json"), out.with_suffix(".png")]
    assert all(path.stat().st_size > 0 for path in written)
    assert not (tmp_path / "work").exists(), "scratch data must be removed"
    return out.read_text(encoding="utf-8"), json.loads(out.with_suffix(".json").read_text())


def _check(markdown: str, raw: dict[str, object], systems: tuple[str, ...]) -> None:
    summary = raw["summary"]
    assert isinstance(summary, list)
    seen = {(row["workload"], row["system"]) for row in summary}
    for workload in WORKLOADS:
        for system in (*systems, *floors_for(workload)):
            if runs_on(workload, system):
                assert (workload, system) in seen, (workload, system)
    cases = raw["cases"]
    assert isinstance(cases, list)
    failures = [(c["workload"], c["system"], c["failed"]) for c in cases if c["failed"]]
    assert not failures
    # Only the naive peers may fail operations (their fixed temp path races under W1).
    errors = [(c["workload"], c["system"], c["first_error"]) for c in cases if c["errors"]]
    assert all(system.startswith("naive") for _, system, _ in errors), errors
    for system in (*systems, *FLOORS):
        assert f"| {system}" in markdown or f"| **{system}**" in markdown, system
    for heading in ("## Targets", "## Method", "## Machine", "python -m benchmarks"):
        assert heading in markdown


def test_peers_and_floors_produce_report_and_json(tmp_path: Path) -> None:
    markdown, raw = _run_tiny(tmp_path, PEER_SYSTEMS)
    _check(markdown, raw, PEER_SYSTEMS)


@pytest.mark.skipif(_MISSING is not None, reason=f"tradestore systems unavailable: {_MISSING}")
def test_tradestore_systems_produce_report_json_and_targets(tmp_path: Path) -> None:
    systems = (*TRADESTORE_SYSTEMS, "sqlite_full", "sqlite_normal")
    markdown, raw = _run_tiny(tmp_path, systems)
    _check(markdown, raw, systems)
    targets = raw["targets"]
    assert isinstance(targets, list)
    assert targets
    assert all(t["passed"] is not None for t in targets), targets


def test_postgres_systems_run_every_workload_beside_the_others(
    tmp_path: Path, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADESTORE_PG_DSN", pg_server.admin_dsn)
    systems = (*POSTGRES_SYSTEMS, "tradestore_durable", "sqlite_full")
    markdown, raw = _run_tiny(tmp_path, systems)
    _check(markdown, raw, systems)
    assert "## W1P concurrent churn from 4 processes" in markdown
    assert "## PostgreSQL backend: where each wins" in markdown
    cases = raw["cases"]
    assert isinstance(cases, list)
    lost = [c for c in cases if c["workload"] in ("W1", "W1P") and c["metrics"].get("lost")]
    assert not lost, lost


def test_unknown_workload_is_refused() -> None:
    with pytest.raises(SystemExit):
        build_config(["--only", "W9"])


def test_render_rebuilds_the_report_from_its_json(tmp_path: Path) -> None:
    from benchmarks._cli import main

    out = tmp_path / "bench" / "benchmarks.md"
    assert main(["--quick", "--only", "W2", "--systems", "sqlite_full", "--repeats", "1",
                 "--budget", "1", "--out", str(out), "--work-dir", str(tmp_path / "w")]) == 0
    out.unlink()
    (tmp_path / "bench" / "benchmarks.png").unlink()
    assert main(["--render", str(out.with_suffix(".json"))]) == 0
    text = out.read_text()
    assert "## W2 sequential writer" in text
    assert "| sqlite_full |" in text
    assert (tmp_path / "bench" / "benchmarks.png").stat().st_size > 0


def test_dir_is_the_folder_the_stores_are_written_in(tmp_path: Path) -> None:
    config = build_config(["--dir", str(tmp_path / "fs"), "--quick"])
    assert config.work_dir == tmp_path / "fs"


def test_the_file_system_tables_go_into_the_main_report(tmp_path: Path) -> None:
    from benchmarks.filesystems import BEGIN, END, _embed, _table

    data = {"summary": [
        {"workload": "W2", "system": "tradestore_durable", "metrics": {"mean_ms": 1.5}},
        {"workload": "W2", "system": "sqlite_full", "metrics": {"mean_ms": 0.5}},
        {"workload": "W2", "system": "floor_rename", "metrics": {"mean_ms": 1.0}},
    ]}
    table = _table("xfs", data)
    row = "| W2 sequential writer: ms per awaited update | 1.5 (3.00x) | 0.5 | 1 (2.00x) |"
    assert row in table
    report = tmp_path / "benchmarks.md"
    report.write_text("# Report\n")
    _embed(report, table)
    _embed(report, table)  # a second run replaces the section, never repeats it
    text = report.read_text()
    assert text.startswith("# Report\n")
    assert text.count(BEGIN) == text.count(END) == 1
    assert "### xfs" in text


def test_the_file_system_report_points_to_a_note_only_when_a_table_has_one() -> None:
    from benchmarks.filesystems import _header, _table

    data = {"summary": [
        {"workload": "W2", "system": "tradestore_durable", "metrics": {"mean_ms": 1.5}},
        {"workload": "W2", "system": "sqlite_full", "metrics": {"mean_ms": 0.5}},
    ]}
    with_xfs = "\n".join(_header(["--fs", "disk,xfs"], ["disk", "xfs"]))
    assert "(see the note under xfs)" in with_xfs
    assert "Spares are off by default here" in "\n".join(_table("xfs", data))
    without = "\n".join(_header(["--fs", "disk,ext4"], ["disk", "ext4"]))
    assert "--fs disk,ext4" in without
    assert "see the note" not in without
    assert "Spares are off by default here" not in "\n".join(_table("ext4", data))


def test_the_stall_monitor_records_the_garbage_collector_pass_it_waited_for() -> None:
    async def window() -> StallMonitor:
        junk = [[i] for i in range(100_000)]  # enough tracked objects for a visible pass
        async with StallMonitor(freeze=False) as monitor:
            gc.collect()  # runs on the loop, as a pass set off by an allocation does
            await asyncio.sleep(0.002)
        del junk
        return monitor

    monitor = asyncio.run(window())
    assert monitor.max_gc_s > 0.0
    assert monitor.max_stall_s >= 0.9 * monitor.max_gc_s  # the ticker waited for it
    assert monitor._on_gc not in gc.callbacks


def test_the_stall_monitor_freezes_what_was_set_up_before_its_window_by_default() -> None:
    # As a bot that calls gc.freeze() after start-up: the window's collector passes
    # skip what the case set up, and the heap is unfrozen again afterwards.
    async def window(freeze: bool) -> int:
        setup = [[i] for i in range(10_000)]
        async with StallMonitor(freeze=freeze):
            frozen = gc.get_freeze_count()
        assert setup
        return frozen

    assert asyncio.run(window(True)) >= 10_000
    assert gc.get_freeze_count() == 0
    assert asyncio.run(window(False)) == 0


def test_gc_unfrozen_is_recorded_in_the_config_and_the_report(tmp_path: Path) -> None:
    from benchmarks._cli import main

    assert build_config([]).gc_freeze
    assert not build_config(["--gc-unfrozen"]).gc_freeze
    out = tmp_path / "bench" / "benchmarks.md"
    assert main(["--quick", "--only", "W2", "--systems", "sqlite_full", "--repeats", "1",
                 "--budget", "1", "--gc-unfrozen", "--out", str(out),
                 "--work-dir", str(tmp_path / "w")]) == 0
    assert "heap not frozen at each timed window's start" in out.read_text()
    assert json.loads(out.with_suffix(".json").read_text())["gc_freeze"] is False


def _row(workload: str, system: str, metric: str, value: float) -> Summary:
    return Summary(workload, "", system, {metric: value}, 1.0, 0, None, 1, 1, 1, [], [])


_APPEND_BEHIND = [
    _row("W2", "tradestore_append", "mean_ms", 0.45),
    _row("W2", "sqlite_full", "mean_ms", 0.30),
    _row("W2", "floor_append", "mean_ms", 0.2),
    _row("W6", "tradestore_append", "appends_per_s", 2000.0),
    _row("W6", "sqlite_full", "appends_per_s", 4000.0),
    _row("W6", "floor_append", "appends_per_s", 5000.0),
]


@pytest.mark.parametrize(("awaited", "says"), [
    (0.25, "Beyond that awaited floor tradestore_append spends 0.2 ms per update in Python"),
    (0.33, "That awaited floor bounds this target"),
])
def test_the_report_says_what_bounds_the_append_mode_where_sqlite_wins(
    awaited: float, says: str,
) -> None:
    rows = [*_APPEND_BEHIND, _row("W2", "floor_append_async", "mean_ms", awaited)]
    text = "\n".join(_where_peers_win(_Table(rows)))
    assert 'journal="append"' in text
    assert f"The append floor takes 0.2 ms here, and {awaited:g} ms awaited" in text
    assert "takes 0.3 ms in sqlite_full, 0.45 ms in tradestore_append" in text
    assert says in text
    assert "None in this run" not in text
    faster = [_row("W2", "tradestore_append", "mean_ms", 0.2), *rows[1:3],
              _row("W6", "tradestore_append", "appends_per_s", 5000.0), *rows[4:]]
    assert 'journal="append"' not in "\n".join(_where_peers_win(_Table(faster)))


def test_each_sequential_writer_target_names_the_awaited_floor_beside_it() -> None:
    rows = [*_APPEND_BEHIND,
            _row("W2", "floor_append_async", "mean_ms", 0.33),
            _row("W6", "floor_append_async", "appends_per_s", 3600.0),
            _row("W2", "tradestore_durable", "mean_ms", 0.8),
            _row("W2", "floor_rename", "mean_ms", 0.5),
            _row("W2", "floor_rename_async", "mean_ms", 0.6)]
    systems = ["tradestore_durable", "tradestore_append", "sqlite_full"]
    got = {(x.workload, x.system): x for x in evaluate_targets(rows, FULL, systems)}
    w2 = got["W2", "tradestore_durable"]
    assert w2.measured == "1.60x (the floor: one replace awaited through aiofiles, 1.20x)"
    assert w2.passed is False
    assert got["W2", "tradestore_append"].measured == (
        "1.50x (the floor: one append awaited through aiofiles, 1.10x)")
    assert got["W6", "tradestore_append"].measured == (
        "0.5x (the floor: one append awaited through aiofiles, 0.9x)")
