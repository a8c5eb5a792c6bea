"""``tradestore verify`` / ``repair``: every store's own ``verify()`` and ``repair()``."""

from __future__ import annotations

import os
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tradestore import FundamentalStore, StockStateStore, StrategyLogStore, TaskStore
from tradestore._cli.common import Where
from tradestore.contracts import Store
from tradestore.persistence import Problem, RepairReport

__all__ = ["STORE_TYPES", "describe_problem", "is_damage", "repair_folder", "verify_folder"]

STORE_TYPES: tuple[Callable[..., Store], ...] = (
    TaskStore,
    StockStateStore,
    StrategyLogStore,
    FundamentalStore,
)


def _present(store: Store) -> bool:
    """Whether the store has data to check (a PostgreSQL store always may)."""
    folder = getattr(store, "folder", None)
    return store.backend != "file" or (folder is not None and os.path.isdir(folder))


def is_damage(problem: Problem) -> bool:
    """Whether ``problem`` is a damaged or unreadable file (a leftover temp file is not)."""
    return problem.kind != "leftover_temp"


def describe_problem(problem: Problem) -> str:
    """One line naming the file, what is wrong, and what ``repair`` will do about it."""
    if problem.kind == "leftover_temp":
        return f"{problem.path}: leftover of an unfinished write (removed at the next open)"
    if problem.kind == "invalid_row":
        return (f"{problem.path}: {problem.detail} (a row tradestore cannot read; fix or "
                "delete it with SQL: repair deletes nothing)")
    if problem.kind == "newer_version":
        return f"{problem.path}: {problem.detail} (left untouched; upgrade tradestore)"
    outcome = (
        "a good previous version exists; repair restores it"
        if problem.recoverable
        else "no good version left; repair quarantines it and its records are lost"
    )
    return f"{problem.path}: {problem.detail} ({outcome})"


async def verify_folder(data_dir: Where) -> list[Problem]:
    """Every problem in every file of every store under ``data_dir``; changes nothing."""
    problems: list[Problem] = []
    for store_type in STORE_TYPES:
        store = store_type(data_dir, read_only=True)
        try:
            if _present(store):
                problems.extend(await store.verify())
        finally:
            await store.close()
    return problems


async def repair_folder(data_dir: Where, console: Console) -> RepairReport:
    """Repair every store under ``data_dir`` with a progress bar; one combined report."""
    total = RepairReport()
    with Progress(
        TextColumn("repairing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}", markup=False),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        stores = [store_type(data_dir) for store_type in STORE_TYPES]
        stores = [s for s in stores if _present(s)]
        task = bar.add_task("", total=len(stores))
        for store in stores:
            try:
                report = await store.repair(
                    progress=lambda folder: bar.update(task, description=folder)
                )
            finally:
                await store.close()
            bar.advance(task)
            total.checked_documents += report.checked_documents
            for name in ("recovered", "lost", "quarantined", "refused"):
                getattr(total, name).extend(getattr(report, name))
    return total
