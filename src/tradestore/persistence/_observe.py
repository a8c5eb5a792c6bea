"""Optional observers of the file layer's commits and checkpoints (for metrics).

The layer calls :func:`commit_done` and :func:`checkpoint_done` after each
successful commit and checkpoint. With no observer registered they return at
once; an observer is held weakly (it goes away with its owner, e.g. a
dashboard app) and one that raises is logged, never allowed to fail a write.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

__all__ = ["StoreObserver", "add_observer", "checkpoint_done", "commit_done", "remove_observer"]

_log = logging.getLogger(__name__)


class StoreObserver(Protocol):
    """What an observer implements; ``folder`` is the collection's folder."""

    def commit_observed(self, folder: Path, seconds: float, records: int) -> None:
        """A commit of ``records`` changed records took ``seconds`` (durable replace)."""

    def checkpoint_observed(self, folder: Path, seconds: float, documents: int) -> None:
        """A checkpoint rewriting ``documents`` documents took ``seconds``."""


_observers: weakref.WeakSet[StoreObserver] = weakref.WeakSet()


def add_observer(observer: StoreObserver) -> None:
    """Call ``observer`` after every commit and checkpoint in this process (held weakly)."""
    _observers.add(observer)


def remove_observer(observer: StoreObserver) -> None:
    """Stop calling ``observer``."""
    _observers.discard(observer)


def commit_done(folder: Path, began: float, changes: Mapping[str, Mapping[str, Any]]) -> None:
    """Report a commit that started at ``time.perf_counter()`` value ``began``."""
    if not _observers:
        return
    seconds = time.perf_counter() - began
    records = sum(len(recs) for recs in changes.values())
    for observer in list(_observers):
        try:
            observer.commit_observed(folder, seconds, records)
        except Exception:
            _log.exception("a store observer failed")


def checkpoint_done(folder: Path, began: float, documents: int) -> None:
    """Report a checkpoint that started at ``time.perf_counter()`` value ``began``."""
    if not _observers:
        return
    seconds = time.perf_counter() - began
    for observer in list(_observers):
        try:
            observer.checkpoint_observed(folder, seconds, documents)
        except Exception:
            _log.exception("a store observer failed")
