"""Optional observers of the file layer's commits and checkpoints (for metrics).

The layer calls :func:`commit_done` and :func:`checkpoint_done` after each
successful commit and checkpoint, in the worker thread that wrote the files
(``run_io``): an observer must be thread-safe and quick. With no observer
registered they return at once; an observer is held weakly (it goes away with
its owner, e.g. a dashboard app) and one that raises is logged, never allowed
to fail a write.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from tradestore.errors import StoreIOError
from tradestore.persistence._fs import run_io
from tradestore.persistence._naming import parse_journal_name

__all__ = [
    "StoreObserver",
    "add_observer",
    "checkpoint_done",
    "commit_done",
    "journal_backlog",
    "remove_observer",
]

_log = logging.getLogger(__name__)


class StoreObserver(Protocol):
    """What an observer implements; ``folder`` is the collection's folder."""

    def commit_observed(self, folder: Path, seconds: float, records: int) -> None:
        """A commit of ``records`` changed records took ``seconds`` (durable replace)."""

    def checkpoint_observed(self, folder: Path, seconds: float, documents: int) -> None:
        """A checkpoint rewriting ``documents`` documents took ``seconds``."""


_observers: weakref.WeakSet[StoreObserver] = weakref.WeakSet()
_guard = threading.Lock()  # registered from the event loop, called from worker threads


def add_observer(observer: StoreObserver) -> None:
    """Call ``observer`` after every commit and checkpoint in this process (held weakly)."""
    with _guard:
        _observers.add(observer)


def remove_observer(observer: StoreObserver) -> None:
    """Stop calling ``observer``."""
    with _guard:
        _observers.discard(observer)


def _current() -> list[StoreObserver]:
    with _guard:
        return list(_observers)


def commit_done(folder: Path, began: float, changes: Mapping[str, Mapping[str, Any]]) -> None:
    """Report a commit that started at ``time.perf_counter()`` value ``began``."""
    if not _observers:
        return
    seconds = time.perf_counter() - began
    records = sum(len(recs) for recs in changes.values())
    for observer in _current():
        try:
            observer.commit_observed(folder, seconds, records)
        except Exception:
            _log.exception("a store observer failed")


def checkpoint_done(folder: Path, began: float, documents: int) -> None:
    """Report a checkpoint that started at ``time.perf_counter()`` value ``began``."""
    if not _observers:
        return
    seconds = time.perf_counter() - began
    for observer in _current():
        try:
            observer.checkpoint_observed(folder, seconds, documents)
        except Exception:
            _log.exception("a store observer failed")


def _count_journals(store_folder: Path) -> int:
    total = 0
    try:
        folders = [store_folder, *(entry for entry in store_folder.iterdir()
                                   if entry.is_dir() and entry.name != "quarantine")]
        for folder in folders:
            total += sum(1 for name in os.listdir(folder) if parse_journal_name(name))
    except FileNotFoundError:
        return total
    except OSError as exc:
        raise StoreIOError.from_os_error(f"listing {store_folder}", exc) from exc
    return total


async def journal_backlog(store_folder: str | os.PathLike[str]) -> int:
    """How many journal files in a store's folder (and its collection sub-folders) wait
    to be folded into documents by a checkpoint.

    Reads the folder listing only, so it works beside a writer (from any process)
    and sees its latest commits.
    """
    return await run_io(_count_journals, Path(store_folder))
