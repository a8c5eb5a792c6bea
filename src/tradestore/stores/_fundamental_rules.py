"""The pure rules of FundamentalStore shared by every backend: same-day analyses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from tradestore.models import FundamentalAnalysis

__all__ = ["analysis_day", "same_day_keys"]


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
