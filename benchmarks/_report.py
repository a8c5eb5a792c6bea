"""The generated report: Markdown tables, the targets, raw JSON and a figure."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from benchmarks._adapters import POSTGRES_SYSTEMS, TRADESTORE_SYSTEMS, system_info
from benchmarks._floors import (
    FLOOR_APPEND,
    FLOOR_APPEND_ASYNC,
    FLOOR_RENAME,
    FLOOR_RENAME_ASYNC,
    FLOORS,
    THREAD_FLOORS,
)
from benchmarks._runner import RunConfig, Summary, params_for
from benchmarks._workloads import CaseResult, Sizes

__all__ = ["Target", "evaluate_targets", "write_outputs"]

SQLITE_FULL = "sqlite_full"
SQLITE_NORMAL = "sqlite_normal"
DURABLE = "tradestore_durable"
APPEND = "tradestore_append"
FAST = "tradestore_fast"
STALL_LIMIT_MS = 5.0


class _Table:
    """Lookup of medians by (workload, param, system)."""

    def __init__(self, summaries: Sequence[Summary]) -> None:
        self.rows = {(s.workload, s.param, s.system): s for s in summaries}

    def row(self, workload: str, param: str, system: str) -> Summary | None:
        return self.rows.get((workload, param, system))

    def get(self, workload: str, param: str, system: str, metric: str) -> float | None:
        row = self.row(workload, param, system)
        if row is None:
            return None
        return row.metrics.get(metric)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def fmt(value: float | None, unit: str = "") -> str:
    """A number with three significant figures (thousands separated), or n/a."""
    if value is None or math.isnan(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    elif magnitude == 0:
        text = "0"
    else:
        text = f"{value:.3g}"
    return text + unit


def _x(value: float | None) -> str:
    return "n/a" if value is None else fmt(value) + "x"


@dataclass(frozen=True)
class Target:
    """One target of BENCHMARKS.md, evaluated on this run's medians."""

    workload: str
    text: str
    system: str
    measured: str
    passed: bool | None  # None: not measured in this run

    def to_json(self) -> dict[str, Any]:
        """The target as JSON-safe values."""
        return {
            "workload": self.workload,
            "text": self.text,
            "system": self.system,
            "measured": self.measured,
            "passed": self.passed,
        }


def _w3_ends(sizes: Sizes) -> tuple[str, str]:
    params = params_for("W3", sizes)
    return params[0], params[-1]


