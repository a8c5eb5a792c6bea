"""The workloads W1-W6, each run as one case: one system, one size, one repeat.

A case prepares its store (untimed), runs the timed part under a
``StallMonitor``, and removes its data folder when done. Errors raised by an
operation are counted, never fatal; the first one is kept for the report.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks._adapters import (
    MULTI_WRITER_SYSTEMS,
    Adapter,
    log_payload,
    make_adapter,
    symbol_names,
)
from benchmarks._floors import (
    FLOOR_APPEND,
    FLOOR_APPEND_ASYNC,
    FLOOR_RENAME,
    FLOOR_RENAME_ASYNC,
    append_floor,
    append_floor_async,
    rename_floor,
    rename_floor_async,
)
from benchmarks._stall import StallMonitor

__all__ = [
    "FULL",
    "QUICK",
    "WORKLOADS",
    "CaseResult",
    "Context",
    "Sizes",
    "floors_for",
    "run_case",
    "runs_on",
]

# Reads timed together between two turns of the event loop (W5).
_READ_BATCH = 64
WORKLOADS = ("W1", "W1P", "W2", "W3", "W4", "W5", "W6")
W1P_PROCESSES = 4
DONE_DIR = "finished"  # finished cases' folders, under the work folder
STRATEGY = "momentum"
FIRST_LOG_DAY = date(2010, 1, 4)


@dataclass(frozen=True)
class Sizes:
    """Workload sizes; the defaults are BENCHMARKS.md's."""

    w1_symbols: int = 5_000
    w1_tasks: int = 50
    w1_updates_per_task: int = 200
    w2_symbols: int = 5_000
    w2_updates: int = 2_000
    w3_symbols: tuple[int, ...] = (1_000, 10_000, 100_000)
    w3_updates: int = 500
    w4_symbols: int = 100_000
    w5_symbols: int = 5_000
    w5_reads: int = 200_000
    w6_logs: int = 5_000
    w6_last: int = 30
    w6_queries: int = 100


FULL = Sizes()
QUICK = Sizes(
    w1_symbols=1_000,
    w1_tasks=20,
    w1_updates_per_task=25,
    w2_symbols=1_000,
    w2_updates=200,
    w3_updates=50,
    w5_symbols=1_000,
    w5_reads=20_000,
    w6_logs=300,
    w6_queries=20,
)


@dataclass(frozen=True)
class Context:
    """What every case needs: sizes, scratch folder, time budget, seed."""

    sizes: Sizes
    work_dir: Path
    budget_s: float | None = None
    seed: int = 20_251_129
    gc_freeze: bool = True  # see StallMonitor

    def deadline(self) -> float | None:
        """perf_counter() value after which a case issues no new operation."""
        return None if self.budget_s is None else time.perf_counter() + self.budget_s


@dataclass
class CaseResult:
    """The outcome of one case."""

    workload: str
    system: str
    param: str
    repeat: int
    metrics: dict[str, float] = field(default_factory=dict)
    errors: int = 0
    first_error: str | None = None
    ops_planned: int = 0
    ops_done: int = 0
    failed: str | None = None
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def truncated(self) -> bool:
        """True when the time budget stopped the case before all its operations."""
        return self.failed is None and self.ops_done < self.ops_planned

    def error(self, exc: BaseException) -> None:
        """Count one failed operation."""
        self.errors += 1
        if self.first_error is None:
            self.first_error = f"{type(exc).__name__}: {exc}"

    def to_json(self) -> dict[str, Any]:
        """The case as JSON-safe values."""
        return {
            "workload": self.workload,
            "system": self.system,
            "param": self.param,
            "repeat": self.repeat,
            "metrics": self.metrics,
            "errors": self.errors,
            "first_error": self.first_error,
            "ops_planned": self.ops_planned,
            "ops_done": self.ops_done,
            "truncated": self.truncated,
            "failed": self.failed,
            "notes": self.notes,
            "wall_s": self.wall_s,
        }


