"""The shared validators: every rule accepts good input and refuses bad with ValidationError."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tradestore.errors import ValidationError
from tradestore.models._checks import (
    ensure_aware,
    ensure_bool,
    ensure_date,
    ensure_finite,
    ensure_non_negative_int,
    ensure_optional_finite,
    ensure_str_list,
    ensure_strategy_name,
    ensure_symbol,
    ensure_task_id,
    ensure_text,
    ensure_url,
)
from tradestore.models._copies import copy_json
from tradestore.models._json_checks import (
    ensure_json,
    ensure_json_object,
    ensure_score_map,
    ensure_token_usage,
)
from tradestore.models._limits import (
    MAX_COUNT,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    MAX_LIST_ITEMS,
    MAX_TEXT_CHARS,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AAPL", "AAPL"),
        ("aapl", "AAPL"),
        ("  msft\t", "MSFT"),
        ("BRK.B", "BRK.B"),
        ("brk.b", "BRK.B"),
        ("M&M", "M&M"),
        ("BAJAJ-AUTO", "BAJAJ-AUTO"),
        ("^NSEI", "^NSEI"),
        ("EURUSD=X", "EURUSD=X"),
        ("RELIANCE.NS", "RELIANCE.NS"),
        ("NSE:INFY", "NSE:INFY"),
        ("A_B", "A_B"),
        ("7", "7"),
        ("X" * 32, "X" * 32),
    ],
)
def test_normalize_symbol_accepts_and_normalises(raw: str, expected: str) -> None:
    assert ensure_symbol(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "..",
        ".",
        "^",
        "-_&^=:.",
        "../../x",
        "a/b",
        "a\\b",
        "A B",
        "AAPL\n",
        "\x00AAPL",
        "AA\x1fPL",
        "AAPL\x7f",
        "ÄAPL",
        "ß",
        "\u0131",  # dotless i: upper() would turn it into an ASCII "I"
        "\uff21\uff21\uff30\uff2c",  # full-width AAPL
        "X" * 33,
        "A*",
        "A%2F",
    ],
)
def test_normalize_symbol_refuses(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        ensure_symbol(raw)
    assert info.value.field == "symbol"


@pytest.mark.parametrize("raw", [None, 1, 1.5, b"AAPL", ["AAPL"], True])
def test_normalize_symbol_refuses_non_str(raw: object) -> None:
    with pytest.raises(ValidationError):
        ensure_symbol(raw)


def test_normalize_symbol_names_the_given_field() -> None:
    with pytest.raises(ValidationError) as info:
        ensure_symbol("", "ticker")
    assert info.value.field == "ticker"


def test_normalize_symbol_repeat_calls_agree() -> None:
    # The second call is served from the cache; it must give the same answer.
    assert ensure_symbol(" tsla ") == ensure_symbol(" tsla ") == "TSLA"
    with pytest.raises(ValidationError):
        ensure_symbol("a/b")
    with pytest.raises(ValidationError):
        ensure_symbol("a/b")


@pytest.mark.parametrize("validator", [ensure_task_id, ensure_strategy_name])
@pytest.mark.parametrize(
    "raw", ["t1", "daily.news-check_2:AAPL", "Momentum", "9", "a" * 128, "..x", "x.."]
)
def test_identifiers_accept(validator: Any, raw: str) -> None:
    assert validator(raw) == raw


@pytest.mark.parametrize("validator", [ensure_task_id, ensure_strategy_name])
@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "..",
        ".",
        "-",
        "../../x",
        "a/b",
        "a\\b",
        " t1",
        "t1 ",
        "t 1",
        "t\n1",
        "t\x00",
        "é",
        "a" * 129,
        "a&b",
        "a^b",
        "a=b",
    ],
)
def test_identifiers_refuse(validator: Any, raw: str) -> None:
    with pytest.raises(ValidationError):
        validator(raw)


@pytest.mark.parametrize("validator", [ensure_task_id, ensure_strategy_name])
@pytest.mark.parametrize("raw", [None, 1, b"t1", ["t1"]])
def test_identifiers_refuse_non_str(validator: Any, raw: object) -> None:
    with pytest.raises(ValidationError):
        validator(raw)


def test_identifier_errors_name_their_field() -> None:
    with pytest.raises(ValidationError) as info:
        ensure_task_id("a/b")
    assert info.value.field == "task_id"
    with pytest.raises(ValidationError) as info:
        ensure_strategy_name("a/b")
    assert info.value.field == "strategy_type"


@pytest.mark.parametrize(
    "value",
    [
        datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
        datetime(2025, 1, 2, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2025, 1, 2, tzinfo=ZoneInfo("America/New_York")),
    ],
)
def test_ensure_aware_accepts_aware(value: datetime) -> None:
    assert ensure_aware(value, "when") is value


@pytest.mark.parametrize(
    "value", [datetime(2025, 1, 2), date(2025, 1, 2), "2025-01-02T00:00:00Z", 0, None]
)
def test_ensure_aware_refuses(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        ensure_aware(value, "when")
    assert info.value.field == "when"


def test_ensure_date_accepts_date_and_refuses_datetime() -> None:
    day = date(2025, 3, 1)
    assert ensure_date(day, "day") is day
    for bad in (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 1), "2025-03-01", None):
        with pytest.raises(ValidationError):
            ensure_date(bad, "day")


@pytest.mark.parametrize(("value", "expected"), [(1, 1.0), (0, 0.0), (-2.5, -2.5), (1e300, 1e300)])
def test_ensure_finite_accepts_numbers(value: float, expected: float) -> None:
    result = ensure_finite(value, "x")
    assert result == expected
    assert type(result) is float


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, True, False, "1.0", None, 10**400, [1.0]]
)
def test_ensure_finite_refuses(value: object) -> None:
    with pytest.raises(ValidationError):
        ensure_finite(value, "x")


def test_ensure_finite_bounds() -> None:
    assert ensure_finite(-1, "s", minimum=-1.0, maximum=1.0) == -1.0
    assert ensure_finite(1, "s", minimum=-1.0, maximum=1.0) == 1.0
    for bad in (-1.0001, 1.0001):
        with pytest.raises(ValidationError):
            ensure_finite(bad, "s", minimum=-1.0, maximum=1.0)
    assert ensure_optional_finite(None, "s", minimum=0.0) is None


@pytest.mark.parametrize("value", [0, 1, 3, MAX_COUNT])
def test_ensure_non_negative_int_accepts(value: int) -> None:
    assert ensure_non_negative_int(value, "n") == value


@pytest.mark.parametrize("value", [-1, MAX_COUNT + 1, True, False, 1.0, "1", None])
def test_ensure_non_negative_int_refuses(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        ensure_non_negative_int(value, "n")
    assert info.value.field == "n"


def test_ensure_bool() -> None:
    assert ensure_bool(True, "b") is True
    for bad in (1, 0, "true", None):
        with pytest.raises(ValidationError):
            ensure_bool(bad, "b")


def test_ensure_text_limits() -> None:
    assert ensure_text("line one\nline two", "t") == "line one\nline two"
    assert ensure_text("x" * MAX_TEXT_CHARS, "t") == "x" * MAX_TEXT_CHARS
    for bad in ("x" * (MAX_TEXT_CHARS + 1), "\ud800", 5, None, b"x"):
        with pytest.raises(ValidationError):
            ensure_text(bad, "t")
    with pytest.raises(ValidationError):
        ensure_text("  ", "t", allow_empty=False)


def test_ensure_url() -> None:
    assert ensure_url(" https://example.com/a?b=1 ") == "https://example.com/a?b=1"
    assert ensure_url("") == ""
    for bad in ("https://example.com/a b", "https://ex\x00ample.com", "https://é.com", 3):
        with pytest.raises(ValidationError):
            ensure_url(bad)


def test_ensure_str_list() -> None:
    assert ensure_str_list(["a", ""], "l") == ["a", ""]
    assert ensure_str_list(["x"] * MAX_LIST_ITEMS, "l") == ["x"] * MAX_LIST_ITEMS
    for bad in (("a",), "abc", ["a", 1], ["a", None], ["x"] * (MAX_LIST_ITEMS + 1)):
        with pytest.raises(ValidationError):
            ensure_str_list(bad, "l")


def test_ensure_token_usage() -> None:
    assert ensure_token_usage({"gpt": 10, "claude": 0}) == {"gpt": 10, "claude": 0}
    for bad in ({"gpt": -1}, {"gpt": True}, {"gpt": 1.5}, {1: 1}, {"": 1}, ["gpt"]):
        with pytest.raises(ValidationError):
            ensure_token_usage(bad)


def test_ensure_score_map_stores_floats() -> None:
    scores: dict[str, Any] = {"value": 1, "growth": 0.5}
    assert ensure_score_map(scores) == {"value": 1.0, "growth": 0.5}
    assert type(scores["value"]) is float
    bad: object
    for bad in ({"v": math.nan}, {"v": "1"}, {"v": True}, {2: 1.0}):
        with pytest.raises(ValidationError):
            ensure_score_map(bad)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        "text",
        0,
        -(2**63),
        2**64 - 1,
        1.5,
        [],
        {},
        {"a": [1, 2.5, "x", None, False, {"b": {}}]},
    ],
)
def test_validate_json_accepts(value: object) -> None:
    assert ensure_json(value, "metadata") is value


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        {"a": -math.inf},
        {1: "int key"},
        {"a": (1, 2)},
        {"a": {1, 2}},
        {"a": b"bytes"},
        {"a": datetime(2025, 1, 1, tzinfo=UTC)},
        {"a": object()},
        {"a": 2**64},
        {"a": -(2**63) - 1},
        {"\ud800": 1},
        ["\udfff"],
        _nested(MAX_JSON_DEPTH + 1),
    ],
)
def test_validate_json_refuses(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        ensure_json(value, "metadata")
    assert info.value.field == "metadata"


def test_validate_json_depth_limit_is_inclusive() -> None:
    deep = _nested(MAX_JSON_DEPTH)
    assert ensure_json(deep, "m") is deep


def test_validate_json_refuses_cycles() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValidationError):
        ensure_json(loop, "m")


def test_validate_json_size_limit() -> None:
    near = {"a": "x" * (MAX_JSON_BYTES - 100)}
    assert ensure_json(near, "m") is near
    with pytest.raises(ValidationError):
        ensure_json({"a": "x" * MAX_JSON_BYTES}, "m")
    with pytest.raises(ValidationError):
        ensure_json([0] * (MAX_JSON_BYTES + 1), "m")


def test_validate_json_object_requires_a_dict() -> None:
    assert ensure_json_object({"a": 1}, "m") == {"a": 1}
    bad: object
    for bad in ([], "x", None, 1):
        with pytest.raises(ValidationError):
            ensure_json_object(bad, "m")


def test_copy_json_shares_no_container() -> None:
    original: dict[str, Any] = {"a": [1, {"b": [2]}], "c": {"d": "e"}}
    copied = copy_json(original)
    assert copied == original
    copied["a"][1]["b"].append(3)
    copied["c"]["d"] = "changed"
    assert original == {"a": [1, {"b": [2]}], "c": {"d": "e"}}
