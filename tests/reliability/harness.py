"""Helpers shared by the suites: state checks, folder inspection, abandoning a store."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from tradestore.errors import StoreError
from tradestore.persistence import BaseStore
from tradestore.persistence._fs import is_spare_name, is_temp_name

from .adapters import Adapter, Snapshot

__all__ = [
    "abandon",
    "child_command",
    "files_under",
    "journal_files",
    "match_prefix",
    "temp_files",
]


def temp_files(folder: Path) -> list[Path]:
    """Unfinished writes left anywhere under ``folder`` (spares kept for reuse excluded)."""
    return [p for p in files_under(folder) if is_temp_name(p.name) and not is_spare_name(p.name)]


def journal_files(folder: Path) -> list[Path]:
    """Journal files under ``folder``."""
    return [p for p in files_under(folder) if p.name.startswith("journal-")]


def files_under(folder: Path) -> list[Path]:
    """Every file under ``folder`` (recursive, sorted)."""
    out: list[Path] = []
    for dirpath, _dirs, files in os.walk(folder):
        out.extend(Path(dirpath) / f for f in files)
    return sorted(out)


def match_prefix(adapter: Adapter, snap: Snapshot, lo: int, hi: int) -> int | None:
    """The ``n`` in ``lo..hi`` whose expected state is ``snap``, or None (lost or wrong)."""
    for n in range(hi, lo - 1, -1):
        if adapter.expected(n) == snap:
            return n
    return None


async def abandon(store: BaseStore) -> None:
    """Let go of a store whose process 'died': close what can be closed, ignore its errors."""
    with contextlib.suppress(StoreError):
        await store.close()


def child_command(*args: str) -> tuple[list[str], dict[str, str]]:
    """The argv and environment to run ``_child.py`` with ``args`` in a new interpreter."""
    package = __package__ or "reliability"
    here = Path(__file__).resolve().parent
    root = here.parents[len(package.split(".")) - 1]
    import tradestore

    src = Path(tradestore.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(src)]),
           "PYTHONWARNINGS": "error::ResourceWarning"}
    return [sys.executable, "-m", f"{package}._child", *args], env