def evaluate_targets(
    summaries: Sequence[Summary], sizes: Sizes, systems: Sequence[str]
) -> list[Target]:
    """Evaluate every target on the medians (stall: on the worst case)."""
    t = _Table(summaries)
    targets: list[Target] = []

    def vs(workload: str, metric: str, system: str, other: str, param: str = "") -> float | None:
        return _ratio(t.get(workload, param, system, metric), t.get(workload, param, other, metric))

    def add(  # noqa: PLR0913  a target row, and the floor that bounds it if one ran
        workload: str, text: str, system: str, value: float | None, ok: bool | None, *,
        floor: tuple[str, float | None] | None = None,
    ) -> None:
        measured = "not measured" if value is None else _x(value)
        if value is not None and floor is not None and floor[1] is not None:
            measured += f" (the floor: {floor[0]}, {_x(floor[1])})"
        passed = None if value is None else ok
        targets.append(Target(workload, text, system, measured, passed))

    if DURABLE in systems:
        r = vs("W1", "updates_per_s", DURABLE, SQLITE_FULL)
        row = t.row("W1", "", DURABLE)
        clean = row is not None and row.errors == 0 and row.metrics.get("lost", 1.0) == 0
        add(
            "W1",
            "updates/s ≥ 2x sqlite_full, no error, nothing lost",
            DURABLE,
            r,
            r is not None and r >= 2.0 and clean,
        )
        if r is not None and not clean:
            targets[-1] = Target(
                "W1",
                targets[-1].text,
                DURABLE,
                targets[-1].measured + " (errors or lost updates)",
                False,
            )
    if FAST in systems:
        r = vs("W1", "updates_per_s", FAST, SQLITE_NORMAL)
        add("W1", "updates/s ≥ sqlite_normal (1x)", FAST, r, r is not None and r >= 1.0)
    if DURABLE in systems:
        r = vs("W2", "mean_ms", DURABLE, FLOOR_RENAME)
        add("W2", "mean latency ≤ 1.3x rename floor", DURABLE, r, r is not None and r <= 1.3,
            floor=("one replace awaited through aiofiles",
             vs("W2", "mean_ms", FLOOR_RENAME_ASYNC, FLOOR_RENAME)))
    small, large = _w3_ends(sizes)
    for system in (DURABLE, FAST):
        if system not in systems:
            continue
        r = _ratio(t.get("W3", large, system, "mean_ms"), t.get("W3", small, system, "mean_ms"))
        add("W3", f"mean latency {large} / {small} ≤ 1.5", system, r, r is not None and r <= 1.5)
    for system in (DURABLE, FAST):
        if system not in systems:
            continue
        r = vs("W4", "open_to_read_ms", system, SQLITE_FULL)
        add("W4", "open to first read ≤ 10x sqlite_full", system, r, r is not None and r <= 10.0)
    for system in (DURABLE, FAST):
        if system not in systems:
            continue
        ns = t.get("W5", "", system, "ns_per_read")
        targets.append(
            Target(
                "W5",
                "≤ 2 µs per read",
                system,
                "not measured" if ns is None else fmt(ns / 1000.0, " µs"),
                None if ns is None else ns <= 2000.0,
            )
        )
    if DURABLE in systems:
        r = vs("W6", "appends_per_s", DURABLE, SQLITE_FULL)
        add("W6", "appends/s ≥ 0.7x sqlite_full", DURABLE, r, r is not None and r >= 0.7)
        r = vs("W6", "query_ms", DURABLE, SQLITE_FULL)
        add("W6", "last-30 query time ≤ 0.2x sqlite_full", DURABLE, r, r is not None and r <= 0.2)
    if APPEND in systems:  # journal="append": the mode made to beat SQLite where it wins
        r = vs("W2", "mean_ms", APPEND, SQLITE_FULL)
        add("W2", "mean latency ≤ 1.0x sqlite_full", APPEND, r, r is not None and r <= 1.0,
            floor=("one append awaited through aiofiles",
             vs("W2", "mean_ms", FLOOR_APPEND_ASYNC, SQLITE_FULL)))
        r = vs("W6", "appends_per_s", APPEND, SQLITE_FULL)
        add("W6", "appends/s ≥ 1.0x sqlite_full", APPEND, r, r is not None and r >= 1.0,
            floor=("one append awaited through aiofiles",
             vs("W6", "appends_per_s", FLOOR_APPEND_ASYNC, SQLITE_FULL)))
    # The stall target's baseline: the floors whose I/O runs in a thread, the machine's noise.
    floor_stalls = [s.worst_stall_ms for s in summaries if s.system in THREAD_FLOORS]
    floor_worst = max((v for v in floor_stalls if not math.isnan(v)), default=None)
    for system in (DURABLE, FAST):
        if system not in systems:
            continue
        mine = [s for s in summaries if s.system == system and not math.isnan(s.worst_stall_ms)]
        worst_row = max(mine, key=lambda s: s.worst_stall_ms, default=None)
        if worst_row is None:
            measured = "not measured"
        else:
            where = f"{worst_row.workload}{' ' + worst_row.param if worst_row.param else ''}"
            measured = f"{fmt(worst_row.worst_stall_ms, ' ms')} (in {where}"
            if floor_worst is not None:
                measured += f"; the floors' own worst: {fmt(floor_worst, ' ms')}"
            if not math.isnan(worst_row.worst_gc_ms):
                gc_pass = fmt(worst_row.worst_gc_ms, " ms")
                measured += f"; its longest garbage-collector pass: {gc_pass}"
            measured += ")"
        targets.append(
            Target(
                "all",
                f"largest event-loop stall ≤ {STALL_LIMIT_MS:g} ms in every workload",
                system,
                measured,
                None if worst_row is None else worst_row.worst_stall_ms <= STALL_LIMIT_MS,
            )
        )
        if system == DURABLE and worst_row is not None and floor_worst is not None:
            targets.append(
                Target(
                    "all",
                    "largest event-loop stall ≤ the floors' own worst + 2 ms",
                    system,
                    measured,
                    worst_row.worst_stall_ms <= floor_worst + 2.0,
                )
            )
    return targets


def _verdict(passed: bool | None) -> str:
    return {True: "**pass**", False: "**FAIL**", None: "not run"}[passed]


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _name(row: Summary) -> str:
    mark = " †" if row.truncated else ""
    mark += " ‡" if row.failed else ""
    bold = row.system in TRADESTORE_SYSTEMS or row.system in POSTGRES_SYSTEMS
    return (f"**{row.system}**" if bold else row.system) + mark


def _errors(row: Summary) -> str:
    return str(row.errors) if not row.failed else f"{row.errors} (+{len(row.failed)} failed)"


_WORKLOAD_TITLES = {
    "W1": "W1 concurrent churn",
    "W1P": "W1P concurrent churn from 4 processes",
    "W2": "W2 sequential writer",
    "W3": "W3 scaling with the number of symbols",
    "W4": "W4 cold open in a fresh process",
    "W5": "W5 cached read",
    "W6": "W6 log append and last-30 query",
}


