"""The pure rules of FundamentalStore that both backends share: ranges and staleness."""

from __future__ import annotations

import datetime as dt

from tradestore.errors import ValidationError
from tradestore.models import FundamentalSnapshot, ensure_optional_date

__all__ = ["check_max_age", "check_range", "is_stale"]


def check_range(start: dt.date | None, end: dt.date | None) -> None:
    """Raise ``ValidationError`` unless ``start`` and ``end`` are dates (or None) in order."""
    ensure_optional_date(start, "start")
    ensure_optional_date(end, "end")
    if start is not None and end is not None and start > end:
        raise ValidationError(f"start {start} is after end {end}", field="start")


def check_max_age(max_age: object) -> dt.timedelta:
    """``max_age`` if it is a non-negative timedelta, else ``ValidationError``."""
    if not isinstance(max_age, dt.timedelta) or max_age < dt.timedelta(0):
        raise ValidationError(f"max_age: expected a non-negative timedelta, got "
                              f"{max_age!r:.80}", field="max_age")
    return max_age


def is_stale(latest: FundamentalSnapshot | None, now: dt.datetime,
             max_age: dt.timedelta) -> bool:
    """No snapshot, or the latest was fetched more than ``max_age`` before ``now``."""
    return latest is None or now - latest.fetched_at > max_age
