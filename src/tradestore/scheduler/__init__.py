"""The background scheduler: runs ``TaskStore`` tasks through handlers registered per type."""

from tradestore.scheduler.context import (
    Handler,
    HandlerContext,
    HandlerResult,
    MissingDependencyError,
)
from tradestore.scheduler.core import Scheduler
from tradestore.scheduler.events import EventKind, RunStats, TaskEvent, UnknownTaskTypeError
from tradestore.scheduler.timing import Clock, next_recurring_run, retry_delay, utc_now

__all__ = [
    "Clock",
    "EventKind",
    "Handler",
    "HandlerContext",
    "HandlerResult",
    "MissingDependencyError",
    "RunStats",
    "Scheduler",
    "TaskEvent",
    "UnknownTaskTypeError",
    "next_recurring_run",
    "retry_delay",
    "utc_now",
]
