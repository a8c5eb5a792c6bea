"""StockSchedulerState."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from tradestore.errors import ValidationError
from tradestore.models import StockSchedulerState


def test_defaults_and_symbol_normalisation() -> None:
    before = datetime.now(UTC)
    state = StockSchedulerState("  brk.b ")
    assert state.symbol == "BRK.B"
    assert state.last_news_check is None
    assert state.last_earnings_check is None
    assert state.last_fundamentals_check is None
    assert state.last_portfolio_update is None
    assert state.last_analysis_check is None
    assert state.needs_fundamentals_recheck is False
    assert state.fetch_count == 0
    assert state.error_count == 0
    assert before <= state.updated_at <= datetime.now(UTC)
    assert state.updated_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("symbol", ""),
        ("symbol", "../../x"),
        ("symbol", "a/b"),
        ("symbol", ".."),
        ("symbol", "X" * 33),
        ("symbol", "AA\x00"),
        ("symbol", "ÄPFEL"),
        ("symbol", None),
        ("last_news_check", datetime(2025, 1, 1, tzinfo=UTC)),
        ("last_news_check", "2025-01-01"),
        ("last_earnings_check", datetime(2025, 1, 1, tzinfo=UTC)),
        ("last_fundamentals_check", 20250101),
        ("last_portfolio_update", datetime(2025, 1, 1)),
        ("last_portfolio_update", date(2025, 1, 1)),
        ("last_analysis_check", datetime(2025, 1, 1)),
        ("needs_fundamentals_recheck", 1),
        ("needs_fundamentals_recheck", None),
        ("fetch_count", -1),
        ("fetch_count", True),
        ("fetch_count", 1.0),
        ("error_count", -1),
        ("error_count", "1"),
        ("updated_at", datetime(2025, 1, 1)),
        ("updated_at", None),
    ],
)
def test_bad_values_are_refused(field: str, value: object) -> None:
    fields: dict[str, Any] = {"symbol": "AAPL", field: value}
    with pytest.raises(ValidationError) as info:
        StockSchedulerState(**fields)
    assert info.value.field == field


def test_validate_catches_mutation_and_normalises() -> None:
    state = StockSchedulerState("AAPL")
    state.symbol = " msft "
    state.validate()
    assert state.symbol == "MSFT"
    state.fetch_count = -1
    with pytest.raises(ValidationError) as info:
        state.validate()
    assert info.value.field == "fetch_count"
    state.fetch_count = 1
    state.last_news_check = datetime(2025, 1, 1, tzinfo=UTC)  # a date is required
    with pytest.raises(ValidationError) as info:
        state.validate()
    assert info.value.field == "last_news_check"


def test_clone_is_independent() -> None:
    state = StockSchedulerState("AAPL", fetch_count=2)
    copy = state.clone()
    assert copy == state
    copy.fetch_count += 1
    copy.last_news_check = date(2025, 1, 2)
    assert state.fetch_count == 2
    assert state.last_news_check is None


def test_json_round_trip() -> None:
    state = StockSchedulerState(
        "^NSEI",
        last_news_check=date(2025, 1, 2),
        last_earnings_check=date(2025, 1, 1),
        last_fundamentals_check=date(2024, 12, 31),
        last_portfolio_update=datetime(2025, 1, 2, 9, 15, tzinfo=UTC),
        last_analysis_check=datetime(2025, 1, 2, 10, tzinfo=UTC),
        needs_fundamentals_recheck=True,
        fetch_count=10,
        error_count=2,
    )
    decoded = msgspec.json.decode(msgspec.json.encode(state), type=StockSchedulerState)
    assert decoded == state


def test_decoding_normalises_and_refuses() -> None:
    decoded = msgspec.json.decode(
        b'{"symbol": " aapl ", "updated_at": "2025-01-01T00:00:00Z"}', type=StockSchedulerState
    )
    assert decoded.symbol == "AAPL"
    for bad in (
        b'{"symbol": "a/b", "updated_at": "2025-01-01T00:00:00Z"}',
        b'{"symbol": "AAPL", "updated_at": "2025-01-01T00:00:00"}',
        b'{"symbol": "AAPL", "fetch_count": -1}',
    ):
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(bad, type=StockSchedulerState)


def test_build_and_validate_is_fast() -> None:
    # The scheduler builds one of these on every update; keep it in the microseconds.
    now = datetime.now(UTC)
    day = now.date()
    rounds = 20_000
    started = time.perf_counter()
    for _ in range(rounds):
        StockSchedulerState(
            "aapl",
            last_news_check=day,
            last_portfolio_update=now,
            fetch_count=3,
            updated_at=now,
        ).validate()
    per_call = (time.perf_counter() - started) / rounds
    assert per_call < 50e-6  # generous bound for slow CI machines; about 3 µs locally