def _describe(workload: str, sizes: Sizes) -> str:
    n3 = " / ".join(f"{n:,}" for n in sizes.w3_symbols)
    return {
        "W1": f"{sizes.w1_symbols:,} symbols; {sizes.w1_tasks} concurrent tasks x "
        f"{sizes.w1_updates_per_task} updates (record_fetch) to random symbols; "
        "then a reopen check that every acknowledged update is on disk.",
        "W1P": f"W1's churn split over 4 writer processes started together on one store "
        f"({sizes.w1_symbols:,} symbols; {-(-sizes.w1_tasks // 4)} concurrent tasks x "
        f"{sizes.w1_updates_per_task} updates in each process); then a reopen check. Only "
        "the systems that allow several writer processes run it: a tradestore folder has "
        "one writer (a second gets StoreLockedError).",
        "W2": f"{sizes.w2_symbols:,} symbols; {sizes.w2_updates:,} awaited updates "
        "from one coroutine.",
        "W3": f"W2 with {sizes.w3_updates:,} updates at N = {n3} symbols.",
        "W4": f"A fresh process opens a prepared store of {sizes.w4_symbols:,} symbols and "
        "reads one; time from open to that first read, and the process's peak memory "
        "(VmHWM; growth: from just before the open).",
        "W5": f"{sizes.w5_reads:,} awaited reads of random symbols at {sizes.w5_symbols:,} "
        "symbols, after one untimed read of every symbol to warm the cache.",
        "W6": f"{sizes.w6_logs:,} daily strategy logs of about 1 KiB, dates increasing, "
        f"appended one by one; then the last {sizes.w6_last} by date (median of "
        f"{sizes.w6_queries} queries).",
    }[workload]


