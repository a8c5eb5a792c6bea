"""The pure rules of FundamentalStore shared by every backend: ranges, staleness, same day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from tradestore.errors import ValidationError
from tradestore.models import FundamentalAnalysis, FundamentalSnapshot, ensure_optional_date

__all__ = ["analysis_day", "check_max_age", "check_range", "is_stale", "same_day_keys"]


def analysis_day(analysis: FundamentalAnalysis, tz: ZoneInfo) -> dt.date:
    """The calendar day, in ``tz``, an analysis was made on."""
    return analysis.analyzed_at.astimezone(tz).date()


def same_day_keys(
    history: Mapping[str, FundamentalAnalysis], new: FundamentalAnalysis, tz: ZoneInfo
) -> list[str]:
    """The keys of the analyses in ``history`` made on ``new``'s calendar day in ``tz``:
    the ones ``save_analysis(new, replace_same_day=True)`` replaces."""
    day = analysis_day(new, tz)
    return [key for key, old in history.items() if analysis_day(old, tz) == day]


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
