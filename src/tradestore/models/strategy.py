"""Daily strategy journals and the performance summaries computed from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Self

import msgspec

from tradestore.models._base import Model
from tradestore.models._checks import (
    ensure_aware,
    ensure_date,
    ensure_finite,
    ensure_non_negative_int,
    ensure_str_list,
    ensure_strategy_name,
)
from tradestore.models._copies import copy_container, copy_json
from tradestore.models._json_checks import ensure_json_object, ensure_token_usage
from tradestore.models._stamps import utc_now

__all__ = [
    "TOKEN_SETTING_WORDS",
    "PerformanceSummary",
    "StrategyLog",
    "is_token_counter",
    "merge_token_usage",
]

TOKEN_SETTING_WORDS = frozenset({"limit", "max", "min", "quota", "budget", "cap"})
"""Words that make a ``token_usage`` key a setting, not a count (see is_token_counter)."""


def is_token_counter(key: str) -> bool:
    """Whether the ``token_usage`` value under ``key`` is a count (summed when logs merge).

    A key is a *setting* instead (the newer value replaces the older) when one of
    its words, split at ``_``, ``-``, ``.``, ``:`` or blanks and lower-cased, is in
    :data:`TOKEN_SETTING_WORDS`: ``"limit"``, ``"max_tokens"``, ``"daily-quota"``,
    ``"gpt-4o.limit"``. Every other key (``"input"``, ``"gpt-4o"``, ``"total"``) is
    a count.
    """
    words = key.lower().replace("-", "_").replace(".", "_").replace(":", "_").split("_")
    return not any(word.strip() in TOKEN_SETTING_WORDS for word in words)


def merge_token_usage(old: dict[str, int], new: dict[str, int]) -> dict[str, int]:
    """``old`` with ``new`` added: counts summed, settings (limits) replaced; a new dict."""
    merged = dict(old)
    for key, value in new.items():
        merged[key] = merged.get(key, 0) + value if is_token_counter(key) else value
    return merged


class StrategyLog(Model):
    """One strategy's journal for one day; ``strategy_type`` is filled in by the store."""

    date: dt.date
    strategy_type: str = ""
    what_worked: list[str] = msgspec.field(default_factory=list)
    what_didnt_work: list[str] = msgspec.field(default_factory=list)
    tomorrows_focus: list[str] = msgspec.field(default_factory=list)
    market_observations: list[str] = msgspec.field(default_factory=list)
    trades_executed: int = 0
    wins: int = 0
    losses: int = 0
    pnl_realized: float = 0.0
    token_usage: dict[str, int] = msgspec.field(default_factory=dict)
    """Token counts by model or kind; limits may sit beside them (see is_token_counter)."""
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: dt.datetime = msgspec.field(default_factory=utc_now)
    updated_at: dt.datetime = msgspec.field(default_factory=utc_now)

    def validate(self) -> None:
        """Check every field; raise ``ValidationError`` naming the first bad one."""
        self.date = ensure_date(self.date, "date")
        if self.strategy_type != "":
            self.strategy_type = ensure_strategy_name(self.strategy_type)
        ensure_str_list(self.what_worked, "what_worked")
        ensure_str_list(self.what_didnt_work, "what_didnt_work")
        ensure_str_list(self.tomorrows_focus, "tomorrows_focus")
        ensure_str_list(self.market_observations, "market_observations")
        self.trades_executed = ensure_non_negative_int(self.trades_executed, "trades_executed")
        self.wins = ensure_non_negative_int(self.wins, "wins")
        self.losses = ensure_non_negative_int(self.losses, "losses")
        self.pnl_realized = ensure_finite(self.pnl_realized, "pnl_realized")
        ensure_token_usage(self.token_usage)
        ensure_json_object(self.metadata, "metadata")
        self.created_at = ensure_aware(self.created_at, "created_at")
        self.updated_at = ensure_aware(self.updated_at, "updated_at")

    def clone(self) -> Self:
        """A deep copy sharing no list or dict with this log."""
        # Inlined: period queries clone every log they return (a hot path).
        copied: Self = self.__copy__()  # type: ignore[attr-defined]  # msgspec.Struct has it
        v: Any = self.what_worked
        copied.what_worked = v.copy() if type(v) is list else copy_container(v)
        v = self.what_didnt_work
        copied.what_didnt_work = v.copy() if type(v) is list else copy_container(v)
        v = self.tomorrows_focus
        copied.tomorrows_focus = v.copy() if type(v) is list else copy_container(v)
        v = self.market_observations
        copied.market_observations = v.copy() if type(v) is list else copy_container(v)
        v = self.token_usage
        copied.token_usage = v.copy() if type(v) is dict else copy_container(v)
        v = self.metadata
        copied.metadata = copy_json(v) if v or type(v) is not dict else {}
        return copied


class PerformanceSummary(Model):
    """Totals over a strategy's logs for a period; ``win_rate`` is a percentage."""

    period_days: int = 0
    total_logs: int = 0
    total_trades: int = 0
    total_wins: int = 0
    total_losses: int = 0
    win_rate: float = 0.0
    total_pnl: float = 0.0
    avg_pnl_per_trade: float = 0.0

    def validate(self) -> None:
        """Check every field; raise ``ValidationError`` naming the first bad one."""
        ensure_non_negative_int(self.period_days, "period_days")
        ensure_non_negative_int(self.total_logs, "total_logs")
        ensure_non_negative_int(self.total_trades, "total_trades")
        ensure_non_negative_int(self.total_wins, "total_wins")
        ensure_non_negative_int(self.total_losses, "total_losses")
        self.win_rate = ensure_finite(self.win_rate, "win_rate", minimum=0.0, maximum=100.0)
        self.total_pnl = ensure_finite(self.total_pnl, "total_pnl")
        self.avg_pnl_per_trade = ensure_finite(self.avg_pnl_per_trade, "avg_pnl_per_trade")

    def to_dict(self) -> dict[str, Any]:
        """The summary as a plain JSON-ready dict, fields in declaration order."""
        return {name: getattr(self, name) for name in self.__struct_fields__}

    @classmethod
    def from_logs(cls, logs: Iterable[StrategyLog], period_days: int) -> Self:
        """Sum ``logs``: win_rate = wins / (wins + losses) * 100, averages 0 when empty."""
        total_logs = total_trades = total_wins = total_losses = 0
        total_pnl = 0.0
        for log in logs:
            total_logs += 1
            total_trades += log.trades_executed
            total_wins += log.wins
            total_losses += log.losses
            total_pnl += log.pnl_realized
        decided = total_wins + total_losses
        return cls(
            period_days=period_days,
            total_logs=total_logs,
            total_trades=total_trades,
            total_wins=total_wins,
            total_losses=total_losses,
            win_rate=total_wins / decided * 100.0 if decided else 0.0,
            total_pnl=total_pnl,
            avg_pnl_per_trade=total_pnl / total_trades if total_trades else 0.0,
        )