def _section(workload: str, t: _Table, rows: list[Summary], sizes: Sizes) -> list[str]:
    lines: list[str] = []
    if workload == "W1":
        base = t.get("W1", "", SQLITE_FULL, "updates_per_s")
        floor = t.get("W1", "", FLOOR_RENAME, "updates_per_s")
        header = [
            "system",
            "updates/s",
            "x sqlite_full",
            "x rename floor",
            "p50 ms",
            "p99 ms",
            "stall ms",
            "GC ms",
            "errors",
            "lost",
        ]
        body = []
        for r in rows:
            v = r.metrics.get("updates_per_s")
            body.append(
                [
                    _name(r),
                    fmt(v),
                    _x(_ratio(v, base)),
                    _x(_ratio(v, floor)),
                    fmt(r.metrics.get("p50_ms")),
                    fmt(r.metrics.get("p99_ms")),
                    fmt(r.metrics.get("stall_ms")),
                    fmt(r.metrics.get("gc_ms")),
                    "n/a" if r.system in FLOORS else _errors(r),
                    "n/a" if r.system in FLOORS else fmt(r.metrics.get("lost")),
                ]
            )
        lines += _md_table(header, body)
        lines += [
            "",
            "The rename floor runs the same number of durable replaces one after "
            "another; `lost` is summed over the repeats.",
        ]
    elif workload == "W1P":
        base = t.get("W1P", "", SQLITE_FULL, "updates_per_s")
        header = ["system", "updates/s", "x sqlite_full", "x its W1", "p50 ms", "p99 ms",
                  "errors", "lost"]
        body = []
        for r in rows:
            v = r.metrics.get("updates_per_s")
            body.append([
                _name(r), fmt(v), _x(_ratio(v, base)),
                _x(_ratio(v, t.get("W1", "", r.system, "updates_per_s"))),
                fmt(r.metrics.get("p50_ms")), fmt(r.metrics.get("p99_ms")), _errors(r),
                fmt(r.metrics.get("lost")),
            ])
        lines += _md_table(header, body)
        lines += ["", "`x its W1`: the same system's single-process W1 figure of this run."]
    elif workload == "W2":
        base = t.get("W2", "", SQLITE_FULL, "mean_ms")
        floor = t.get("W2", "", FLOOR_RENAME, "mean_ms")
        header = [
            "system",
            "mean ms",
            "x sqlite_full",
            "x rename floor",
            "p50 ms",
            "p99 ms",
            "stall ms",
            "errors",
        ]
        body = []
        for r in rows:
            v = r.metrics.get("mean_ms")
            body.append(
                [
                    _name(r),
                    fmt(v),
                    _x(_ratio(v, base)),
                    _x(_ratio(v, floor)),
                    fmt(r.metrics.get("p50_ms")),
                    fmt(r.metrics.get("p99_ms")),
                    fmt(r.metrics.get("stall_ms")),
                    _errors(r),
                ]
            )
        lines += _md_table(header, body)
    elif workload == "W3":
        params = params_for(workload, sizes)
        small, large = params[0], params[-1]
        header = [
            "system",
            *(f"mean ms {p}" for p in params),
            f"{large} / {small}",
            f"x sqlite_full {large}",
            f"x rename floor {large}",
            "stall ms",
            "errors",
        ]
        body = []
        for system in dict.fromkeys(r.system for r in rows):
            found = [row for p in params if (row := t.row(workload, p, system)) is not None]
            if not found:
                continue
            means = [t.get(workload, p, system, "mean_ms") for p in params]
            v = means[-1]
            stalls = [row.metrics.get("stall_ms", float("nan")) for row in found]
            body.append(
                [
                    _name(found[-1]),
                    *(fmt(m) for m in means),
                    _x(_ratio(v, means[0])),
                    _x(_ratio(v, t.get(workload, large, SQLITE_FULL, "mean_ms"))),
                    _x(_ratio(v, t.get(workload, large, FLOOR_RENAME, "mean_ms"))),
                    fmt(max(stalls)),
                    str(sum(row.errors for row in found)),
                ]
            )
        lines += _md_table(header, body)
        lines += ["", "Stall: the largest of the per-N medians."]
    elif workload == "W4":
        base = t.get("W4", "", SQLITE_FULL, "open_to_read_ms")
        header = [
            "system",
            "open → first read ms",
            "x sqlite_full",
            "peak RSS MiB",
            "RSS growth MiB",
            "stall ms",
            "prepare s",
            "errors",
        ]
        body = [
            [
                _name(r),
                fmt(r.metrics.get("open_to_read_ms")),
                _x(_ratio(r.metrics.get("open_to_read_ms"), base)),
                fmt(r.metrics.get("peak_rss_mib")),
                fmt(r.metrics.get("rss_growth_mib")),
                fmt(r.metrics.get("stall_ms")),
                fmt(r.metrics.get("prepare_s")),
                _errors(r),
            ]
            for r in rows
        ]
        lines += _md_table(header, body)
        lines += [
            "",
            "`prepare s`: seeding the store beforehand (untimed by the workload). "
            "The files are in the page cache: this is a cold process, not a cold disk.",
        ]
    elif workload == "W5":
        base = t.get("W5", "", SQLITE_FULL, "ns_per_read")
        header = ["system", "ns per read", "x sqlite_full", "stall ms", "errors"]
        body = [
            [
                _name(r),
                fmt(r.metrics.get("ns_per_read")),
                _x(_ratio(r.metrics.get("ns_per_read"), base)),
                fmt(r.metrics.get("stall_ms")),
                _errors(r),
            ]
            for r in rows
        ]
        lines += _md_table(header, body)
    elif workload == "W6":
        base = t.get("W6", "", SQLITE_FULL, "appends_per_s")
        floor = t.get("W6", "", FLOOR_APPEND, "appends_per_s")
        base_q = t.get("W6", "", SQLITE_FULL, "query_ms")
        header = [
            "system",
            "appends/s",
            "x sqlite_full",
            "x append floor",
            "append p99 ms",
            "last-30 query ms",
            "query x sqlite_full",
            "stall ms",
            "errors",
        ]
        body = []
        for r in rows:
            v = r.metrics.get("appends_per_s")
            q = r.metrics.get("query_ms")
            body.append(
                [
                    _name(r),
                    fmt(v),
                    _x(_ratio(v, base)),
                    _x(_ratio(v, floor)),
                    fmt(r.metrics.get("p99_ms")),
                    fmt(q),
                    _x(_ratio(q, base_q)),
                    fmt(r.metrics.get("stall_ms")),
                    "n/a" if r.system in FLOORS else _errors(r),
                ]
            )
        lines += _md_table(header, body)
    return lines


