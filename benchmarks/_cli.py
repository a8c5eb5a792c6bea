"""Command line: ``python -m benchmarks [--quick] [--only W1,W3] [--systems ...] ...``."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from benchmarks._adapters import (
    PEER_SYSTEMS,
    POSTGRES_SYSTEMS,
    TRADESTORE_SYSTEMS,
    tradestore_missing_reason,
)
from benchmarks._machine import machine_info
from benchmarks._report import rerender, write_outputs
from benchmarks._runner import RunConfig, run_all, summarise
from benchmarks._workloads import FULL, QUICK, WORKLOADS, CaseResult, Sizes

__all__ = ["build_config", "main", "run"]

ROOT = Path(__file__).resolve().parents[1]
ALL_SYSTEMS = (*TRADESTORE_SYSTEMS, *POSTGRES_SYSTEMS, *PEER_SYSTEMS)
QUICK_REPEATS = 2
QUICK_BUDGET_S = 3.0
FULL_BUDGET_S = 20.0  # only the naive peers reach it at full sizes


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the tradestore benchmark suite and write docs/benchmarks.{md,json,png}.",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes, fewer repeats and a time budget per case (a few minutes)",
    )
    p.add_argument(
        "--only",
        type=_csv,
        default=list(WORKLOADS),
        metavar="W1,W3",
        help="workloads to run (default: all)",
    )
    p.add_argument(
        "--systems",
        type=_csv,
        default=None,
        metavar="S1,S2",
        help=f"systems to run (default: all available of {','.join(ALL_SYSTEMS)}); "
        "the floors always run",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"repeats per case (default 3, --quick {QUICK_REPEATS})",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"stop issuing operations in a case after this long (default {FULL_BUDGET_S:g}, "
        f"--quick {QUICK_BUDGET_S:g}; 0 for none); cut cases are marked in the report. At "
        "full sizes the naive peers alone take hours without one",
    )
    p.add_argument(
        "--gc-unfrozen",
        dest="gc_freeze",
        action="store_false",
        help="leave the heap unfrozen in the timed windows (by default each window starts "
        "with gc.freeze(), as the README tells bots to do after start-up)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="Markdown report; the .json and .png go beside it",
    )
    p.add_argument(
        "--dir",
        "--work-dir",
        dest="work_dir",
        type=Path,
        default=ROOT / "benchmarks" / ".work",
        help="folder the stores are written in, on the file system to measure (default: "
        "benchmarks/.work, on the repository's disk)",
    )
    return p


def build_config(argv: Sequence[str], sizes: Sizes | None = None) -> RunConfig:
    """Parse ``argv`` into a run configuration; ``sizes`` overrides the preset sizes."""
    parser = _parser()
    args = parser.parse_args(list(argv))
    unknown = [w for w in args.only if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {','.join(WORKLOADS)}")
    skipped: dict[str, str] = {}
    reason = tradestore_missing_reason()
    pg_reason = reason or _postgres_missing_reason()
    if args.systems is None:
        systems = [s for s in ALL_SYSTEMS if (reason is None or s not in TRADESTORE_SYSTEMS)
                   and (pg_reason is None or s not in POSTGRES_SYSTEMS)]
        if reason is not None:
            skipped = dict.fromkeys(TRADESTORE_SYSTEMS, reason)
        if pg_reason is not None:
            skipped.update(dict.fromkeys(POSTGRES_SYSTEMS, pg_reason))
    else:
        systems = args.systems
        bad = [s for s in systems if s not in ALL_SYSTEMS]
        if bad:
            parser.error(f"unknown system(s) {bad}; choose from {','.join(ALL_SYSTEMS)}")
        if reason is not None and any(s in TRADESTORE_SYSTEMS for s in systems):
            parser.error(reason)
        if pg_reason is not None and any(s in POSTGRES_SYSTEMS for s in systems):
            parser.error(pg_reason)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else 3)
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    budget = args.budget if args.budget is not None else (
        QUICK_BUDGET_S if args.quick else FULL_BUDGET_S)
    if budget is not None and budget <= 0:
        budget = None
    chosen = sizes or (QUICK if args.quick else FULL)
    return RunConfig(
        sizes=replace(chosen),
        repeats=repeats,
        workloads=tuple(w for w in WORKLOADS if w in args.only),
        systems=tuple(systems),
        work_dir=args.work_dir,
        out=args.out,
        budget_s=budget,
        quick=args.quick,
        command=shlex.join(["python", "-m", "benchmarks", *argv]),
        skipped=skipped,
        gc_freeze=args.gc_freeze,
    )


def _postgres_missing_reason() -> str | None:
    from benchmarks._postgres import postgres_missing_reason

    return postgres_missing_reason()


def _progress(result: CaseResult) -> None:
    figures = ", ".join(f"{k}={v:.4g}" for k, v in sorted(result.metrics.items()))
    status = f"FAILED {result.failed}" if result.failed else figures
    if result.errors:
        status += f" errors={result.errors}"
    if result.truncated:
        status += f" (cut at {result.ops_done}/{result.ops_planned})"
    param = f" {result.param}" if result.param else ""
    print(
        f"[r{result.repeat + 1} {result.wall_s:5.1f}s] {result.workload}{param} "
        f"{result.system}: {status}",
        file=sys.stderr,
        flush=True,
    )


def run(config: RunConfig, *, verbose: bool = True) -> list[Path]:
    """Run the suite and write the report; return the files written."""
    for system, reason in config.skipped.items():
        print(f"skipping {system}: {reason}", file=sys.stderr)
    machine = machine_info(config.work_dir)
    started = time.perf_counter()
    try:
        results = asyncio.run(run_all(config, _progress if verbose else None))
    finally:
        shutil.rmtree(config.work_dir, ignore_errors=True)
    machine["run time"] = f"{time.perf_counter() - started:.0f} s"
    machine["load average at end"] = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    written = write_outputs(config, results, summarise(results), machine)
    if verbose:
        for path in written:
            print(f"wrote {path}", file=sys.stderr)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--render"]:
        # Re-render an earlier run's report from its JSON, measuring nothing.
        if len(args) != 2:
            print("usage: python -m benchmarks --render docs/benchmarks.json", file=sys.stderr)
            return 2
        for path in rerender(Path(args[1])):
            print(f"wrote {path}", file=sys.stderr)
        return 0
    config = build_config(args)
    run(config)
    return 0