def floors_for(workload: str) -> tuple[str, ...]:
    """The floors measured beside the systems in ``workload``.

    W2 and W6 are the sequential writers, one awaited durable write at a time:
    beside them run the floors of both designs (a replace, an append), each
    also awaited through aiofiles, so the cost of the hop alone shows too.
    """
    return {
        "W1": (FLOOR_RENAME,),
        "W2": (FLOOR_RENAME, FLOOR_RENAME_ASYNC, FLOOR_APPEND, FLOOR_APPEND_ASYNC),
        "W3": (FLOOR_RENAME,),
        "W6": (FLOOR_APPEND, FLOOR_APPEND_ASYNC),
    }.get(workload, ())


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100.0 * (len(ordered) - 1))))
    return ordered[index]


def _latency_metrics(latencies: Sequence[float]) -> dict[str, float]:
    if not latencies:
        return {}
    return {
        "mean_ms": _ms(statistics.fmean(latencies)),
        "p50_ms": _ms(_percentile(latencies, 50)),
        "p99_ms": _ms(_percentile(latencies, 99)),
    }


@asynccontextmanager
async def _case_dir(ctx: Context, result: CaseResult) -> AsyncIterator[Path]:
    tag = f"{result.workload}-{result.system}-{result.param or 'x'}-r{result.repeat}"
    path = ctx.work_dir / tag.replace("=", "")
    await asyncio.to_thread(shutil.rmtree, path, True)
    path.mkdir(parents=True)
    await _settle()
    try:
        yield path
    finally:
        # Set aside, deleted after the run: on some file systems (ext4 without a
        # journal, as here) every file created in the next ~30 s would otherwise pay
        # for skipping this case's freed inodes, a cost of the harness, not the system.
        done = ctx.work_dir / DONE_DIR
        done.mkdir(exist_ok=True)
        await asyncio.to_thread(path.rename, done / f"{path.name}.{secrets.token_hex(4)}")


async def _yield() -> None:
    """Give the event loop one turn between operations, untimed.

    A scheduler does other work between store calls; without this, a store whose
    calls complete without suspending would keep the loop to the workload itself,
    and the stall ticker would measure the workload loop instead of the store.
    """
    await asyncio.sleep(0)


async def _settle() -> None:
    """Flush dirty pages, so no timed part pays for the writeback of earlier work."""
    await asyncio.to_thread(os.sync)


async def _close(adapter: Adapter, result: CaseResult) -> None:
    try:
        await adapter.close()
    except Exception as exc:  # counted: a failing close is a result, not a crash
        result.error(exc)


def _picks(symbols: Sequence[str], n: int, rng: random.Random) -> list[str]:
    return [symbols[rng.randrange(len(symbols))] for _ in range(n)]


async def _floor_case(
    result: CaseResult,
    ctx: Context,
    n: int,
    measure: Callable[[Path, int, float | None], list[float]]
    | Callable[[Path, int, float | None], Awaitable[list[float]]],
) -> None:
    """Run a floor: in one worker thread, or (an async floor) awaited from the loop."""
    result.ops_planned = n
    async with _case_dir(ctx, result) as path, StallMonitor(freeze=ctx.gc_freeze) as monitor:
        if inspect.iscoroutinefunction(measure):
            latencies = await measure(path, n, ctx.deadline())
        else:
            latencies = await asyncio.to_thread(measure, path, n, ctx.deadline())
    result.ops_done = len(latencies)
    result.metrics.update(_latency_metrics(latencies))
    # One operation after another: the rate is 1 / mean latency, as for the systems.
    total = sum(latencies)
    result.metrics["ops_per_s"] = len(latencies) / total if total > 0 else 0.0
    result.metrics.update(monitor.metrics())


