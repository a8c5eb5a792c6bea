"""The names API.md promises are importable from the top-level package."""

from __future__ import annotations

import importlib

import pytest

import tradestore
import tradestore.models

MODEL_NAMES = [
    "BackgroundTask",
    "TaskType",
    "TaskPriority",
    "TaskStatus",
    "StockSchedulerState",
    "StrategyLog",
    "PerformanceSummary",
    "FundamentalSnapshot",
    "EarningsReport",
    "NewsItem",
    "FundamentalAnalysis",
    "TaskRun",
    "RunOutcome",
    "SchedulerHeartbeat",
    "MAX_TASK_HISTORY",
]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_models_are_exported(name: str) -> None:
    assert name in tradestore.__all__
    assert getattr(tradestore, name) is getattr(tradestore.models, name)


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS first, then Classes, then functions, each sorted."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def test_all_lists_are_sorted_and_resolve() -> None:
    assert tradestore.__all__ == sorted(tradestore.__all__, key=_isort_key)
    for module_name in (
        "tradestore",
        "tradestore.models",
        "tradestore.models._validation",
        "tradestore.models.task",
        "tradestore.models.run",
        "tradestore.models.stock",
        "tradestore.models.strategy",
        "tradestore.models.fundamental",
    ):
        module = importlib.import_module(module_name)
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.{name}"
