"""StrategyLog and PerformanceSummary."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from tradestore.errors import ValidationError
from tradestore.models import PerformanceSummary, StrategyLog

DAY = date(2025, 6, 2)


def test_defaults() -> None:
    before = datetime.now(UTC)
    log = StrategyLog(DAY)
    assert log.date == DAY
    assert log.strategy_type == ""
    assert log.what_worked == []
    assert log.what_didnt_work == []
    assert log.tomorrows_focus == []
    assert log.market_observations == []
    assert (log.trades_executed, log.wins, log.losses) == (0, 0, 0)
    assert log.pnl_realized == 0.0
    assert log.token_usage == {}
    assert log.metadata == {}
    assert before <= log.created_at <= datetime.now(UTC)
    assert before <= log.updated_at <= datetime.now(UTC)
    assert StrategyLog(DAY).what_worked is not log.what_worked


def test_pnl_accepts_ints_as_floats() -> None:
    log = StrategyLog(DAY, pnl_realized=-12)
    assert log.pnl_realized == -12.0
    assert type(log.pnl_realized) is float


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date", datetime(2025, 6, 2, tzinfo=UTC)),
        ("date", "2025-06-02"),
        ("date", None),
        ("strategy_type", "a/b"),
        ("strategy_type", ".."),
        ("strategy_type", "x" * 129),
        ("strategy_type", 3),
        ("what_worked", "one string"),
        ("what_worked", ("a",)),
        ("what_didnt_work", [1]),
        ("tomorrows_focus", ["ok", None]),
        ("market_observations", ["x" * 70_000]),
        ("market_observations", ["x"] * 10_001),
        ("trades_executed", -1),
        ("trades_executed", True),
        ("wins", -1),
        ("wins", 1.0),
        ("losses", -1),
        ("pnl_realized", math.nan),
        ("pnl_realized", math.inf),
        ("pnl_realized", "1"),
        ("pnl_realized", None),
        ("token_usage", {"model": -5}),
        ("token_usage", {"model": 1.5}),
        ("token_usage", {"": 1}),
        ("metadata", {"k": math.inf}),
        ("metadata", {"k": object()}),
        ("created_at", datetime(2025, 6, 2)),
        ("updated_at", datetime(2025, 6, 2)),
    ],
)
def test_bad_values_are_refused(field: str, value: object) -> None:
    fields: dict[str, Any] = {"date": DAY, field: value}
    with pytest.raises(ValidationError) as info:
        StrategyLog(**fields)
    assert info.value.field == field


def test_validate_catches_mutation() -> None:
    log = StrategyLog(DAY, what_worked=["breakouts"])
    log.what_worked.append(42)  # type: ignore[arg-type]  # the bad value under test
    with pytest.raises(ValidationError) as info:
        log.validate()
    assert info.value.field == "what_worked"
    assert "what_worked[1]" in str(info.value)
    log.what_worked.pop()
    log.token_usage["gpt"] = -1
    with pytest.raises(ValidationError):
        log.validate()


def test_clone_is_deep() -> None:
    log = StrategyLog(
        DAY,
        strategy_type="momentum",
        what_worked=["breakouts"],
        token_usage={"gpt": 10},
        metadata={"notes": {"tags": ["a"]}},
    )
    copy = log.clone()
    assert copy == log
    copy.what_worked.append("gaps")
    copy.what_didnt_work.append("fades")
    copy.tomorrows_focus.append("earnings")
    copy.market_observations.append("quiet")
    copy.token_usage["gpt"] = 99
    copy.metadata["notes"]["tags"].append("b")
    assert log.what_worked == ["breakouts"]
    assert log.what_didnt_work == []
    assert log.tomorrows_focus == []
    assert log.market_observations == []
    assert log.token_usage == {"gpt": 10}
    assert log.metadata == {"notes": {"tags": ["a"]}}


def test_json_round_trip() -> None:
    log = StrategyLog(
        DAY,
        strategy_type="mean-reversion",
        what_worked=["a"],
        what_didnt_work=["b"],
        tomorrows_focus=["c"],
        market_observations=["d", "é ünïcode"],
        trades_executed=5,
        wins=3,
        losses=2,
        pnl_realized=123.45,
        token_usage={"in": 100, "out": 20},
        metadata={"x": [1, 2.5, None, True, {"y": "z"}]},
    )
    assert msgspec.json.decode(msgspec.json.encode(log), type=StrategyLog) == log


def test_decoding_bad_document_fails() -> None:
    document = msgspec.to_builtins(StrategyLog(DAY))
    document["wins"] = -1
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(document), type=StrategyLog)


def test_summary_defaults_and_bounds() -> None:
    summary = PerformanceSummary()
    assert summary == PerformanceSummary(0, 0, 0, 0, 0, 0.0, 0.0, 0.0)
    field: str
    value: object
    for field, value in (
        ("period_days", -1),
        ("total_trades", True),
        ("win_rate", 100.5),
        ("win_rate", -0.1),
        ("total_pnl", math.nan),
        ("avg_pnl_per_trade", math.inf),
    ):
        fields: dict[str, Any] = {field: value}
        with pytest.raises(ValidationError) as info:
            PerformanceSummary(**fields)
        assert info.value.field == field


def test_summary_from_logs() -> None:
    logs = [
        StrategyLog(DAY, trades_executed=4, wins=3, losses=1, pnl_realized=100.0),
        StrategyLog(date(2025, 6, 3), trades_executed=6, wins=1, losses=3, pnl_realized=-40.0),
    ]
    summary = PerformanceSummary.from_logs(logs, 30)
    assert summary == PerformanceSummary(
        period_days=30,
        total_logs=2,
        total_trades=10,
        total_wins=4,
        total_losses=4,
        win_rate=50.0,
        total_pnl=60.0,
        avg_pnl_per_trade=6.0,
    )


def test_summary_from_no_logs_is_zero() -> None:
    assert PerformanceSummary.from_logs([], 7) == PerformanceSummary(period_days=7)
    no_trades = PerformanceSummary.from_logs([StrategyLog(DAY)], 1)
    assert no_trades.win_rate == 0.0
    assert no_trades.avg_pnl_per_trade == 0.0
    assert no_trades.total_logs == 1


def test_summary_round_trip() -> None:
    summary = PerformanceSummary(30, 2, 10, 4, 4, 50.0, 60.0, 6.0)
    decoded = msgspec.json.decode(msgspec.json.encode(summary), type=PerformanceSummary)
    assert decoded == summary
    assert summary.clone() == summary