async def _w1(adapter: Adapter, result: CaseResult, ctx: Context) -> None:
    """Concurrent churn, then a reopen check that every acknowledged update is on disk."""
    sz = ctx.sizes
    symbols = symbol_names(sz.w1_symbols)
    rng = random.Random(ctx.seed + result.repeat)
    plans = [_picks(symbols, sz.w1_updates_per_task, rng) for _ in range(sz.w1_tasks)]
    result.ops_planned = sz.w1_tasks * sz.w1_updates_per_task
    acked: Counter[str] = Counter()
    latencies: list[float] = []
    async with _case_dir(ctx, result) as path:
        await adapter.create(path, symbols)
        await adapter.open(path)
        baseline = {s: await adapter.read(s) for s in symbols}
        await _settle()
        deadline = ctx.deadline()

        async def worker(plan: list[str]) -> None:
            for symbol in plan:
                if deadline is not None and time.perf_counter() > deadline:
                    return
                start = time.perf_counter()
                try:
                    await adapter.update(symbol)
                except Exception as exc:  # counted, e.g. the naive peer's temp-file race
                    result.error(exc)
                else:
                    latencies.append(time.perf_counter() - start)
                    acked[symbol] += 1
                await _yield()

        async with StallMonitor(freeze=ctx.gc_freeze) as monitor:
            start = time.perf_counter()
            await asyncio.gather(*(worker(plan) for plan in plans))
            elapsed = time.perf_counter() - start
        await _close(adapter, result)
        result.ops_done = len(latencies) + result.errors

        # Reopen with a fresh adapter: every acknowledged update must be on disk.
        check = make_adapter(result.system)
        lost = 0
        try:
            await check.open(path)
            for symbol in symbols:
                lost += max(0, baseline[symbol] + acked[symbol] - await check.read(symbol))
        except Exception as exc:  # an unreadable store loses every acknowledged update
            lost = sum(acked.values())
            result.notes.append(f"reopen failed: {type(exc).__name__}: {exc}")
        finally:
            await _close(check, result)

    result.metrics.update(_latency_metrics(latencies))
    result.metrics["updates_per_s"] = len(latencies) / elapsed if elapsed > 0 else 0.0
    result.metrics.update(monitor.metrics())
    result.metrics["lost"] = float(lost)


async def _sequential_updates(
    adapter: Adapter, result: CaseResult, ctx: Context, n_symbols: int, n_updates: int
) -> None:
    """W2 and W3: awaited updates of random symbols from one coroutine."""
    symbols = symbol_names(n_symbols)
    picks = _picks(symbols, n_updates, random.Random(ctx.seed + result.repeat))
    result.ops_planned = n_updates
    latencies: list[float] = []
    async with _case_dir(ctx, result) as path:
        await adapter.create(path, symbols)
        await adapter.open(path)
        await _settle()
        deadline = ctx.deadline()
        async with StallMonitor(freeze=ctx.gc_freeze) as monitor:
            for symbol in picks:
                if deadline is not None and time.perf_counter() > deadline:
                    break
                start = time.perf_counter()
                try:
                    await adapter.update(symbol)
                except Exception as exc:  # counted
                    result.error(exc)
                else:
                    latencies.append(time.perf_counter() - start)
                await _yield()
        await _close(adapter, result)
    result.ops_done = len(latencies) + result.errors
    result.metrics.update(_latency_metrics(latencies))
    result.metrics.update(monitor.metrics())


async def _w4(adapter: Adapter, result: CaseResult, ctx: Context) -> None:
    """Cold open in a fresh process: open a prepared store, read one symbol."""
    symbols = symbol_names(ctx.sizes.w4_symbols)
    result.ops_planned = 1
    async with _case_dir(ctx, result) as path:
        start = time.perf_counter()
        await adapter.create(path, symbols)
        result.metrics["prepare_s"] = time.perf_counter() - start
        await _settle()
        target = symbols[len(symbols) // 2]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks._coldopen",
            result.system,
            str(path),
            target,
            "frozen" if ctx.gc_freeze else "unfrozen",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_child_env(),
        )
        out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"cold-open process failed ({proc.returncode}): {err.decode()[-500:]}")
    child: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    if child.get("error"):
        result.error(RuntimeError(str(child["error"])))
    else:
        result.ops_done = 1
    for key in ("open_to_read_ms", "peak_rss_mib", "rss_growth_mib", "stall_ms", "gc_ms"):
        if key in child:
            result.metrics[key] = float(child[key])


def runs_on(workload: str, system: str) -> bool:
    """Whether ``system`` takes part in ``workload`` (W1P needs several writer processes)."""
    return workload != "W1P" or system in MULTI_WRITER_SYSTEMS


