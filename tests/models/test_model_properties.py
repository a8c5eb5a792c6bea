"""Property tests: any input gives a valid value or ValidationError, and round trips hold."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from tradestore.errors import ValidationError
from tradestore.models import (
    BackgroundTask,
    NewsItem,
    StockSchedulerState,
    StrategyLog,
    TaskPriority,
)
from tradestore.models._checks import ensure_strategy_name, ensure_symbol, ensure_task_id
from tradestore.models._json_checks import ensure_json

SYMBOL = re.compile(r"[A-Z0-9.\-_&^=:]{1,32}")
IDENTIFIER = re.compile(r"[A-Za-z0-9.\-_:]{1,128}")
SYMBOL_CHARS = "ABCXYZabcxyz0189.-_&^=: \t/\\\x00é"
ID_CHARS = "ABCabc019.-_: /\\\x00\n~é"

aware_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.text() | st.text(alphabet=SYMBOL_CHARS, max_size=40))
def test_symbol_is_valid_or_refused(raw: str) -> None:
    try:
        symbol = ensure_symbol(raw)
    except ValidationError as exc:
        refused_field = exc.field
    else:
        refused_field = None
    if refused_field is not None:
        assert refused_field == "symbol"
        return
    assert SYMBOL.fullmatch(symbol)
    assert any(c.isalnum() for c in symbol)
    assert symbol == raw.strip(" \t").upper()
    assert ensure_symbol(symbol) == symbol


@given(st.text() | st.text(alphabet=ID_CHARS, max_size=140))
def test_identifiers_are_valid_or_refused(raw: str) -> None:
    for validator in (ensure_task_id, ensure_strategy_name):
        try:
            value = validator(raw)
        except ValidationError:
            continue
        assert value == raw
        assert IDENTIFIER.fullmatch(value)
        assert "/" not in value
        assert value not in {".", ".."}


@given(st.from_type(object) | json_values)
def test_validate_json_never_raises_anything_else(value: object) -> None:
    try:
        ensure_json(value, "metadata")
    except ValidationError:
        return
    assert msgspec.json.decode(msgspec.json.encode(value)) == value


@given(
    symbol=st.text(alphabet=SYMBOL_CHARS, min_size=1, max_size=10),
    news=st.none() | st.dates(),
    when=st.none() | aware_datetimes,
    fetches=st.integers(min_value=-2, max_value=2**63),
)
def test_stock_state_is_valid_or_refused_and_round_trips(
    symbol: str, news: date | None, when: datetime | None, fetches: int
) -> None:
    try:
        state = StockSchedulerState(
            symbol, last_news_check=news, last_portfolio_update=when, fetch_count=fetches
        )
    except ValidationError:
        return
    decoded = msgspec.json.decode(msgspec.json.encode(state), type=StockSchedulerState)
    assert decoded == state
    assert state.clone() == state


@given(
    metadata=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
    execute_at=aware_datetimes,
    interval=st.none() | st.floats(min_value=0.001, max_value=1e9),
)
def test_task_round_trips_and_clones(
    metadata: dict[str, Any], execute_at: datetime, interval: float | None
) -> None:
    task = BackgroundTask("t1", "custom", TaskPriority.LOW, execute_at, interval, metadata=metadata)
    decoded = msgspec.json.decode(msgspec.json.encode(task), type=BackgroundTask)
    assert decoded == task
    copy = task.clone()
    copy.metadata["__added__"] = 1
    assert "__added__" not in task.metadata


@given(
    day=st.dates(),
    items=st.lists(st.text(max_size=30), max_size=5),
    usage=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(str.strip), st.integers(0, 10**6), max_size=3
    ),
)
def test_strategy_log_round_trips(day: date, items: list[str], usage: dict[str, int]) -> None:
    try:
        log = StrategyLog(day, "s", what_worked=items, token_usage=usage)
    except ValidationError:
        # Only text Hypothesis can make and UTF-8 cannot hold (lone surrogates) is refused.
        assert any(not _encodable(t) for t in [*items, *usage])
        return
    assert msgspec.json.decode(msgspec.json.encode(log), type=StrategyLog) == log


@given(url=st.text(max_size=60), title=st.text(max_size=20), published=aware_datetimes)
def test_news_item_is_valid_or_refused(url: str, title: str, published: datetime) -> None:
    try:
        item = NewsItem(title=title, url=url, published_at=published)
    except ValidationError:
        return
    assert re.fullmatch(r"[0-9a-f]{32}", item.id)
    assert msgspec.json.decode(msgspec.json.encode(item), type=NewsItem) == item


def _encodable(text: str) -> bool:
    """Whether ``text`` can be encoded as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
