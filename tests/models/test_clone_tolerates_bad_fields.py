"""clone() never raises on a model a caller broke after construction; validate() refuses it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from tradestore import FundamentalAnalysis, StrategyLog, ValidationError


def _log() -> Any:
    return StrategyLog(date=date(2025, 1, 1), what_worked=["a"], token_usage={"in": 1})


def _analysis() -> Any:
    return FundamentalAnalysis(symbol="AAPL", analyzed_at=datetime(2025, 1, 1, tzinfo=UTC),
                               recommendation="buy", confidence=0.5, scores={"q": 1.0})


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (_log, "what_worked", None),
        (_log, "what_didnt_work", 5),
        (_log, "tomorrows_focus", "not a list"),
        (_log, "market_observations", {"a": 1}),
        (_log, "token_usage", ["x"]),
        (_analysis, "scores", None),
        (_analysis, "recommendation", []),
        (_analysis, "recommendation", {"buy": 1}),
    ],
)
def test_broken_field_gives_validation_error_not_type_error(
    make: Any, field: str, value: object
) -> None:
    model = make()
    setattr(model, field, value)
    copy = model.clone()  # must not raise: stores clone before validating
    with pytest.raises(ValidationError) as info:
        copy.validate()
    assert info.value.field == field
    assert getattr(model, field) == value  # the caller's object is untouched
