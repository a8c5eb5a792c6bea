"""How the dashboard shows times and ages (pure functions, also used as template filters)."""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = [
    "AGE_CLASSES",
    "AGING_DAYS",
    "FRESH_DAYS",
    "age_class",
    "age_days",
    "clock_time",
    "millis",
    "relative",
]

FRESH_DAYS = 1
"""Data checked this many days ago or less is fresh (today or yesterday)."""
AGING_DAYS = 7
"""Older than fresh, up to this many days: aging; older still: stale."""
_DECIMAL_BELOW_MS = 10
_SECONDS_FROM_MS = 10_000
AGE_CLASSES = ("fresh", "aging", "stale", "never")
"""CSS classes of data age: checked today or yesterday, within a week, older, never."""


def relative(when: datetime | None, now: datetime) -> str:
    """``when`` as a distance from ``now``: ``in 5 min``, ``3 h ago``, ``now``, ``-``."""
    if when is None:
        return "-"
    seconds = (when - now).total_seconds()
    span = abs(seconds)
    if span < 1:
        return "now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        if span >= size:
            amount = f"{int(span // size)} {unit}"
            break
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def clock_time(when: datetime | None) -> str:
    """``when`` in UTC as ``2026-12-01 21:40:05 UTC`` (``-`` for None)."""
    if when is None:
        return "-"
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def age_days(day: date | datetime | None, today: date) -> int | None:
    """Whole days from ``day`` to ``today`` (None for never)."""
    if day is None:
        return None
    if isinstance(day, datetime):
        day = day.date()
    return (today - day).days


def age_class(days: int | None) -> str:
    """The colour class of data ``days`` old: fresh (<= 1), aging (<= 7), stale, never."""
    if days is None:
        return "never"
    if days <= FRESH_DAYS:
        return "fresh"
    if days <= AGING_DAYS:
        return "aging"
    return "stale"


def millis(seconds: float) -> str:
    """A duration as ``0.4 ms``, ``83 ms`` or ``2.5 s``."""
    ms = seconds * 1000
    if ms < _DECIMAL_BELOW_MS:
        return f"{ms:.1f} ms"
    if ms < _SECONDS_FROM_MS:
        return f"{ms:.0f} ms"
    return f"{seconds:.1f} s"
