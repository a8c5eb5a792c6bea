"""Fair "oldest first": equal check dates go to the symbol checked longest ago.

Checks are dates, so within one day every checked symbol ties; broken by input
order alone, the first holdings of a portfolio were fetched ten times as often
as the rest. The store records the time of each check to break those ties.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from tests.stores.helpers import FakeClock
from tradestore import StockSchedulerState, StockStateStore
from tradestore.stores._stock_rules import oldest_first

PORTFOLIO = [f"SYM{i:02d}" for i in range(15)]
START = dt.datetime(2025, 1, 2, 3, 45, tzinfo=dt.UTC)  # 09:15 in India


@pytest.mark.parametrize("kind", ["news", "earnings", "fundamentals"])
async def test_one_day_of_rounds_fetches_every_holding_equally(tmp_path: Path, kind: str) -> None:
    clock = FakeClock(START)
    fetched: Counter[str] = Counter()
    async with StockStateStore(tmp_path, durable=False, clock=clock, tz="Asia/Kolkata") as s:
        oldest = getattr(s, f"get_oldest_{kind}_stocks")
        update = getattr(s, f"update_{kind}_check")
        for _ in range(30):  # one round every 12 minutes over six hours
            for symbol in await oldest(PORTFOLIO, limit=5):
                fetched[symbol] += 1
                await update(symbol)
                clock.advance(seconds=1)
            clock.advance(minutes=12)
    assert fetched == dict.fromkeys(PORTFOLIO, 10)


async def test_never_checked_then_oldest_date_then_checked_longest_ago(tmp_path: Path) -> None:
    clock = FakeClock(START)
    async with StockStateStore(tmp_path, durable=False, clock=clock) as s:
        await s.update_news_check("LATE")
        clock.advance(hours=1)
        await s.update_news_check("EARLY")  # checked after LATE ...
        await s.update_news_check("OLD", dt.date(2024, 12, 30))
        clock.advance(hours=1)
        await s.update_news_check("LATE")  # ... but LATE was checked again since
        got = await s.get_oldest_news_stocks(["LATE", "EARLY", "NEW", "OLD"], limit=None)
        assert got == ["NEW", "OLD", "EARLY", "LATE"]
    async with StockStateStore(tmp_path, durable=False, clock=clock) as s:  # kept on disk
        got = await s.get_oldest_news_stocks(["LATE", "EARLY", "NEW", "OLD"], limit=2)
        assert got == ["NEW", "OLD"]
        state = await s.get_state("LATE")
        assert state.last_news_checked_at == clock.now


def test_states_from_before_the_check_times_load_and_count_as_longest_ago() -> None:
    old_record = {"symbol": "OLDFMT", "last_news_check": "2025-01-02", "fetch_count": 4,
                  "updated_at": "2025-01-02T01:00:00+00:00"}
    state = msgspec.json.decode(json.dumps(old_record).encode(), type=StockSchedulerState)
    assert state.last_news_checked_at is None
    assert state.fetch_count == 4
    recent = StockSchedulerState(symbol="NEWFMT", last_news_check=dt.date(2025, 1, 2),
                                 last_news_checked_at=START)
    found = [("NEWFMT", recent), ("OLDFMT", state)]
    assert oldest_first(found, "news", None) == ["OLDFMT", "NEWFMT"]


async def test_restored_states_without_check_times_still_rank(tmp_path: Path) -> None:
    async with StockStateStore(tmp_path, durable=False, clock=FakeClock(START)) as s:
        await s.update_news_check("B", dt.date(2025, 1, 2))
        await s.save_state(StockSchedulerState(symbol="A", last_news_check=dt.date(2025, 1, 2)))
        assert await s.get_oldest_news_stocks(["B", "A"]) == ["A", "B"]
