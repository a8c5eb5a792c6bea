"""The public ``needs_*`` / ``get_*`` / ``update_*`` methods of StockStateStore, once.

Both backends inherit them: each method only picks the kind of fetch or the
fields to set, and calls the backend's own ``_needs_one`` / ``_needing`` /
``_oldest`` (reads) and ``_set`` (an upsert of some fields with ``updated_at``).
Recording the time of each check beside its date (the tie-break of oldest-first)
lives here, so the backends cannot disagree on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tradestore.models._checks import ensure_aware, ensure_date

__all__ = ["StockStateMethods"]


class StockStateMethods:
    """The StockStateStore methods both backends share."""

    if TYPE_CHECKING:  # provided by each backend

        def now(self) -> datetime: ...

        def today(self) -> date: ...

        async def _needs_one(self, kind: str, symbol: str) -> bool: ...

        async def _needing(self, kind: str, symbols: Iterable[str],
                           skip_invalid: bool) -> list[str]: ...

        async def _oldest(self, kind: str, symbols: Iterable[str], limit: int | None,
                          skip_invalid: bool) -> list[str]: ...

        async def _set(self, symbol: str, **fields: Any) -> None: ...

    async def needs_news_fetch(self, symbol: str) -> bool:
        return await self._needs_one("news", symbol)

    async def needs_earnings_fetch(self, symbol: str) -> bool:
        return await self._needs_one("earnings", symbol)

    async def needs_fundamentals_check(self, symbol: str) -> bool:
        return await self._needs_one("fundamentals", symbol)

    async def get_stocks_needing_news(
        self, symbols: Iterable[str], *, skip_invalid: bool = False
    ) -> list[str]:
        return await self._needing("news", symbols, skip_invalid)

    async def get_stocks_needing_earnings(
        self, symbols: Iterable[str], *, skip_invalid: bool = False
    ) -> list[str]:
        return await self._needing("earnings", symbols, skip_invalid)

    async def get_stocks_needing_fundamentals(
        self, symbols: Iterable[str], *, skip_invalid: bool = False
    ) -> list[str]:
        return await self._needing("fundamentals", symbols, skip_invalid)

    async def get_oldest_news_stocks(
        self, symbols: Iterable[str], limit: int | None = 5, *, skip_invalid: bool = False
    ) -> list[str]:
        return await self._oldest("news", symbols, limit, skip_invalid)

    async def get_oldest_earnings_stocks(
        self, symbols: Iterable[str], limit: int | None = 5, *, skip_invalid: bool = False
    ) -> list[str]:
        return await self._oldest("earnings", symbols, limit, skip_invalid)

    async def get_oldest_fundamentals_stocks(
        self, symbols: Iterable[str], limit: int | None = 5, *, skip_invalid: bool = False
    ) -> list[str]:
        return await self._oldest("fundamentals", symbols, limit, skip_invalid)

    # -- writes -----------------------------------------------------------------------------

    def _day(self, value: date | None) -> date:
        return self.today() if value is None else ensure_date(value, "check_date")

    async def update_news_check(self, symbol: str, check_date: date | None = None) -> None:
        await self._set(symbol, last_news_check=self._day(check_date),
                        last_news_checked_at=self.now())

    async def update_earnings_check(self, symbol: str, check_date: date | None = None) -> None:
        await self._set(symbol, last_earnings_check=self._day(check_date),
                        last_earnings_checked_at=self.now())

    async def update_fundamentals_check(
        self, symbol: str, check_date: date | None = None
    ) -> None:
        await self._set(symbol, last_fundamentals_check=self._day(check_date),
                        last_fundamentals_checked_at=self.now(),
                        needs_fundamentals_recheck=False)

    async def flag_fundamentals_recheck(self, symbol: str) -> None:
        await self._set(symbol, needs_fundamentals_recheck=True)

    async def update_analysis_check(
        self, symbol: str, check_time: datetime | None = None
    ) -> None:
        at = self.now() if check_time is None else ensure_aware(check_time, "check_time")
        await self._set(symbol, last_analysis_check=at)

    async def update_portfolio_update(self, symbol: str, when: datetime | None = None) -> None:
        at = self.now() if when is None else ensure_aware(when, "when")
        await self._set(symbol, last_portfolio_update=at)
