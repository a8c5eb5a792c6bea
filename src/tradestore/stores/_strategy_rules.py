"""The pure rules of StrategyLogStore: the per-day merge, token usage, insights.

No dependency on the file layer: every backend merges and summarises with these.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from tradestore.models import StrategyLog
from tradestore.models._checks import ensure_non_negative_int
from tradestore.models._copies import copy_json
from tradestore.models.strategy import merge_token_usage

__all__ = ["MERGED_LISTS", "TOP_ITEMS", "extend_unique", "insights", "merge_logs", "month_of",
           "recent_span", "top_items"]

TOP_ITEMS = 5
MERGED_LISTS = ("what_worked", "what_didnt_work", "market_observations")


def month_of(day: dt.date) -> str:
    """The ``yyyy-mm`` a log of ``day`` is filed under."""
    return f"{day.year:04d}-{day.month:02d}"


def extend_unique(into: list[str], items: Iterable[str]) -> None:
    """Append each item not already in ``into``, keeping order."""
    seen = set(into)
    for item in items:
        if item not in seen:
            seen.add(item)
            into.append(item)


def top_items(lists: Iterable[list[str]]) -> list[str]:
    """The five most frequent items; Counter keeps first-seen order among equal counts."""
    counts: Counter[str] = Counter()
    for items in lists:
        counts.update(items)
    return [item for item, _ in counts.most_common(TOP_ITEMS)]


def merge_logs(
    old: StrategyLog | None, new: StrategyLog, strategy: str, now: dt.datetime
) -> StrategyLog:
    """The stored log after adding ``new`` onto ``old`` (neither is modified).

    Lists are extended without repeats (``tomorrows_focus`` replaced), counts and
    P&L summed, token usage merged by :func:`merge_token_usage`, metadata updated
    key by key, ``created_at`` kept (``now`` on the first add), ``updated_at`` = now.

    :raises ValidationError: a merged total is out of range.
    """
    if old is None:
        merged = new.clone()
        for name in (*MERGED_LISTS, "tomorrows_focus"):
            items: list[str] = []
            extend_unique(items, getattr(new, name))
            setattr(merged, name, items)
        merged.strategy_type = strategy
        merged.created_at = now
        merged.updated_at = now
        # No validate(): ``new`` is a validated copy, the lists only lost repeats, the
        # name was validated and ``now`` is aware (BaseStore.now checks it).
        return merged
    merged = old.clone()
    for name in MERGED_LISTS:
        extend_unique(getattr(merged, name), getattr(new, name))
    merged.tomorrows_focus = []
    extend_unique(merged.tomorrows_focus, new.tomorrows_focus)
    merged.trades_executed += new.trades_executed
    merged.wins += new.wins
    merged.losses += new.losses
    merged.pnl_realized += new.pnl_realized
    merged.token_usage = merge_token_usage(merged.token_usage, new.token_usage)
    merged.metadata.update(copy_json(new.metadata))
    merged.updated_at = now
    merged.validate()
    return merged


def recent_span(today: dt.date, days: object) -> tuple[dt.date, dt.date]:
    """The dates of "the last ``days`` days": ``today - days`` through ``today``.

    :raises ValidationError: ``days`` is not a non-negative int.
    """
    span = ensure_non_negative_int(days, "days")
    try:
        return today - dt.timedelta(days=span), today
    except OverflowError:
        return dt.date.min, today


def insights(logs: Sequence[StrategyLog], days: int) -> dict[str, Any]:
    """``get_insights``: the top what_worked / what_didnt_work items, the latest focus."""
    return {
        "period_days": days,
        "top_working_strategies": top_items(log.what_worked for log in logs),
        "top_failing_approaches": top_items(log.what_didnt_work for log in logs),
        "most_recent_focus": list(logs[-1].tomorrows_focus) if logs else [],
    }
