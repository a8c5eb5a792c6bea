"""``tradestore verify`` / ``repair``: the persistence layer's folder check and repair."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tradestore import persistence
from tradestore._cli.common import UserError

__all__ = ["describe_problem", "repair_folder_with_progress", "verify_folder"]


def _function(name: str) -> Callable[..., Awaitable[Any]]:
    found = getattr(persistence, name, None)
    if found is None:
        raise UserError(f"this tradestore build has no tradestore.persistence.{name}")
    return found  # type: ignore[no-any-return]  # looked up by name; checked above


def describe_problem(problem: Any) -> str:
    """One line naming the damaged file and what is wrong with it."""
    path = getattr(problem, "path", None)
    reason = getattr(problem, "reason", None) or getattr(problem, "message", None)
    if path is not None and reason:
        return f"{path}: {reason}"
    return str(problem)


async def verify_folder(data_dir: Path) -> list[Any]:
    """Every problem found in every file of every store under ``data_dir``."""
    return list(await _function("verify_folder")(data_dir))


async def repair_folder_with_progress(data_dir: Path, console: Console) -> Any:
    """Repair ``data_dir`` with a progress bar; returns the layer's repair report."""
    with Progress(
        TextColumn("repairing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, path: object = "") -> None:
            bar.update(task, completed=done, total=total, description=str(path))

        return await _function("repair_folder")(data_dir, progress=progress)