async def _w1p(adapter: Adapter, result: CaseResult, ctx: Context) -> None:
    """W1's churn split over W1P_PROCESSES writer processes on one store, started together."""
    sz = ctx.sizes
    symbols = symbol_names(sz.w1_symbols)
    tasks = -(-sz.w1_tasks // W1P_PROCESSES)
    result.ops_planned = W1P_PROCESSES * tasks * sz.w1_updates_per_task
    async with _case_dir(ctx, result) as path:
        await adapter.create(path, symbols)
        await adapter.open(path)
        baseline = {s: await adapter.read(s) for s in symbols}
        await _close(adapter, result)
        await _settle()
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks._multiproc", result.system, str(path),
                str(sz.w1_symbols), str(tasks), str(sz.w1_updates_per_task),
                str(ctx.seed + result.repeat * 100 + i), str(ctx.budget_s or 0),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=_child_env(),
            )
            for i in range(W1P_PROCESSES)
        ]
        for proc in procs:
            assert proc.stdout is not None
            ready = await proc.stdout.readline()
            if ready.strip() != b"ready":
                raise RuntimeError(f"a writer process did not start: {ready.decode()[-300:]}")
        start = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outputs = [await proc.communicate() for proc in procs]
        elapsed = time.perf_counter() - start
        acked: Counter[str] = Counter()
        latencies: list[float] = []
        for out, err in outputs:
            lines = out.decode().strip().splitlines()
            if not lines:
                raise RuntimeError(f"a writer process failed: {err.decode()[-500:]}")
            child: dict[str, Any] = json.loads(lines[-1])
            if child.get("error"):
                raise RuntimeError(str(child["error"]))
            acked.update(child["acked"])
            latencies.extend(child["latencies"])
            result.errors += int(child["errors"])
            if child.get("first_error") and result.first_error is None:
                result.first_error = str(child["first_error"])
        result.ops_done = len(latencies) + result.errors
        check = make_adapter(result.system)
        lost = 0
        try:
            await check.open(path)
            for symbol in symbols:
                lost += max(0, baseline[symbol] + acked[symbol] - await check.read(symbol))
        finally:
            await _close(check, result)
    result.metrics.update(_latency_metrics(latencies))
    result.metrics["updates_per_s"] = len(latencies) / elapsed if elapsed > 0 else 0.0
    result.metrics["lost"] = float(lost)


