"""Open the four stores on one data folder together, and build a handler context from them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tradestore import FundamentalStore, StockStateStore, StrategyLogStore, TaskStore
from tradestore.errors import ValidationError
from tradestore.persistence import JOURNAL_MODES
from tradestore.scheduler.context import HandlerContext
from tradestore.scheduler.market import MarketDataSource
from tradestore.scheduler.timing import Clock, utc_now
from tradestore.stores._stock_rules import zone

__all__ = ["Stores", "open_stores"]


@dataclass(frozen=True, slots=True)
class Stores:
    """The four stores of one data folder."""

    tasks: TaskStore
    stocks: StockStateStore
    strategy_logs: StrategyLogStore
    fundamentals: FundamentalStore

    def context(
        self,
        *,
        market: MarketDataSource | None = None,
        watchlist: Sequence[str] = (),
        clock: Clock = utc_now,
    ) -> HandlerContext:
        """A handler context over these stores."""
        return HandlerContext(
            tasks=self.tasks,
            stocks=self.stocks,
            strategy_logs=self.strategy_logs,
            fundamentals=self.fundamentals,
            market=market,
            watchlist=tuple(watchlist),
            clock=clock,
        )


@contextlib.asynccontextmanager
async def open_stores(  # noqa: PLR0913  the folder, then one keyword per store option
    data_dir: str | os.PathLike[str],
    *,
    read_only: bool = False,
    durable: bool = True,
    clock: Clock | None = None,
    tz: str | ZoneInfo = "UTC",
    journal: str = "files",
) -> AsyncIterator[Stores]:
    """Initialize the four stores on ``data_dir``; close them all on the way out.

    ``tz`` (an IANA zone name such as ``"Asia/Kolkata"``) is the zone of "today"
    for the stores that have one: StockStateStore (when a check is due),
    StrategyLogStore (today's log) and FundamentalStore (one analysis a day).
    If one fails to open (``StoreLockedError``, ``StoreCorruptedError``) the ones
    already open are closed before the error propagates.

    ``journal`` (``"files"`` or ``"append"``) is every store's journal mode
    (see the README's durability section).

    :raises ValidationError: ``tz`` is not a known zone, or ``journal`` not a
        mode (before anything opens).
    """
    zone_info = zone(tz)
    if journal not in JOURNAL_MODES:
        raise ValidationError(f"journal must be one of {', '.join(JOURNAL_MODES)}, "
                              f"not {journal!r}", field="journal")
    async with contextlib.AsyncExitStack() as stack:
        tasks = await stack.enter_async_context(
            TaskStore(data_dir, durable=durable, read_only=read_only, clock=clock,
                      journal=journal)
        )
        stocks = await stack.enter_async_context(
            StockStateStore(data_dir, tz=zone_info, durable=durable, read_only=read_only,
                            clock=clock, journal=journal)
        )
        strategy_logs = await stack.enter_async_context(
            StrategyLogStore(data_dir, tz=zone_info, durable=durable, read_only=read_only,
                             clock=clock, journal=journal)
        )
        fundamentals = await stack.enter_async_context(
            FundamentalStore(data_dir, tz=zone_info, durable=durable, read_only=read_only,
                             clock=clock, journal=journal)
        )
        yield Stores(tasks, stocks, strategy_logs, fundamentals)
