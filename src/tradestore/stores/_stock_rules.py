"""The pure rules of StockStateStore: partitioning, the time zone, when a fetch is due."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tradestore.errors import ValidationError
from tradestore.models import StockSchedulerState, ensure_bool, normalize_symbol

__all__ = [
    "CHECKED_AT",
    "KINDS",
    "PARTITIONS",
    "SymbolKeys",
    "distinct_symbols",
    "is_due",
    "oldest_first",
    "partition",
    "zone",
]

_log = logging.getLogger(__name__)
PARTITIONS = 1024
KINDS = {  # kind of fetch -> the state field holding the date of the last one
    "news": "last_news_check",
    "earnings": "last_earnings_check",
    "fundamentals": "last_fundamentals_check",
}
CHECKED_AT = {  # kind of fetch -> the state field holding when the last one was recorded
    "news": "last_news_checked_at",
    "earnings": "last_earnings_checked_at",
    "fundamentals": "last_fundamentals_checked_at",
}
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


def partition(symbol: str) -> str:
    """The document a normalised symbol lives in: a stable hash, never the symbol itself."""
    return f"{zlib.crc32(symbol.encode()) % PARTITIONS:03x}"


def zone(tz: object) -> ZoneInfo:
    """The IANA zone named ``tz`` (a ZoneInfo is taken as is); ValidationError if unknown."""
    if isinstance(tz, ZoneInfo):
        return tz
    if not isinstance(tz, str):
        raise ValidationError(f"tz: expected an IANA zone name, got {tz!r:.80}", field="tz")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationError(f"tz: unknown IANA zone {tz!r:.80}", field="tz") from exc


class SymbolKeys:
    """Symbol string -> (normalised symbol, document), remembering recent strings."""

    __slots__ = ("_cache", "_size")

    def __init__(self, size: int = 65_536) -> None:
        self._cache: dict[str, tuple[str, str]] = {}
        self._size = size

    def __call__(self, symbol: object) -> tuple[str, str]:
        """The key of ``symbol``; raises ValidationError for a malformed one."""
        if type(symbol) is not str:
            return self._compute(symbol)
        hit = self._cache.get(symbol)
        if hit is None:
            hit = self._compute(symbol)
            if len(self._cache) >= self._size:
                self._cache.clear()  # bounded: arbitrary inputs cannot grow it forever
            self._cache[symbol] = hit
        return hit

    @staticmethod
    def _compute(symbol: object) -> tuple[str, str]:
        sym = normalize_symbol(symbol)
        return sym, partition(sym)


def is_due(kind: str, state: StockSchedulerState | None, today: date, interval: int) -> bool:
    """Whether a fetch of ``kind`` is due: never done, ``interval`` days ago or more, flagged."""
    if state is None:
        return True
    if kind == "fundamentals" and state.needs_fundamentals_recheck:
        return True
    last: date | None = getattr(state, KINDS[kind])
    return last is None or (today - last).days >= interval


def oldest_first(
    found: Sequence[tuple[str, StockSchedulerState | None]], kind: str, limit: int | None
) -> list[str]:
    """Up to ``limit`` symbols, fairest first: never checked for ``kind`` (in input order),
    then by oldest check date; among equal dates, the check recorded longest ago first
    (one with no recorded time, from older data, counts as longest ago), then input order.
    """
    field, stamp = KINDS[kind], CHECKED_AT[kind]

    def rank(index: int) -> tuple[bool, date, datetime, int]:
        state = found[index][1]
        if state is None:
            return (False, date.min, _LONG_AGO, index)
        last: date | None = getattr(state, field)
        if last is None:
            return (False, date.min, _LONG_AGO, index)
        at: datetime | None = getattr(state, stamp)
        return (True, last, _LONG_AGO if at is None else at, index)

    return [found[i][0] for i in sorted(range(len(found)), key=rank)[:limit]]


def distinct_symbols(symbols: object, skip_invalid: object = False) -> list[str]:
    """The normalised symbols of ``symbols``, first occurrence kept (batch queries' input).

    With ``skip_invalid`` malformed entries are left out and logged (one WARNING
    naming them); otherwise the first raises ``ValidationError``.
    """
    if isinstance(symbols, str | bytes) or not isinstance(symbols, Iterable):
        raise ValidationError("symbols: expected an iterable of symbols (not a str)",
                              field="symbols")
    skip = ensure_bool(skip_invalid, "skip_invalid")
    keys: dict[str, None] = {}
    skipped: list[object] = []
    for symbol in symbols:
        try:
            keys.setdefault(normalize_symbol(symbol))
        except ValidationError:
            if not skip:
                raise
            skipped.append(symbol)
    if skipped:
        _log.warning("skipped %d invalid symbol(s): %s", len(skipped),
                     ", ".join(f"{s!r:.40}" for s in skipped[:10]))
    return list(keys)
