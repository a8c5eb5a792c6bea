"""Time arithmetic of the scheduler: retry backoff and the next run of a recurring task.

Pure functions, so the rules can be read and tested on their own.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from tradestore.models._stamps import Clock

__all__ = ["Clock", "next_recurring_run", "retry_delay", "utc_now"]


def utc_now() -> datetime:
    """The default clock: the current time in UTC."""
    return datetime.now(UTC)


def retry_delay(retry_count: int, *, base: float, maximum: float) -> timedelta:
    """The wait before retry number ``retry_count`` (1 for the first retry).

    ``min(maximum, base * 2 ** (retry_count - 1))`` seconds; never negative.
    """
    if retry_count < 1:
        return timedelta(0)
    # Cap the exponent so a huge retry count cannot overflow the float.
    exponent = min(retry_count - 1, 1023)
    seconds = min(maximum, base * math.ldexp(1.0, exponent))
    return timedelta(seconds=max(0.0, seconds))


def next_recurring_run(planned: datetime, interval_seconds: float, now: datetime) -> datetime:
    """The first run after ``now`` on the grid ``planned + k * interval`` (k >= 1).

    The grid keeps the task on its schedule (a run that took long does not drift
    the next one), and a task that missed several runs while the scheduler was
    down is planned once, for the next slot after ``now``: it is not replayed once
    per missed interval.
    """
    if interval_seconds <= 0:
        raise ValueError(f"interval_seconds must be positive, got {interval_seconds!r}")
    step = timedelta(seconds=interval_seconds)
    candidate = planned + step
    if candidate > now:
        return candidate
    missed = math.floor((now - planned) / step)
    candidate = planned + step * missed
    while candidate <= now:  # float rounding may leave it one step short
        candidate += step
    return candidate
