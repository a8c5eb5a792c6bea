"""Benchmark W7: many short tasks run by 1, 2 and 4 scheduler processes on one server.

``python -m benchmarks.w7 [--quick] [--tasks 10000] [--repeats 3] [--processes 1,2,4]``

For each system (tradestore's ``Scheduler`` on PostgreSQL; pgqueuer, a
PostgreSQL job queue, through its own claim path) and each process count, on
the same server in the same run:

- **burst**: ``--tasks`` no-op tasks made due at once (one insert); task runs
  per second from their commit to the last start, and due-to-start p50/p99
  (which here measure how long the backlog takes to drain);
- **trickle**: ``--trickle`` tasks inserted one by one at ``--rate`` per
  second, each due at its commit: due-to-start p50/p99 when a notification
  wakes an idle worker (polls are 5 s apart, so a poll cannot be what starts
  them);
- duplicates (an id started twice) and losses (an id never started) in both.

Workers are separate processes (``_w7_worker``) writing one line per start;
all times are one host's wall clock. Figures are medians over ``--repeats``;
duplicates and losses are totals. The server is ``TRADESTORE_PG_DSN``'s, else
a throwaway local one with ``fsync=on``. Writes ``docs/benchmarks_w7.{md,json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from benchmarks._machine import machine_info
from benchmarks._postgres import postgres_missing_reason, server_dsn

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ("tradestore", "pgqueuer")
CONCURRENCY = 32  # tasks in flight per process
POLL_S = 5.0  # far above the latencies measured: a start within it was woken by NOTIFY


@dataclass
class Case:
    """One (system, processes, repeat): what was measured."""

    system: str
    processes: int
    repeat: int
    tasks: int
    runs_per_s: float
    burst_p50_ms: float
    burst_p99_ms: float
    trickle_p50_ms: float
    trickle_p99_ms: float
    duplicates: int
    lost: int
    notes: list[str] = field(default_factory=list)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _reset(dsn: str, system: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        if system == "tradestore":
            conn.execute("TRUNCATE tradestore.tasks, tradestore.scheduler_heartbeats")
        else:
            conn.execute("TRUNCATE pgqueuer, pgqueuer_log, pgqueuer_statistics")


async def _prepare(dsn: str, systems: list[str]) -> None:
    from tradestore.postgres import migrate

    await migrate(dsn)
    if "pgqueuer" not in systems:
        return
    from pgqueuer.queries import Queries

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        queries = Queries.from_psycopg_connection(conn)
        if not await queries.schema_is_installed():
            await queries.install()


class _Inserter:
    """Makes tasks due: tradestore tasks or pgqueuer jobs, in bulk or one at a time."""

    def __init__(self, dsn: str, system: str) -> None:
        self.dsn = dsn
        self.system = system
        self._store: Any = None
        self._queries: Any = None
        self._conn: Any = None

    async def __aenter__(self) -> _Inserter:
        if self.system == "tradestore":
            from tradestore import TaskStore

            self._store = TaskStore(self.dsn)
            await self._store.initialize()
        else:
            from pgqueuer.queries import Queries

            self._conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
            self._queries = Queries.from_psycopg_connection(self._conn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._store is not None:
            await self._store.close()
        if self._conn is not None:
            await self._conn.close()

    async def add(self, ids: list[str]) -> float:
        """Insert ``ids`` due now in one transaction; return the wall time of the commit."""
        if self.system == "tradestore":
            from tradestore import BackgroundTask, TaskPriority

            now = datetime.now(UTC)
            tasks = [BackgroundTask(task_id=i, task_type="noop", priority=TaskPriority.MEDIUM,
                                    execute_at=now) for i in ids]
            await (self._store.save(tasks[0]) if len(tasks) == 1
                   else self._store.save_many(tasks))
        else:
            await self._queries.enqueue(["noop"] * len(ids), [i.encode() for i in ids],
                                        [0] * len(ids))
        return time.time()


def _start_workers(system: str, dsn: str, n: int, folder: Path) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    procs = []
    for k in range(n):
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._w7_worker", system, dsn,
             str(folder / f"{system}-{k}.runs"), str(CONCURRENCY), str(POLL_S)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(proc)
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a {system} worker did not start")
    return procs


def _starts(folder: Path, system: str) -> list[tuple[str, float]]:
    found = []
    for path in folder.glob(f"{system}-*.runs"):
        for line in path.read_text().splitlines():
            ident, wall = line.split(" ")
            found.append((ident, float(wall)))
    return found


async def _wait_started(folder: Path, system: str, count: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while len({i for i, _ in _starts(folder, system)}) < count:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _one_case(dsn: str, system: str, n: int, repeat: int,
                    args: argparse.Namespace) -> Case:
    tasks, trickle, rate = int(args.tasks), int(args.trickle), float(args.rate)
    _reset(dsn, system)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="w7-") as tmp:
        folder = Path(tmp)
        procs = _start_workers(system, dsn, n, folder)
        try:
            await asyncio.sleep(1.0)  # listeners connected, first polls done
            async with _Inserter(dsn, system) as inserter:
                burst_ids = [f"b{repeat}-{i:06d}" for i in range(tasks)]
                committed = await inserter.add(burst_ids)
                if not await _wait_started(folder, system, tasks, 300):
                    notes.append("burst: not every task started within 300 s")
                trickle_due: dict[str, float] = {}
                for i in range(trickle):
                    ident = f"t{repeat}-{i:05d}"
                    trickle_due[ident] = await inserter.add([ident])
                    await asyncio.sleep(1.0 / rate)
                if not await _wait_started(folder, system, tasks + trickle, 60):
                    notes.append("trickle: not every task started within 60 s")
            await asyncio.sleep(1.0)  # room for a duplicate to show up
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    notes.append("a worker had to be killed")
                if proc.stdout is not None:
                    proc.stdout.close()
        starts = _starts(folder, system)
    seen = Counter(i for i, _ in starts)
    first: dict[str, float] = {}
    for ident, wall in starts:
        first[ident] = min(wall, first.get(ident, wall))
    expected = {*burst_ids, *trickle_due}
    burst = [first[i] - committed for i in burst_ids if i in first]
    late = [first[i] - trickle_due[i] for i in trickle_due if i in first]
    last = max((first[i] for i in burst_ids if i in first), default=committed)
    return Case(
        system=system, processes=n, repeat=repeat, tasks=tasks,
        runs_per_s=len(burst) / max(1e-9, last - committed),
        burst_p50_ms=_percentile(burst, 0.5) * 1000, burst_p99_ms=_percentile(burst, 0.99) * 1000,
        trickle_p50_ms=_percentile(late, 0.5) * 1000,
        trickle_p99_ms=_percentile(late, 0.99) * 1000,
        duplicates=sum(c - 1 for c in seen.values() if c > 1),
        lost=len(expected - set(seen)), notes=notes)


def _median(cases: list[Case], name: str) -> float:
    return statistics.median(float(getattr(c, name)) for c in cases)


def _report(cases: list[Case], args: argparse.Namespace, machine: dict[str, str],
            command: str) -> str:
    lines = [
        "# Benchmark W7: task runs on PostgreSQL from 1, 2 and 4 scheduler processes", "",
        f"Command: `{command}`. Machine: " + "; ".join(f"{k}: {v}" for k, v in machine.items())
        + ".", "",
        f"{args.tasks:,} no-op tasks made due at once (burst), then {args.trickle} inserted "
        f"one by one at {args.rate:g}/s (trickle), per system and process count, on one "
        f"server in one run; {CONCURRENCY} tasks in flight per process; polls {POLL_S:g} s "
        "apart, so trickle starts are NOTIFY wake-ups. Medians of "
        f"{args.repeats} repeat(s); duplicates and losses are totals over all repeats.", "",
        "| system | processes | runs/s | burst p50 ms | burst p99 ms | trickle p50 ms "
        "| trickle p99 ms | duplicates | lost |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    groups: dict[tuple[str, int], list[Case]] = {}
    for case in cases:
        groups.setdefault((case.system, case.processes), []).append(case)
    for (system, n), group in groups.items():
        lines.append(
            f"| {system} | {n} | {_median(group, 'runs_per_s'):,.0f} | "
            f"{_median(group, 'burst_p50_ms'):,.0f} | {_median(group, 'burst_p99_ms'):,.0f} | "
            f"{_median(group, 'trickle_p50_ms'):.1f} | {_median(group, 'trickle_p99_ms'):.1f} | "
            f"{sum(c.duplicates for c in group)} | {sum(c.lost for c in group)} |")
    ratios = []
    for n in args.processes:
        ours, theirs = groups.get(("tradestore", n)), groups.get(("pgqueuer", n))
        if ours and theirs:
            ratio = _median(ours, "runs_per_s") / _median(theirs, "runs_per_s")
            ratios.append(f"{n} process(es): {ratio:.2f}x")
    if ratios:
        lines += ["", "tradestore runs/s as a ratio of pgqueuer's: " + ", ".join(ratios) + "."]
    notes = sorted({f"{c.system} x{c.processes}: {n}" for c in cases for n in c.notes})
    if notes:
        lines += ["", "Notes:", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"


async def _run(args: argparse.Namespace) -> list[Case]:
    dsn = server_dsn()
    await _prepare(dsn, args.systems)
    cases: list[Case] = []
    for repeat in range(args.repeats):
        for n in args.processes:
            for system in args.systems:
                case = await _one_case(dsn, system, n, repeat, args)
                print(f"[r{repeat + 1}] W7 {system} x{n}: {case.runs_per_s:,.0f} runs/s, "
                      f"trickle p99 {case.trickle_p99_ms:.1f} ms, dup {case.duplicates}, "
                      f"lost {case.lost} {case.notes or ''}", file=sys.stderr, flush=True)
                cases.append(case)
    return cases


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.w7``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.w7", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 tasks, one repeat")
    parser.add_argument("--tasks", type=int, default=None)
    parser.add_argument("--trickle", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--processes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 2, 4])
    parser.add_argument("--systems", type=lambda s: s.split(","), default=list(SYSTEMS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_w7.md")
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(raw)
    args.tasks = args.tasks or (2000 if args.quick else 10_000)
    args.repeats = args.repeats or (1 if args.quick else 3)
    reason = postgres_missing_reason()
    if reason:
        print(f"W7 needs PostgreSQL: {reason}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    cases = asyncio.run(_run(args))
    machine = machine_info(Path(tempfile.gettempdir()))
    machine["run time"] = f"{time.perf_counter() - started:.0f} s"
    for lib in ("psycopg", "pgqueuer"):
        try:
            machine[f"{lib} version"] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            machine[f"{lib} version"] = "not installed"
    with psycopg.connect(server_dsn(), autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        machine["postgresql"] = str(row[0]) if row else "?"
    command = " ".join(["python", "-m", "benchmarks.w7", *raw])
    args.out.write_text(_report(cases, args, machine, command))
    args.out.with_suffix(".json").write_text(json.dumps(
        {"command": command, "machine": machine, "cases": [asdict(c) for c in cases]},
        indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
