"""Open the four stores on one location together, and build a handler context from them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tradestore import FundamentalStore, StockStateStore, StrategyLogStore, TaskStore
from tradestore.contracts import Location, backend_of
from tradestore.persistence._applog import ensure_journal_mode
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
async def open_stores(  # noqa: PLR0913  the location, then one keyword per store option
    location: Location,
    *,
    read_only: bool = False,
    durable: bool = True,
    clock: Clock | None = None,
    tz: str | ZoneInfo = "UTC",
    journal: str = "files",
) -> AsyncIterator[Stores]:
    """Initialize the four stores on ``location``; close them all on the way out.

    ``location`` is a folder, a ``postgresql://`` URL (the four stores then share
    one connection pool, closed on the way out) or a ``tradestore.postgres.Database``
    (shared, and left open: its owner closes it).

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
    backend_of(location)  # ValidationError for anything that is not a location
    ensure_journal_mode(journal)
    async with contextlib.AsyncExitStack() as stack:
        data_dir = location
        if isinstance(location, str) and backend_of(location) == "postgres":
            from tradestore.postgres import Database  # noqa: PLC0415  # psycopg is an optional extra

            data_dir = await stack.enter_async_context(
                Database(location, migrate=not read_only))
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
