"""What a task handler receives: the stores, the market data source, the clock, the watchlist."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from tradestore.scheduler.timing import Clock, utc_now

if TYPE_CHECKING:
    from tradestore import (
        BackgroundTask,
        FundamentalStore,
        StockStateStore,
        StrategyLogStore,
        TaskStore,
    )
    from tradestore.scheduler.market import MarketDataSource

__all__ = ["Handler", "HandlerContext", "HandlerResult", "MissingDependencyError", "RunInfo"]

HandlerResult: TypeAlias = "dict[str, Any] | None"
"""What a handler returns: ``None`` or a JSON-able summary kept in the task's metadata."""

Handler: TypeAlias = "Callable[[BackgroundTask, HandlerContext], Awaitable[dict[str, Any] | None]]"
"""``async def handler(task, ctx) -> dict | None``: raise to fail the run (it is retried)."""

_T = TypeVar("_T")


class MissingDependencyError(RuntimeError):
    """A handler needs a store or a data source the scheduler was not given."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The run a handler is called for: ``ctx.run`` inside a handler.

    ``idempotency_key`` (task id and planned run time) is the same for every
    attempt of one slot of the schedule (a retry, or a rerun after a crash,
    repeats the key), and differs between slots. Use it to make side effects
    (orders, messages) happen once: the scheduler runs a task at most once at
    a time, but a run cut short by a crash is run again (at least once).
    """

    task_id: str
    planned_at: datetime
    started_at: datetime
    attempt: int
    scheduler_id: str
    host: str
    lease_token: int = 0

    @property
    def idempotency_key(self) -> str:
        """``"<task_id>@<planned_at ISO 8601 in UTC>"``."""
        return f"{self.task_id}@{self.planned_at.astimezone(UTC).isoformat()}"


@dataclass(slots=True)
class HandlerContext:
    """Everything a handler may use; the stores it does not need may be left out.

    ``watchlist`` is the default set of symbols for handlers whose task names none
    in ``task.metadata["symbols"]``. ``run`` is set by the scheduler on the copy
    each handler call receives (None outside a run).
    """

    tasks: TaskStore | None = None
    stocks: StockStateStore | None = None
    strategy_logs: StrategyLogStore | None = None
    fundamentals: FundamentalStore | None = None
    market: MarketDataSource | None = None
    watchlist: Sequence[str] = ()
    clock: Clock = field(default=utc_now)
    run: RunInfo | None = None

    def now(self) -> datetime:
        """The current time from the context's clock."""
        return self.clock()

    def symbols_for(self, task: BackgroundTask) -> list[str]:
        """The symbols a task works on: ``metadata["symbols"]`` if set, else the watchlist."""
        chosen = task.metadata.get("symbols")
        if isinstance(chosen, list) and chosen:
            return [str(s).strip().upper() for s in chosen]
        return [s.strip().upper() for s in self.watchlist]

    def require(self, value: _T | None, name: str) -> _T:
        """``value``, or a clear error naming what the handler was not given."""
        if value is None:
            raise MissingDependencyError(
                f"this handler needs the context's {name!r}, which the scheduler was not given"
            )
        return value