def _child_env() -> dict[str, str]:
    """The environment of W4's process: it imports exactly what this process imports."""
    paths = [str(Path(p).resolve()) for p in sys.path if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


async def _w5(adapter: Adapter, result: CaseResult, ctx: Context) -> None:
    """Cached reads of random symbols, after one untimed read of every symbol."""
    sz = ctx.sizes
    symbols = symbol_names(sz.w5_symbols)
    picks = _picks(symbols, sz.w5_reads, random.Random(ctx.seed + result.repeat))
    result.ops_planned = len(picks)
    done = 0
    async with _case_dir(ctx, result) as path:
        await adapter.create(path, symbols)
        await adapter.open(path)
        for symbol in symbols:  # warm the cache: W5 measures cached reads
            await adapter.read(symbol)
        await _settle()
        deadline = ctx.deadline()
        elapsed = 0.0
        async with StallMonitor(freeze=ctx.gc_freeze) as monitor:
            for first in range(0, len(picks), _READ_BATCH):
                if deadline is not None and time.perf_counter() > deadline:
                    break
                start = time.perf_counter()
                for symbol in picks[first : first + _READ_BATCH]:
                    try:
                        await adapter.read(symbol)
                    except Exception as exc:  # counted
                        result.error(exc)
                    done += 1
                elapsed += time.perf_counter() - start
                await _yield()
        await _close(adapter, result)
    result.ops_done = done
    result.metrics["ns_per_read"] = elapsed / done * 1e9 if done else float("nan")
    result.metrics.update(monitor.metrics())


async def _w6(adapter: Adapter, result: CaseResult, ctx: Context) -> None:
    """Durable daily logs appended one by one, then the last N by date."""
    sz = ctx.sizes
    days = [FIRST_LOG_DAY + timedelta(days=i) for i in range(sz.w6_logs)]
    payloads = [log_payload(day, i) for i, day in enumerate(days)]
    result.ops_planned = len(days)
    latencies: list[float] = []
    query_times: list[float] = []
    async with _case_dir(ctx, result) as path:
        await adapter.open_logs(path)
        deadline = ctx.deadline()
        async with StallMonitor(freeze=ctx.gc_freeze) as monitor:
            last_day: date | None = None
            for day, payload in zip(days, payloads, strict=True):
                if deadline is not None and time.perf_counter() > deadline:
                    break
                t0 = time.perf_counter()
                try:
                    await adapter.append_log(STRATEGY, day, payload)
                except Exception as exc:  # counted
                    result.error(exc)
                else:
                    latencies.append(time.perf_counter() - t0)
                    last_day = day
                await _yield()
            if last_day is not None:
                written = days[: days.index(last_day) + 1]
                expected = written[-sz.w6_last :]
                for _ in range(sz.w6_queries):
                    t0 = time.perf_counter()
                    try:
                        got = await adapter.last_logs(STRATEGY, sz.w6_last, last_day)
                    except Exception as exc:  # counted
                        result.error(exc)
                    else:
                        query_times.append(time.perf_counter() - t0)
                        if got != expected:
                            result.error(AssertionError(f"last logs: got {got[:3]}..."))
                    await _yield()
        await _close(adapter, result)
    result.ops_done = len(latencies) + result.errors
    result.metrics.update(_latency_metrics(latencies))
    # Sequential appends: the rate is 1 / mean latency (the yields between appends excluded).
    total = sum(latencies)
    result.metrics["appends_per_s"] = len(latencies) / total if total > 0 else 0.0
    if query_times:
        result.metrics["query_ms"] = _ms(statistics.median(query_times))
    result.metrics.update(monitor.metrics())


async def run_case(workload: str, system: str, param: str, repeat: int, ctx: Context) -> CaseResult:
    """Run one case; a failure to set up or run is recorded in ``failed``, never raised."""
    result = CaseResult(workload=workload, system=system, param=param, repeat=repeat)
    sz = ctx.sizes
    started = time.perf_counter()
    try:
        if system in (FLOOR_RENAME, FLOOR_RENAME_ASYNC):
            n = {
                "W1": sz.w1_tasks * sz.w1_updates_per_task,
                "W2": sz.w2_updates,
                "W3": sz.w3_updates,
            }[workload]
            floor = rename_floor if system == FLOOR_RENAME else rename_floor_async
            await _floor_case(result, ctx, n, floor)
            if workload == "W1":
                result.metrics["updates_per_s"] = result.metrics.pop("ops_per_s")
        elif system in (FLOOR_APPEND, FLOOR_APPEND_ASYNC):
            n = sz.w2_updates if workload == "W2" else sz.w6_logs
            floor = append_floor if system == FLOOR_APPEND else append_floor_async
            await _floor_case(result, ctx, n, floor)
            if workload == "W6":
                result.metrics["appends_per_s"] = result.metrics.pop("ops_per_s")
        else:
            adapter = make_adapter(system)
            body: dict[str, Callable[[], Awaitable[None]]] = {
                "W1": lambda: _w1(adapter, result, ctx),
                "W1P": lambda: _w1p(adapter, result, ctx),
                "W2": lambda: _sequential_updates(
                    adapter, result, ctx, sz.w2_symbols, sz.w2_updates
                ),
                "W3": lambda: _sequential_updates(
                    adapter, result, ctx, int(param.removeprefix("N=")), sz.w3_updates
                ),
                "W4": lambda: _w4(adapter, result, ctx),
                "W5": lambda: _w5(adapter, result, ctx),
                "W6": lambda: _w6(adapter, result, ctx),
            }
            try:
                await body[workload]()
            finally:
                await _close(adapter, result)
    except Exception as exc:  # recorded in the report; the other cases still run
        result.failed = f"{type(exc).__name__}: {exc}"
    result.wall_s = time.perf_counter() - started
    return result
