"""Render docs/reliability.md from the figures the suites wrote to docs/reliability.json.

Regenerate both::

    TRADESTORE_RELIABILITY_REPORT=1 PYTHONPATH=src python -m pytest tests/reliability -q
    python tests/reliability/report.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
STORES = ["probe", "tasks", "stock_state", "strategy_logs", "fundamentals"]

ROWS = [
    ("Power loss: crash points swept (drop and garble runs)", "powerloss.crash_points"),
    ("Power loss: broken-layer sweeps that found lost writes", "powerloss.broken_layer_sweeps"),
    ("I/O errors: faults injected (commit, checkpoint, open; once and always)",
     "io.faults_injected"),
    ("I/O errors: real faults (full tmpfs, RLIMIT_FSIZE)", "io.real_faults"),
    ("Damage matrix: damaged-file cases", "damage.cases"),
    ("Fuzzing: inputs", "fuzz.inputs"),
    ("Fuzzing: ValidationErrors checked for no change", "fuzz.validation_errors"),
    ("Kill test: rounds (one child process each)", "kill.rounds"),
    ("Kill test: acknowledged writes checked", "kill.acknowledged"),
    ("Processes: child processes (writer + 2 readers)", "processes.children"),
    ("Processes: reader snapshots checked", "processes.reader_snapshots"),
    ("Processes: second writers refused", "processes.writers_refused"),
    ("Cancellation: cancel points", "cancel.points"),
]
LOST = ["powerloss.lost_or_wrong", "kill.lost_or_wrong", "damage.lost_or_wrong"]

SUITES = Path(__file__).with_name("suites.md")
FINDINGS = Path(__file__).with_name("findings.md")


def render(data: dict[str, object]) -> str:
    """The markdown page for the figures in ``data``."""
    figures = data["figures"]
    assert isinstance(figures, dict)

    def cell(key: str, store: str | None = None) -> str:
        value = figures.get(f"{key}[{store}]" if store else key, 0)
        return f"{value:,}"

    lines = [
        "# Reliability",
        "",
        "What the suites under `tests/reliability/` check, and the figures of the last run.",
        "The goal for every *lost or wrong* line is zero; a non-zero figure fails the run.",
        "",
        "## Regenerate",
        "",
        "```sh",
        "TRADESTORE_RELIABILITY_REPORT=1 PYTHONPATH=src python -m pytest tests/reliability -q",
        "python tests/reliability/report.py   # docs/reliability.json -> docs/reliability.md",
        "```",
        "",
        "The slow parts carry the `slow` marker; CI runs them too (`make test`).",
        "",
        "## Suites",
        "",
        SUITES.read_text(),
        f"## Figures of the last run ({data['generated']}, {data['seconds']} s, "
        f"Python {data['python']}, {data['machine']})",
        "",
        "`probe` is a small store built on the persistence layer by the tests themselves.",
        "",
        "| figure | " + " | ".join(STORES) + " | total |",
        "|---|" + "---:|" * (len(STORES) + 1),
    ]
    for label, key in ROWS:
        lines.append(f"| {label} | " + " | ".join(cell(key, s) for s in STORES)
                     + f" | {cell(key)} |")
    lost = sum(int(figures.get(k, 0)) for k in LOST)
    lines.append("| **Lost or wrong values found** | " + " | ".join(
        f"{sum(int(figures.get(f'{k}[{s}]', 0)) for k in LOST):,}" for s in STORES)
        + f" | **{lost:,}** |")
    lines += ["", "I/O faults, damage cases, fuzzed inputs and cancellations that went wrong "
              "fail their test outright, so a passing run means zero for them too.", "",
              FINDINGS.read_text()]
    return "\n".join(lines)


def main() -> None:
    """Read docs/reliability.json, write docs/reliability.md."""
    source = DOCS / "reliability.json"
    if not source.exists():
        sys.exit(f"{source} is missing: run the suites with TRADESTORE_RELIABILITY_REPORT=1")
    (DOCS / "reliability.md").write_text(render(json.loads(source.read_text())))


if __name__ == "__main__":
    main()
