"""Run the selected workloads on every selected system, interleaved and repeated.

Within each repeat, each workload (and each size of W3) runs every system in
turn, the starting system rotating from one repeat to the next so no system
always runs first. Medians over the repeats are what the report shows.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._workloads import CaseResult, Context, Sizes, floors_for, run_case, runs_on

__all__ = ["RunConfig", "Summary", "params_for", "run_all", "summarise"]


@dataclass(frozen=True)
class RunConfig:
    """Everything one run needs."""

    sizes: Sizes
    repeats: int
    workloads: tuple[str, ...]
    systems: tuple[str, ...]
    work_dir: Path
    out: Path
    budget_s: float | None = None
    quick: bool = False
    command: str = "python -m benchmarks"
    skipped: dict[str, str] = field(default_factory=dict)
    gc_freeze: bool = True  # the heap frozen at each timed window's start (_stall.py)


def params_for(workload: str, sizes: Sizes) -> list[str]:
    """The sizes a workload runs at: one per N for W3, a single case otherwise."""
    if workload == "W3":
        return [f"N={n}" for n in sizes.w3_symbols]
    return [""]


def _order(names: Sequence[str], repeat: int) -> list[str]:
    if not names:
        return []
    shift = repeat % len(names)
    return [*names[shift:], *names[:shift]]


async def run_all(
    config: RunConfig, progress: Callable[[CaseResult], None] | None = None
) -> list[CaseResult]:
    """Run every case of the run, round-robin over systems within each repeat."""
    ctx = Context(sizes=config.sizes, work_dir=config.work_dir, budget_s=config.budget_s,
                  gc_freeze=config.gc_freeze)
    results: list[CaseResult] = []
    for repeat in range(config.repeats):
        for workload in config.workloads:
            names = [*(s for s in config.systems if runs_on(workload, s)),
                     *floors_for(workload)]
            for param in params_for(workload, config.sizes):
                for system in _order(names, repeat):
                    result = await run_case(workload, system, param, repeat, ctx)
                    results.append(result)
                    if progress is not None:
                        progress(result)
    return results


_SUMMED = ("lost",)


@dataclass
class Summary:
    """One system at one workload size, over all repeats."""

    workload: str
    param: str
    system: str
    metrics: dict[str, float]
    worst_stall_ms: float
    errors: int
    first_error: str | None
    repeats: int
    ops_planned: int
    min_ops_done: int
    failed: list[str]
    notes: list[str]
    worst_gc_ms: float = float("nan")  # the longest garbage-collector pass of any repeat

    @property
    def truncated(self) -> bool:
        """True when the time budget cut at least one repeat short."""
        return self.min_ops_done < self.ops_planned and not self.failed

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-safe values."""
        return {
            "workload": self.workload,
            "param": self.param,
            "system": self.system,
            "metrics": self.metrics,
            "worst_stall_ms": self.worst_stall_ms,
            "worst_gc_ms": self.worst_gc_ms,
            "errors": self.errors,
            "first_error": self.first_error,
            "repeats": self.repeats,
            "ops_planned": self.ops_planned,
            "min_ops_done": self.min_ops_done,
            "truncated": self.truncated,
            "failed": self.failed,
            "notes": self.notes,
        }


def summarise(results: Sequence[CaseResult]) -> list[Summary]:
    """Medians per (workload, param, system); errors and lost summed over repeats."""
    groups: dict[tuple[str, str, str], list[CaseResult]] = {}
    for r in results:
        groups.setdefault((r.workload, r.param, r.system), []).append(r)
    out: list[Summary] = []
    for (workload, param, system), cases in groups.items():
        good = [c for c in cases if c.failed is None]
        keys = sorted({k for c in good for k in c.metrics})
        metrics: dict[str, float] = {}
        for key in keys:
            values = [c.metrics[key] for c in good if key in c.metrics]
            values = [v for v in values if not math.isnan(v)]
            if values:
                metrics[key] = sum(values) if key in _SUMMED else statistics.median(values)
        stalls = [c.metrics["stall_ms"] for c in good if "stall_ms" in c.metrics]
        gc_passes = [c.metrics["gc_ms"] for c in good if "gc_ms" in c.metrics]
        out.append(
            Summary(
                workload=workload,
                param=param,
                system=system,
                metrics=metrics,
                worst_stall_ms=max(stalls, default=float("nan")),
                errors=sum(c.errors for c in cases),
                first_error=next((c.first_error for c in cases if c.first_error), None),
                repeats=len(good),
                ops_planned=max((c.ops_planned for c in cases), default=0),
                min_ops_done=min((c.ops_done for c in good), default=0),
                failed=[c.failed for c in cases if c.failed],
                notes=[n for c in cases for n in c.notes],
                worst_gc_ms=max(gc_passes, default=float("nan")),
            )
        )
    return out
