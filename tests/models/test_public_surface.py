"""The names the reference (docs/reference.md) promises are importable from the package."""

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
]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_models_are_exported(name: str) -> None:
    assert name in tradestore.__all__
    assert getattr(tradestore, name) is getattr(tradestore.models, name)


def test_all_lists_are_sorted_and_resolve() -> None:
    assert tradestore.__all__ == sorted(tradestore.__all__)
    for module_name in (
        "tradestore",
        "tradestore.models",
        "tradestore.models._validation",
        "tradestore.models.task",
        "tradestore.models.stock",
        "tradestore.models.strategy",
        "tradestore.models.fundamental",
    ):
        module = importlib.import_module(module_name)
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.{name}"
