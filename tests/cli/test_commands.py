"""Each command's output and exit codes, through typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import invoke


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("run", "status", "verify", "repair", "export", "import"):
        assert command in result.output


def test_run_seeds_the_default_tasks_once_and_summarises(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = invoke(
        "run", "--data-dir", data, "--duration", "0.3", "--symbols", "aapl", "-s", "MSFT"
    )
    assert first.exit_code == 0, first.output
    assert "seeded 7 default recurring tasks" in first.output
    assert "watchlist: AAPL, MSFT" in first.output
    assert "succeeded" in first.output
    assert "Run summary" in first.output
    second = invoke("run", "--data-dir", data, "--duration", "0.2")
    assert second.exit_code == 0, second.output
    assert "seeded" not in second.output
    assert "watchlist: AAPL, MSFT" in second.output  # the symbols already known


def test_status_shows_tasks_stocks_strategies_and_fundamentals(demo_dir: Path) -> None:
    result = invoke("status", "--data-dir", demo_dir)
    assert result.exit_code == 0, result.output
    out = result.output
    for title in ("Tasks", "Stocks", "Strategy performance", "Fundamentals freshness"):
        assert title in out
    for task_id in ("portfolio-scan", "news-monitoring", "strategy-log", "health-check"):
        assert task_id in out
    for symbol in ("AAPL", "MSFT", "^NSEI"):
        assert symbol in out
    assert "momentum" in out
    assert "mean_reversion" in out
    assert "fresh" in out


def test_status_of_a_missing_folder_is_a_one_line_usage_error(tmp_path: Path) -> None:
    result = invoke("status", "--data-dir", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "no data folder at" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "nowhere").exists()


def test_a_file_as_data_folder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("not a folder")
    for command in ("run", "status", "verify", "export"):
        args: list[str | Path] = ["--out", tmp_path / "x.json"] if command == "export" else []
        result = invoke(command, "--data-dir", path, *args)
        assert result.exit_code == 2, command
        assert "is not a folder" in result.stderr


def test_export_import_round_trip(demo_dir: Path, tmp_path: Path) -> None:
    exported = tmp_path / "export.json"
    result = invoke("export", "--data-dir", demo_dir, "--out", exported)
    assert result.exit_code == 0, result.output
    document = json.loads(exported.read_text())
    assert document["format"] == "tradestore-export"
    assert document["version"] == 1
    assert {t["task_id"] for t in document["tasks"]} >= {"portfolio-scan", "strategy-log"}
    assert document["stock_states"]
    assert document["strategy_logs"]
    assert document["fundamentals"]
    assert document["news"]

    copy = tmp_path / "copy"
    result = invoke("import", "--data-dir", copy, "--in", exported)
    assert result.exit_code == 0, result.output
    again = tmp_path / "again.json"
    assert invoke("export", "--data-dir", copy, "--out", again).exit_code == 0
    second = json.loads(again.read_text())
    for key in ("exported_at",):
        document.pop(key)
        second.pop(key)
    assert second == document
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".copy.")]  # no leftovers


def test_import_refuses_a_non_empty_folder_without_force(demo_dir: Path, tmp_path: Path) -> None:
    exported = tmp_path / "export.json"
    assert invoke("export", "--data-dir", demo_dir, "--out", exported).exit_code == 0
    other = tmp_path / "other"
    assert invoke("run", "--data-dir", other, "--duration", "0.1", "-s", "XOM").exit_code == 0
    refused = invoke("import", "--data-dir", other, "--in", exported)
    assert refused.exit_code == 1
    assert "--force" in refused.stderr
    forced = invoke("import", "--data-dir", other, "--in", exported, "--force")
    assert forced.exit_code == 0, forced.output
    status = invoke("status", "--data-dir", other)
    assert "AAPL" in status.output
    assert "XOM" not in status.output  # replaced, not merged


def test_import_validates_the_document_before_touching_the_folder(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    target = tmp_path / "target"
    cases = {
        "not json at all": "not a tradestore export",
        json.dumps({"format": "something-else", "version": 1}): "not a tradestore export",
        json.dumps({"format": "tradestore-export", "version": 99}): "unsupported export version",
        json.dumps(
            {
                "format": "tradestore-export",
                "version": 1,
                "exported_at": "2025-01-01T00:00:00+00:00",
                "tasks": [{"task_id": "x", "task_type": "job", "priority": "urgent!"}],
            }
        ): "invalid export document",
    }
    for text, message in cases.items():
        bad.write_text(text)
        result = invoke("import", "--data-dir", target, "--in", bad)
        assert result.exit_code == 1, text
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.output
        assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.json"]
