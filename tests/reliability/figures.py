"""Counts the suites report (crash points swept, faults injected, ...), for docs/reliability.md."""

from __future__ import annotations

from collections import Counter

__all__ = ["FIGURES", "count"]

FIGURES: Counter[str] = Counter()


def count(name: str, n: int = 1, *, store: str | None = None) -> None:
    """Add ``n`` to the figure ``name`` (and to its per-store line when ``store`` is given)."""
    FIGURES[name] += n
    if store is not None:
        FIGURES[f"{name}[{store}]"] += n