def render_markdown(
    config: RunConfig,
    summaries: Sequence[Summary],
    targets: Sequence[Target],
    machine: dict[str, str],
) -> str:
    """The whole report as Markdown."""
    t = _Table(summaries)
    sz = config.sizes
    raw = config.out.with_suffix(".json").name
    png = config.out.with_suffix(".png").name
    lines = [
        "# Benchmarks",
        "",
        "Generated by the benchmark suite; do not edit by hand. Regenerate with:",
        "",
        "```sh",
        config.command,
        "```",
        "",
        f"Run on {machine['date']} ({'quick sizes' if config.quick else 'full sizes'}, "
        f"{config.repeats} repeat(s), medians shown; "
        f"{'heap frozen' if config.gc_freeze else 'heap not frozen'} at each timed "
        f"window's start, see Method). Raw figures: [`{raw}`]({raw}); "
        f"figure: [`{png}`]({png}).",
        "",
        f"![tradestore against its peers]({png})",
        "",
        "## Targets",
        "",
        "Ratios are between systems measured in this same run.",
        "",
    ]
    if config.quick:
        lines += [
            "These are quick sizes (see Method), smaller than BENCHMARKS.md's: the verdicts "
            "are indicative; `python -m benchmarks` runs the defined sizes.",
            "",
        ]
    if targets:
        lines += _md_table(
            ["workload", "target", "system", "measured", "result"],
            [[x.workload, x.text, x.system, x.measured, _verdict(x.passed)] for x in targets],
        )
    else:
        lines.append("No tradestore system ran, so no target was evaluated.")
    for system, reason in config.skipped.items():
        lines += ["", f"- `{system}` not run: {reason}."]
    lines += _where_peers_win(t)
    lines += _postgres_wins(t)
    order = [*config.systems, *FLOORS]
    for workload in config.workloads:
        rows = [s for s in summaries if s.workload == workload]
        rows.sort(key=lambda s: order.index(s.system) if s.system in order else len(order))
        if not rows:
            continue
        lines += ["", f"## {_WORKLOAD_TITLES[workload]}", "", _describe(workload, sz), ""]
        lines += _section(workload, t, rows, sz)
    marks = _footnotes(summaries)
    if marks:
        lines += ["", "## Notes", "", *marks]
    lines += ["", "## W7 many short tasks from 1, 2 and 4 scheduler processes", "",
              "W7 (PostgreSQL, beside pgqueuer) runs on its own, for a few minutes: "
              "`python -m benchmarks.w7`; its report is "
              "[benchmarks_w7.md](benchmarks_w7.md)."]
    lines += ["", "## Method", "", *_method(config), "", "## Systems", ""]
    systems = [*config.systems, *FLOORS]
    lines += _md_table(
        ["system", "durable", "what it is"],
        [[s, *_describe_system(s)] for s in systems],
    )
    lines += ["", "## Machine", ""]
    lines += _md_table(["", ""], [[k, v] for k, v in machine.items()])
    return "\n".join(lines) + "\n"


_PG_COMPARED = (
    ("W1", "updates_per_s", True, "concurrent durable updates/s"),
    ("W1P", "updates_per_s", True, "durable updates/s from 4 processes"),
    ("W2", "mean_ms", False, "ms per sequential durable update"),
    ("W4", "open_to_read_ms", False, "ms from open to first read in a fresh process"),
    ("W5", "ns_per_read", False, "ns per cached read"),
    ("W6", "appends_per_s", True, "durable log appends/s"),
    ("W6", "query_ms", False, "ms per last-30 query"),
)


def _postgres_wins(t: _Table) -> list[str]:
    """Where the PostgreSQL backend wins or loses against the file backend and sqlite_full."""
    pg = POSTGRES_SYSTEMS[0]
    if not any(t.row(w, "", pg) for w, *_ in _PG_COMPARED):
        return []
    lines = ["", "## PostgreSQL backend: where each wins", "",
             "Durable systems, medians of this run; the winner of each row is named.", ""]
    body = []
    for workload, metric, higher, label in _PG_COMPARED:
        values = {s: t.get(workload, "", s, metric) for s in (pg, DURABLE, SQLITE_FULL)}
        known = {s: v for s, v in values.items() if v is not None and not math.isnan(v)}
        if not known:
            continue
        best = (max if higher else min)(known, key=lambda s: known[s])
        ratio = _ratio(known.get(pg), known.get(DURABLE))
        body.append([workload, label, *(fmt(values[s]) for s in (pg, DURABLE, SQLITE_FULL)),
                     _x(ratio if higher or ratio is None else 1 / ratio if ratio else None),
                     best])
    lines += _md_table(["workload", "figure", pg, DURABLE, SQLITE_FULL,
                        f"{pg} speed vs {DURABLE}", "wins"], body)
    lines += ["", "The file backend serves reads from memory and commits without a round "
              "trip; PostgreSQL pays a loopback round trip per statement and a WAL flush per "
              "commit, and in exchange takes writers from any number of processes and hosts "
              "(W1P; a tradestore folder refuses a second writer)."]
    return lines


