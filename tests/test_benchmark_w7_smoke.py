"""Smoke test of benchmark W7's machinery at a tiny size (no speed is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks import w7


def test_w7_runs_both_systems_and_counts_every_start(
    pg_fresh_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pgqueuer", reason="pgqueuer is in the bench extra")
    monkeypatch.setenv("TRADESTORE_PG_DSN", pg_fresh_dsn)
    out = tmp_path / "w7.md"
    assert w7.main(["--tasks", "60", "--trickle", "5", "--rate", "20", "--repeats", "1",
                    "--processes", "2", "--out", str(out)]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    cases = {case["system"]: case for case in report["cases"]}
    assert set(cases) == {"tradestore", "pgqueuer"}
    for case in cases.values():
        assert (case["duplicates"], case["lost"], case["notes"]) == (0, 0, [])
        assert case["runs_per_s"] > 0
    assert "| tradestore | 2 |" in out.read_text()
