"""clone() of every public model shares no mutable container with the original.

Stores hand out clones of their cached records: a shared list, dict or nested
model would let a caller's change reach the cache.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

import tradestore.models
from tradestore.models import (
    BackgroundTask,
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    NewsItem,
    PerformanceSummary,
    RunOutcome,
    SchedulerHeartbeat,
    StockSchedulerState,
    StrategyLog,
    TaskPriority,
    TaskRun,
)
from tradestore.models._base import Model

AT = datetime(2025, 6, 2, 14, 30, tzinfo=UTC)
NESTED: dict[str, Any] = {"a": [1, {"b": [2, 3]}], "c": {"d": {"e": "f"}}}

# One sample per public model, every container field filled, JSON fields nested.
def _run() -> TaskRun:
    return TaskRun(started_at=AT, finished_at=AT, outcome=RunOutcome.SUCCEEDED,
                   duration_seconds=1.0, planned_at=AT)


SAMPLES: dict[type[Model], Callable[[], Model]] = {
    BackgroundTask: lambda: BackgroundTask(
        task_id="t", task_type="news_daily", priority=TaskPriority.HIGH, execute_at=AT,
        metadata=dict(NESTED, symbols=["AAPL"]), history=[_run(), _run()],
    ),
    TaskRun: _run,
    SchedulerHeartbeat: lambda: SchedulerHeartbeat(
        scheduler_id="host:1:abcd", host="host", pid=1, started_at=AT, last_beat=AT,
        running=["t"],
    ),
    StockSchedulerState: lambda: StockSchedulerState(symbol="AAPL", updated_at=AT),
    StrategyLog: lambda: StrategyLog(
        date=date(2025, 6, 2), strategy_type="momentum", what_worked=["a"],
        what_didnt_work=["b"], tomorrows_focus=["c"], market_observations=["d"],
        token_usage={"in": 1}, metadata=dict(NESTED), created_at=AT, updated_at=AT,
    ),
    PerformanceSummary: lambda: PerformanceSummary(period_days=30, total_logs=1),
    FundamentalSnapshot: lambda: FundamentalSnapshot(
        symbol="AAPL", as_of=date(2025, 6, 2), fetched_at=AT, pe_ratio=20.0,
        extra=dict(NESTED),
    ),
    EarningsReport: lambda: EarningsReport(
        symbol="AAPL", fiscal_period="2025Q2", report_date=date(2025, 6, 2),
        extra=dict(NESTED),
    ),
    NewsItem: lambda: NewsItem(
        title="t", url="https://example.com/a", symbol="AAPL", published_at=AT,
    ),
    FundamentalAnalysis: lambda: FundamentalAnalysis(
        symbol="AAPL", analyzed_at=AT, recommendation="buy", confidence=0.5,
        scores={"q": 1.0}, extra=dict(NESTED),
    ),
}


def _containers(value: Any) -> Iterator[Any]:
    """Every list, dict and struct reachable from ``value``, itself included."""
    if isinstance(value, msgspec.Struct):
        yield value
        for name in value.__struct_fields__:
            yield from _containers(getattr(value, name))
    elif isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _containers(item)
    elif isinstance(value, list | set):
        yield value
        for item in value:
            yield from _containers(item)


def _public_models() -> list[type[Model]]:
    return [value for name in tradestore.models.__all__
            if inspect.isclass(value := getattr(tradestore.models, name))
            and issubclass(value, Model)]


def test_every_public_model_has_a_sample() -> None:
    missing = [cls.__name__ for cls in _public_models() if cls not in SAMPLES]
    assert not missing, f"add a sample with every container field filled for {missing}"


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_clone_is_equal_and_shares_no_container(cls: type[Model]) -> None:
    original = SAMPLES[cls]()
    copy = original.clone()
    assert type(copy) is cls
    assert copy == original
    shared = {id(c) for c in _containers(original)} & {id(c) for c in _containers(copy)}
    assert not shared, f"{cls.__name__}.clone() shares {len(shared)} container(s)"