def _where_peers_win(t: _Table) -> list[str]:
    """Where a peer still beats tradestore in this run, and the physical reason."""
    w2 = t.get("W2", "", DURABLE, "mean_ms")
    w2_sqlite = t.get("W2", "", SQLITE_FULL, "mean_ms")
    rename = t.get("W2", "", FLOOR_RENAME, "mean_ms")
    w6 = t.get("W6", "", DURABLE, "appends_per_s")
    w6_sqlite = t.get("W6", "", SQLITE_FULL, "appends_per_s")
    append = t.get("W6", "", FLOOR_APPEND, "appends_per_s")
    lines = ["", "## Where a peer still wins, and why", ""]
    if w2 is not None and w2_sqlite is not None and w2 > w2_sqlite:
        lines += [
            f"- **One writer, one durable update at a time (W2, W6 appends): sqlite_full.** "
            f"tradestore_durable takes {fmt(w2, ' ms')} per update against sqlite_full's "
            f"{fmt(w2_sqlite, ' ms')}. A tradestore commit rewrites a spare file in place and "
            "syncs it (one data flush, as sqlite's WAL append), then renames it to its journal "
            "name and syncs the folder: a second flush, the price of never writing a live "
            "file in place. sqlite's WAL commit appends to a file it keeps open and flushes "
            "once. Both pay one thread hop per awaited call (aiosqlite's thread, aiofiles' "
            "executor). The floors, measured in this run, bound each design: a durable "
            f"replace of a new file takes {fmt(rename, ' ms')}"
            + (f", an append + fdatasync {fmt(1000 / append, ' ms')}" if append else "")
            + ". A single sequential writer therefore cannot match sqlite_full here while "
            "keeping atomic renames; tradestore's lead comes from group commit as soon as "
            "callers are concurrent (W1)."
        ]
    if w6 is not None and w6_sqlite is not None and w6 < w6_sqlite:
        lines += [
            f"- **W6 appends:** {fmt(w6)} appends/s against sqlite_full's {fmt(w6_sqlite)} "
            "(the same reason: a rename and a folder sync per awaited append, beyond the "
            "data flush both make)."
        ]
    lines += _where_sqlite_beats_append(t, w2_sqlite, w6_sqlite)
    if len(lines) == 3:
        lines.append("- None in this run.")
    if w2 is not None and rename is not None and w2 > 1.3 * rename:
        awaited = t.get("W2", "", FLOOR_RENAME_ASYNC, "mean_ms")
        hop = ("" if awaited is None else f" (the floor awaited through one aiofiles call: "
               f"{fmt(awaited, ' ms')}, {fmt(awaited / rename, 'x')} the floor)")
        lines += [
            f"- **W2 against the rename floor ({fmt(w2 / rename, 'x')}):** a commit itself "
            "costs less than the floor (it rewrites a spare in place instead of creating a "
            "file), but three costs the floor does not have fall inside this window: one "
            f"thread hop per awaited update{hop}; a checkpoint (every 1,000 commits) that rewrites "
            "each partition the journals touched (random updates over 1,024 partitions touch "
            "about 0.6 new partition per update, each synced beside the foreground commits); "
            "and, the store opening lazily (W4), the reads of its partitions right after the "
            "open (in the background, 16 to a thread job, beside the first updates)."
        ]
    return lines


def _where_sqlite_beats_append(
    t: _Table, w2_sqlite: float | None, w6_sqlite: float | None,
) -> list[str]:
    """The append mode against sqlite_full: the same flush, then the hop, then software."""
    w2 = t.get("W2", "", APPEND, "mean_ms")
    w6 = t.get("W6", "", APPEND, "appends_per_s")
    behind: list[str] = []
    if w2 is not None and w2_sqlite is not None and w2 > w2_sqlite:
        behind.append(f"W2 {fmt(w2, ' ms')} per update against {fmt(w2_sqlite, ' ms')}")
    if w6 is not None and w6_sqlite is not None and w6 < w6_sqlite:
        behind.append(f"W6 {fmt(w6)} appends/s against {fmt(w6_sqlite)}")
    if not behind:
        return []
    text = (f"- **One writer, one durable update at a time, journal=\"append\": "
            f"sqlite_full** ({'; '.join(behind)}). Both make one data flush per commit, into "
            "blocks of a file they keep open and, in their steady state, never grow")
    flush = t.get("W2", "", FLOOR_APPEND, "mean_ms")
    hop = t.get("W2", "", FLOOR_APPEND_ASYNC, "mean_ms")
    if flush is None or hop is None or w2 is None or w2_sqlite is None:
        return [text + "."]
    text += (f". The append floor takes {fmt(flush, ' ms')} here, and {fmt(hop, ' ms')} "
             "awaited from the event loop through one aiofiles call; a whole W2 update takes "
             f"{fmt(w2_sqlite, ' ms')} in sqlite_full, {fmt(w2, ' ms')} in tradestore_append")
    if hop >= w2_sqlite:
        text += (". So on this machine no store whose file I/O goes through aiofiles' "
                 "executor (tradestore's rule) can match sqlite_full one awaited write at a "
                 "time: the executor's hop alone (a concurrent future, its chain to the "
                 "loop, a thread wake-up each way) costs more than aiosqlite's own thread "
                 "takes to hand over a call. That awaited floor bounds this target")
    else:
        text += (f". Beyond that awaited floor tradestore_append spends "
                 f"{fmt(w2 - hop, ' ms')} per update in Python (validating and copying the "
                 "record, the batch and its future, and after a lazy open the background "
                 "reads of the partitions), against sqlite's C")
    return [text + ". It bounds a sequential writer on every file system; a run with "
            "`--dir` on tmpfs, where a flush costs nothing, shows it alone. Concurrent "
            "callers share it through group commit (W1)."]


def _describe_system(name: str) -> list[str]:
    if name == FLOOR_RENAME:
        return ["yes", "floor: 1 KiB to a new temp file + fsync + rename + folder fsync"]
    if name == FLOOR_APPEND:
        return ["yes", "floor: 1 KiB written in place into a zero-filled, synced file + "
                "fdatasync (a preallocated or recycled log's steady state)"]
    if name == FLOOR_RENAME_ASYNC:
        return ["yes", "floor_rename, each replace awaited from the event loop as one "
                "aiofiles call (the floor plus one executor hop)"]
    if name == FLOOR_APPEND_ASYNC:
        return ["yes", "floor_append, each append awaited from the event loop as one "
                "aiofiles call (the floor plus one executor hop)"]
    info = system_info(name)
    return ["yes" if info.durable else "no", info.description]


def _footnotes(summaries: Sequence[Summary]) -> list[str]:
    out: list[str] = []
    for s in summaries:
        where = f"{s.workload}{' ' + s.param if s.param else ''} {s.system}"
        if s.truncated:
            out.append(
                f"- † {where}: the time budget stopped it after {s.min_ops_done:,} of "
                f"{s.ops_planned:,} operations (worst repeat); figures are over those."
            )
        for failure in dict.fromkeys(s.failed):
            out.append(f"- ‡ {where}: a repeat failed: `{failure}`")
        if s.errors and s.first_error:
            out.append(f"- {where}: {s.errors} error(s), first: `{s.first_error}`")
        for note in dict.fromkeys(s.notes):
            out.append(f"- {where}: {note}")
    return out


def _method(config: RunConfig) -> list[str]:
    budget = (
        "none: every case runs all its operations"
        if config.budget_s is None
        else f"{config.budget_s:g} s per case: a case issues no new operation after it (marked †)"
    )
    return [
        "- Every system runs every workload in the same run. Within a repeat, each workload "
        "(each N of W3) runs the systems one after another, the first system rotating between "
        "repeats; the figures are medians over the repeats (errors and lost updates: sums).",
        "- Each case prepares its store untimed (the fastest honest bulk path: executemany "
        "for sqlite, one write for naive, one durable `save_states` for tradestore), then "
        "times only the workload's operations. Its data folder is set aside and deleted "
        "after the run, not between cases: on a file system that skips recently freed "
        "inodes (ext4 without a journal, as here) the next case's file creations would "
        f"pay for the deletion. Data folder: `{config.work_dir}`.",
        "- An update is one awaited durable (per the system's mode) mutation: "
        "`fetch_count += 1` (tradestore: `record_fetch(symbol, ok=True)`). Reads return the "
        "record's `fetch_count` (tradestore: `get_state`). Logs: tradestore `add_log` and "
        "`get_logs_for_period` over the last 30 days.",
        "- Event-loop stall: a coroutine sleeping 1 ms records how late it wakes up, over each "
        "case's timed part (W4: inside the fresh process, over open + first read). Tables show "
        "the median over repeats; the stall target uses the worst case of any repeat. "
        "floor_rename and floor_append do their I/O in a worker thread, so their stall is "
        "the machine's own noise: the stall target's baseline.",
        "- GC ms: the longest pass of CPython's cyclic garbage collector in the same window. "
        "A full pass visits every tracked object of the process, the interpreter's own "
        "(its modules, functions and classes: tens of thousands) among them, with the GIL "
        "held, so it stalls the loop whatever the store; a store's "
        "allocations decide how often one falls in the window. An application that calls "
        "`gc.freeze()` once after start-up takes the interpreter's objects out of every "
        "later pass (`tradestore run` does, and the README tells bots to). So every system's "
        "timed window starts with `gc.collect()` and `gc.freeze()`, leaving out of the "
        "passes what the case set up (the interpreter's objects and the opened store); "
        "`--gc-unfrozen` measures without (a full pass then takes 10-20 ms in this "
        "process, and falls in W1's window for every tradestore system at full size).",
        "- Between two operations the workload gives the event loop one turn "
        "(`await asyncio.sleep(0)`, untimed except in W1's wall clock), as a scheduler doing "
        "other work would; so a store whose calls never suspend is not blamed for the "
        "workload's own loop. W5 times reads in batches of 64 between such turns. W6 "
        "appends/s is 1 / mean append latency; the query time is the median of the queries.",
        "- floor_rename and floor_append run their loop of operations in one worker thread, "
        "with no event-loop overhead; beside the sequential writers (W2, W6) their `_async` "
        "twins await each operation from the event loop as one aiofiles call, the least an "
        "asyncio store doing its file I/O through aiofiles pays per awaited write.",
        f"- Time budget: {budget}.",
        f"- Repeats: {config.repeats}. Sizes: `{config.sizes}`.",
    ]


def _figure(config: RunConfig, summaries: Sequence[Summary], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = _Table(summaries)
    order = [*config.systems, *FLOORS]
    panels: list[tuple[str, str, str, str, bool]] = [
        ("W1", "", "updates_per_s", "W1 concurrent updates/s (higher is better)", False),
        ("W2", "", "mean_ms", "W2 sequential update, mean ms (lower is better)", False),
        ("W4", "", "open_to_read_ms", "W4 cold open to first read, ms (lower)", True),
        ("W5", "", "ns_per_read", "W5 ns per cached read (lower)", True),
        ("W6", "", "appends_per_s", "W6 durable log appends/s (higher)", False),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    flat = list(axes.flat)

    def colour(system: str) -> str:
        if system in TRADESTORE_SYSTEMS:
            return "tab:green"
        if system in FLOORS:
            return "tab:gray"
        return "tab:blue"

    for ax, (workload, param, metric, title, log) in zip(flat, panels, strict=False):
        names = [s for s in order if t.get(workload, param, s, metric) is not None]
        values = [t.get(workload, param, s, metric) or 0.0 for s in names]
        ax.barh(names, values, color=[colour(s) for s in names])
        ax.set_title(title, fontsize=10)
        ax.invert_yaxis()
        if log and values and min(values) > 0:
            ax.set_xscale("log")
    ax = flat[5]
    params = params_for("W3", config.sizes)
    names = [s for s in order if any(t.get("W3", p, s, "mean_ms") is not None for p in params)]
    width = 0.8 / max(1, len(params))
    for i, p in enumerate(params):
        values = [t.get("W3", p, s, "mean_ms") or 0.0 for s in names]
        ax.barh([y + i * width for y in range(len(names))], values, height=width, label=p)
    ax.set_yticks([y + width * (len(params) - 1) / 2 for y in range(len(names))], names)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    ax.set_title("W3 mean update ms by N (lower; log scale)", fontsize=10)
    fig.suptitle("tradestore (green) against its peers (blue) and the floors (grey)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


_ROOT = Path(__file__).resolve().parents[1]


def _relative(text: str) -> str:
    """Paths inside the repository, written relative to it (the report is committed)."""
    return text.replace(f"{_ROOT}{os.sep}", "")


def _clean(value: Any) -> Any:
    """Replace NaN and infinities (not JSON) with None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_outputs(
    config: RunConfig,
    results: Sequence[CaseResult],
    summaries: Sequence[Summary],
    machine: dict[str, str],
) -> list[Path]:
    """Write the Markdown report, the JSON of every case and the figure."""
    targets = evaluate_targets(summaries, config.sizes, config.systems)
    out_md = config.out
    out_json = out_md.with_suffix(".json")
    out_png = out_md.with_suffix(".png")
    out_md.parent.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(config, summaries, targets, machine)
    out_md.write_text(_relative(markdown), encoding="utf-8")
    raw = {
        "command": config.command,
        "machine": machine,
        "quick": config.quick,
        "gc_freeze": config.gc_freeze,
        "repeats": config.repeats,
        "budget_s": config.budget_s,
        "sizes": {k: v for k, v in vars(config.sizes).items()},
        "systems": list(config.systems),
        "skipped": config.skipped,
        "targets": [x.to_json() for x in targets],
        "summary": [s.to_json() for s in summaries],
        "cases": [r.to_json() for r in results],
    }
    text = json.dumps(_clean(raw), indent=2, allow_nan=False, default=str)
    out_json.write_text(_relative(text) + "\n", encoding="utf-8")
    _figure(config, summaries, out_png)
    return [out_md, out_json, out_png]


def rerender(raw_path: Path) -> list[Path]:
    """Re-render the report and figure of an earlier run from its JSON (no measuring)."""
    from benchmarks._runner import RunConfig, Summary
    from benchmarks._workloads import WORKLOADS, Sizes

    raw = json.loads(raw_path.read_text(encoding="utf-8"))
    sizes: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in raw["sizes"].items()
    }
    names = {f.name for f in fields(Summary)}
    summaries = [Summary(**{k: v for k, v in s.items() if k in names}) for s in raw["summary"]]
    present = {s.workload for s in summaries}
    config = RunConfig(
        sizes=Sizes(**sizes), repeats=raw["repeats"],
        workloads=tuple(w for w in WORKLOADS if w in present),
        systems=tuple(raw["systems"]), work_dir=raw_path.parent,
        out=raw_path.with_suffix(".md"), budget_s=raw["budget_s"], quick=raw["quick"],
        command=raw["command"], skipped=raw["skipped"],
        gc_freeze=raw.get("gc_freeze", False),  # runs before the option were unfrozen
    )
    targets = evaluate_targets(summaries, config.sizes, config.systems)
    markdown = render_markdown(config, summaries, targets, raw["machine"])
    config.out.write_text(_relative(markdown), encoding="utf-8")
    raw["targets"] = [x.to_json() for x in targets]
    text = json.dumps(_clean(raw), indent=2, allow_nan=False, default=str)
    raw_path.write_text(_relative(text) + "\n", encoding="utf-8")
    png = raw_path.with_suffix(".png")
    _figure(config, summaries, png)
    return [config.out, raw_path, png]
