"""StockStateStore: every method, the zone and intervals, partitions, reopen, a stateful test."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tradestore import (
    StockSchedulerState,
    StockStateStore,
    StoreClosedError,
    StoreError,
    ValidationError,
)
from tradestore.persistence import is_spare_name

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
D0 = T0.date()


class Clock:
    """A settable clock for the store."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def listing(folder: Path, pattern: str = "*") -> list[str]:
    """The names in ``folder`` matching ``pattern``."""
    return sorted(p.name for p in folder.glob(pattern))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> Any:
    s = StockStateStore(tmp_path, durable=False, clock=clock)
    await s.initialize()
    yield s
    await s.close()


async def opened(path: Path, clock: Clock | None = None, **kw: Any) -> StockStateStore:
    s = StockStateStore(path, durable=False, clock=clock, **kw)
    await s.initialize()
    return s


@contextlib.asynccontextmanager
async def seeded(path: Path, *symbols: str) -> AsyncIterator[StockStateStore]:
    """A store with one fetch recorded per symbol, reopened so nothing is pending."""
    async with StockStateStore(path, durable=False, clock=Clock()) as s:
        for sym in symbols:
            await s.record_fetch(sym, ok=True)
    async with StockStateStore(path, durable=False, clock=Clock()) as s:
        yield s


# -- get_state / all_states ---------------------------------------------------------------------


async def test_unknown_symbol_gets_default_state_and_writes_nothing(
    store: StockStateStore, tmp_path: Path
) -> None:
    before = snapshot(tmp_path)
    state = await store.get_state(" aapl ")
    assert state == StockSchedulerState(symbol="AAPL", updated_at=T0)
    assert (state.fetch_count, state.error_count, state.last_news_check) == (0, 0, None)
    assert await store.all_states() == {}
    assert not await store.delete("AAPL")
    await store.close()
    assert snapshot(tmp_path) == before
    assert listing(tmp_path / "stock_state", "doc-*") == []


async def test_symbols_are_normalised(store: StockStateStore) -> None:
    await store.record_fetch(" brk.b\t", ok=True)
    await store.record_fetch("BRK.B", ok=True)
    assert (await store.get_state("Brk.B")).fetch_count == 2
    assert list(await store.all_states()) == ["BRK.B"]


async def test_reads_return_copies(store: StockStateStore) -> None:
    await store.record_fetch("AAPL", ok=True)
    got = await store.get_state("AAPL")
    got.fetch_count = 500
    got.last_news_check = D0
    states = await store.all_states()
    states["AAPL"].error_count = 9
    states.clear()
    again = await store.get_state("AAPL")
    assert (again.fetch_count, again.error_count, again.last_news_check) == (1, 0, None)


async def test_all_states_in_symbol_order_across_partitions(tmp_path: Path) -> None:
    symbols = [f"S{i}" for i in range(300)]
    async with StockStateStore(tmp_path, durable=False) as s:
        for sym in symbols:
            await s.flag_fundamentals_recheck(sym)
    async with StockStateStore(tmp_path, durable=False) as s:  # lazy: nothing loaded yet
        states = await s.all_states()
    assert list(states) == sorted(symbols)
    assert all(st.needs_fundamentals_recheck for st in states.values())


# -- updates, the clock and the zone ------------------------------------------------------------


async def test_updates_default_to_today_and_now_and_stamp_updated_at(
    store: StockStateStore, clock: Clock
) -> None:
    await store.update_news_check("AAPL")
    clock.now = T0 + timedelta(hours=1)
    await store.update_earnings_check("AAPL")
    await store.update_analysis_check("AAPL")
    clock.now = T0 + timedelta(hours=2)
    await store.update_portfolio_update("AAPL")
    await store.update_fundamentals_check("AAPL")
    s = await store.get_state("AAPL")
    assert (s.last_news_check, s.last_earnings_check, s.last_fundamentals_check) == (D0,) * 3
    assert s.last_analysis_check == T0 + timedelta(hours=1)
    assert s.last_portfolio_update == T0 + timedelta(hours=2)
    assert s.updated_at == T0 + timedelta(hours=2)


async def test_explicit_dates_and_times(store: StockStateStore, clock: Clock) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    when = datetime(2024, 1, 2, 3, 4, tzinfo=ist)
    await store.update_news_check("M&M", date(2024, 1, 1))
    await store.update_earnings_check("M&M", check_date=date(2024, 1, 2))
    await store.update_fundamentals_check("M&M", date(2024, 1, 3))
    await store.update_analysis_check("M&M", check_time=when)
    await store.update_portfolio_update("M&M", when=when)
    s = await store.get_state("m&m")
    assert s.last_news_check == date(2024, 1, 1)
    assert s.last_earnings_check == date(2024, 1, 2)
    assert s.last_fundamentals_check == date(2024, 1, 3)
    assert s.last_analysis_check == when
    assert s.last_portfolio_update == when
    assert s.updated_at == T0  # the store's clock, not the dates passed in


@pytest.mark.parametrize(
    ("tz", "utc_time", "expected"),
    [
        ("UTC", datetime(2025, 3, 10, 23, 30, tzinfo=UTC), date(2025, 3, 10)),
        ("Asia/Kolkata", datetime(2025, 3, 10, 23, 30, tzinfo=UTC), date(2025, 3, 11)),
        ("Asia/Kolkata", datetime(2025, 3, 10, 18, 29, tzinfo=UTC), date(2025, 3, 10)),
        ("America/New_York", datetime(2025, 3, 11, 2, 0, tzinfo=UTC), date(2025, 3, 10)),
        ("Pacific/Kiritimati", datetime(2025, 3, 10, 10, 0, tzinfo=UTC), date(2025, 3, 11)),
    ],
)
async def test_today_is_the_date_in_the_store_zone(
    tmp_path: Path, tz: str, utc_time: datetime, expected: date
) -> None:
    s = await opened(tmp_path, Clock(utc_time), tz=tz)
    try:
        assert s.today() == expected
        await s.update_news_check("AAPL")
        await s.update_earnings_check("AAPL")
        await s.update_fundamentals_check("AAPL")
        state = await s.get_state("AAPL")
        assert state.last_news_check == expected
        assert state.last_earnings_check == expected
        assert state.last_fundamentals_check == expected
        assert not await s.needs_news_fetch("AAPL")
    finally:
        await s.close()


async def test_news_due_flips_at_midnight_in_the_store_zone(tmp_path: Path) -> None:
    clock = Clock(datetime(2025, 3, 10, 18, 0, tzinfo=UTC))  # 23:30 in Kolkata
    s = await opened(tmp_path, clock, tz="Asia/Kolkata")
    try:
        await s.update_news_check("AAPL")
        assert not await s.needs_news_fetch("AAPL")
        clock.now = datetime(2025, 3, 10, 18, 45, tzinfo=UTC)  # 00:15 the next day there
        assert await s.needs_news_fetch("AAPL")
    finally:
        await s.close()


@pytest.mark.parametrize("tz", ["Not/AZone", "../../etc/passwd", "", "/etc/localtime", 5, None])
def test_bad_zone_is_refused(tmp_path: Path, tz: Any) -> None:
    with pytest.raises(ValidationError) as info:
        StockStateStore(tmp_path, tz=tz)
    assert info.value.field == "tz"
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"news_interval_days": -1}, {"earnings_interval_days": 1.5},
     {"fundamentals_interval_days": True}, {"news_interval_days": "1"}],
)
def test_bad_intervals_are_refused(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        StockStateStore(tmp_path, **kwargs)


# -- needs_* ------------------------------------------------------------------------------------


async def test_needs_news_fetch_interval(tmp_path: Path) -> None:
    clock = Clock()
    async with StockStateStore(tmp_path, durable=False, clock=clock) as s:
        assert await s.needs_news_fetch("AAPL")  # never checked
        await s.update_news_check("AAPL", D0)
        assert not await s.needs_news_fetch("AAPL")
        await s.update_news_check("AAPL", D0 - timedelta(days=1))
        assert await s.needs_news_fetch("AAPL")  # default interval: one day
        await s.update_news_check("AAPL", D0 + timedelta(days=1))
        assert not await s.needs_news_fetch("AAPL")  # a date ahead of today
    async with StockStateStore(tmp_path, durable=False, clock=clock,
                               news_interval_days=3) as s:
        for ago, due in ((0, False), (2, False), (3, True), (10, True)):
            await s.update_news_check("AAPL", D0 - timedelta(days=ago))
            assert await s.needs_news_fetch("AAPL") is due, ago


async def test_needs_earnings_fetch_interval(tmp_path: Path) -> None:
    async with StockStateStore(tmp_path, durable=False, clock=Clock()) as s:
        assert await s.needs_earnings_fetch("AAPL")
        for ago, due in ((0, False), (6, False), (7, True), (30, True)):
            await s.update_earnings_check("AAPL", D0 - timedelta(days=ago))
            assert await s.needs_earnings_fetch("AAPL") is due, ago
    async with StockStateStore(tmp_path, durable=False, clock=Clock(),
                               earnings_interval_days=2) as s:
        await s.update_earnings_check("AAPL", D0 - timedelta(days=1))
        assert not await s.needs_earnings_fetch("AAPL")
        await s.update_earnings_check("AAPL", D0 - timedelta(days=2))
        assert await s.needs_earnings_fetch("AAPL")


async def test_needs_fundamentals_check_interval_and_flag(tmp_path: Path) -> None:
    clock = Clock()
    async with StockStateStore(tmp_path, durable=False, clock=clock,
                               fundamentals_interval_days=5) as s:
        assert await s.needs_fundamentals_check("AAPL")
        await s.update_fundamentals_check("AAPL", D0 - timedelta(days=4))
        assert not await s.needs_fundamentals_check("AAPL")
        await s.flag_fundamentals_recheck("AAPL")
        assert (await s.get_state("AAPL")).needs_fundamentals_recheck
        assert await s.needs_fundamentals_check("AAPL")
        await s.update_fundamentals_check("AAPL")  # clears the flag
        assert not (await s.get_state("AAPL")).needs_fundamentals_recheck
        assert not await s.needs_fundamentals_check("AAPL")
        clock.now = T0 + timedelta(days=5)
        assert await s.needs_fundamentals_check("AAPL")
        await s.flag_fundamentals_recheck("MSFT")  # flagged, never checked
        assert await s.needs_fundamentals_check("MSFT")


async def test_zero_interval_means_always_due(tmp_path: Path) -> None:
    async with StockStateStore(tmp_path, durable=False, clock=Clock(), news_interval_days=0,
                               earnings_interval_days=0, fundamentals_interval_days=0) as s:
        await s.update_news_check("AAPL")
        await s.update_earnings_check("AAPL")
        await s.update_fundamentals_check("AAPL")
        assert await s.needs_news_fetch("AAPL")
        assert await s.needs_earnings_fetch("AAPL")
        assert await s.needs_fundamentals_check("AAPL")


async def test_get_stocks_needing_keep_input_order_and_first_occurrence(
    store: StockStateStore,
) -> None:
    await store.update_news_check("MSFT")
    await store.update_earnings_check("AAPL")
    await store.update_fundamentals_check("TSLA")
    await store.flag_fundamentals_recheck("GOOG")
    await store.update_fundamentals_check("GOOG")
    await store.flag_fundamentals_recheck("GOOG")
    symbols = ["tsla", "MSFT", "aapl", "GOOG", "TSLA", " msft", "NVDA", "AAPL"]
    assert await store.get_stocks_needing_news(symbols) == ["TSLA", "AAPL", "GOOG", "NVDA"]
    assert await store.get_stocks_needing_earnings(symbols) == ["TSLA", "MSFT", "GOOG", "NVDA"]
    assert await store.get_stocks_needing_fundamentals(symbols) == [
        "MSFT", "AAPL", "GOOG", "NVDA"]
    assert await store.get_stocks_needing_news(iter(["NVDA", "nvda"])) == ["NVDA"]
    assert await store.get_stocks_needing_news([]) == []
    assert await store.all_states() == await store.all_states()
    assert sorted(await store.all_states()) == ["AAPL", "GOOG", "MSFT", "TSLA"]


@pytest.mark.parametrize("kind", ["news", "earnings", "fundamentals"])
async def test_get_oldest_never_checked_first_then_oldest_ties_by_input(
    store: StockStateStore, kind: str
) -> None:
    update = getattr(store, f"update_{kind}_check")
    oldest = getattr(store, f"get_oldest_{kind}_stocks")
    await update("A", D0 - timedelta(days=2))
    await update("B", D0 - timedelta(days=5))
    await update("C", D0 - timedelta(days=2))
    await update("D", D0)
    await store.record_fetch("E", ok=True)  # stored, never checked
    symbols = ["d", "C", "x", "A", "E", "B", "X", "y"]
    assert await oldest(symbols, limit=10) == ["X", "E", "Y", "B", "C", "A", "D"]
    assert await oldest(symbols) == ["X", "E", "Y", "B", "C"]  # default limit 5
    assert await oldest(symbols, 2) == ["X", "E"]
    assert await oldest(symbols, limit=0) == []
    assert await oldest(symbols, limit=None) == ["X", "E", "Y", "B", "C", "A", "D"]
    assert await oldest(["A", "C"], limit=5) == ["A", "C"]
    assert await oldest(["C", "A"], limit=5) == ["C", "A"]
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValidationError):
            await oldest(symbols, limit=bad)


# -- record_fetch and concurrency ---------------------------------------------------------------


async def test_record_fetch_counts(store: StockStateStore, clock: Clock) -> None:
    await store.record_fetch("AAPL", ok=True)
    clock.now = T0 + timedelta(minutes=5)
    await store.record_fetch("AAPL", ok=False)
    s = await store.get_state("AAPL")
    assert (s.fetch_count, s.error_count, s.updated_at) == (2, 1, clock.now)
    bad_flags: tuple[Any, ...] = (1, None, "yes")
    for bad in bad_flags:
        with pytest.raises(ValidationError):
            await store.record_fetch("AAPL", ok=bad)
    assert (await store.get_state("AAPL")).fetch_count == 2


async def test_a_thousand_concurrent_record_fetch_give_a_thousand(tmp_path: Path) -> None:
    async with StockStateStore(tmp_path) as s:  # durable
        await asyncio.gather(*(s.record_fetch("AAPL", ok=i % 4 != 0) for i in range(1000)),
                             *(s.record_fetch(f"S{i % 50}", ok=True) for i in range(1000)))
        assert (await s.get_state("AAPL")).fetch_count == 1000
    async with StockStateStore(tmp_path) as s:
        aapl = await s.get_state("AAPL")
        assert (aapl.fetch_count, aapl.error_count) == (1000, 250)
        states = await s.all_states()
        assert sum(st.fetch_count for st in states.values()) == 2000


async def test_delete(store: StockStateStore, tmp_path: Path) -> None:
    await store.record_fetch("AAPL", ok=True)
    await store.record_fetch("MSFT", ok=True)
    assert await store.delete("aapl") is True
    assert await store.delete("AAPL") is False
    assert (await store.get_state("AAPL")).fetch_count == 0
    await store.close()
    s = await opened(tmp_path)
    try:
        assert list(await s.all_states()) == ["MSFT"]
    finally:
        await s.close()


# -- bad input, files, reopen, lifecycle --------------------------------------------------------

BAD_SYMBOLS = ["../../x", "", "   ", "A" * 33, "a/b", "..", "-", "A\x00", "ÄPPLE", "A B", 5,
               None, b"AAPL"]


@pytest.mark.parametrize("bad", BAD_SYMBOLS)
async def test_malformed_symbols_are_refused_and_change_nothing(
    tmp_path: Path, bad: Any
) -> None:
    async with seeded(tmp_path, "AAPL") as store:
        files = snapshot(tmp_path)
        calls: list[Callable[[], Any]] = [
            lambda: store.get_state(bad),
            lambda: store.update_news_check(bad),
            lambda: store.update_earnings_check(bad),
            lambda: store.update_fundamentals_check(bad),
            lambda: store.flag_fundamentals_recheck(bad),
            lambda: store.update_analysis_check(bad),
            lambda: store.update_portfolio_update(bad),
            lambda: store.record_fetch(bad, ok=True),
            lambda: store.delete(bad),
            lambda: store.needs_news_fetch(bad),
            lambda: store.needs_earnings_fetch(bad),
            lambda: store.needs_fundamentals_check(bad),
            lambda: store.get_stocks_needing_news(["AAPL", bad]),
            lambda: store.get_oldest_earnings_stocks(["AAPL", bad]),
        ]
        for call in calls:
            with pytest.raises(ValidationError):
                await call()
        assert list(await store.all_states()) == ["AAPL"]
        assert (await store.get_state("AAPL")).fetch_count == 1
        await store.flush()
        assert snapshot(tmp_path) == files
    assert listing(tmp_path) == ["stock_state"]  # nothing written outside the store folder


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("update_news_check", {"check_date": datetime(2025, 1, 1, tzinfo=UTC)}),
        ("update_news_check", {"check_date": "2025-01-01"}),
        ("update_earnings_check", {"check_date": 20250101}),
        ("update_fundamentals_check", {"check_date": datetime(2025, 1, 1)}),
        ("update_analysis_check", {"check_time": datetime(2025, 1, 1)}),
        ("update_analysis_check", {"check_time": date(2025, 1, 1)}),
        ("update_portfolio_update", {"when": datetime(2025, 1, 1)}),
        ("update_portfolio_update", {"when": 0}),
    ],
)
async def test_bad_dates_and_naive_times_change_nothing(
    tmp_path: Path, method: str, kwargs: dict[str, Any]
) -> None:
    async with seeded(tmp_path, "AAPL") as store:
        before, files = await store.get_state("AAPL"), snapshot(tmp_path)
        with pytest.raises(ValidationError):
            await getattr(store, method)("AAPL", **kwargs)
        assert await store.get_state("AAPL") == before
        await store.flush()
        assert snapshot(tmp_path) == files


@pytest.mark.parametrize("bad", ["AAPL", b"AAPL", 5, None])
async def test_symbol_lists_must_be_iterables_of_symbols(store: StockStateStore, bad: Any) -> None:
    for method in (store.get_stocks_needing_news, store.get_stocks_needing_earnings,
                   store.get_stocks_needing_fundamentals, store.get_oldest_news_stocks,
                   store.get_oldest_earnings_stocks, store.get_oldest_fundamentals_stocks):
        with pytest.raises(ValidationError):
            await method(bad)


async def test_partitioned_layout_and_small_update_cost(tmp_path: Path) -> None:
    symbols = [f"SYM{i}" for i in range(3000)]
    async with StockStateStore(tmp_path, durable=False) as s:
        for i in range(0, len(symbols), 500):
            await asyncio.gather(*(s.record_fetch(sym, ok=True) for sym in symbols[i:i + 500]))
    folder = tmp_path / "stock_state"
    docs = listing(folder, "doc-*.json")
    assert docs == sorted({f"doc-{zlib.crc32(s.encode()) % 1024:03x}.json" for s in symbols})
    assert b'"SYM7"' in (folder / f"doc-{zlib.crc32(b'SYM7') % 1024:03x}.json").read_bytes()
    before = snapshot(folder)
    async with StockStateStore(tmp_path) as s:  # durable, lazily loaded
        await s.record_fetch("SYM7", ok=False)
        after = snapshot(folder)
        # One durable update adds one small journal file and rewrites no document.
        added = sorted(set(after) - set(before))
        assert len(added) == 1
        assert added[0].startswith("journal-")
        assert len(after[added[0]].rstrip(b" ")) < 1024  # its records; then padding
        assert len(after[added[0]]) <= 4096  # even written into a large spare
        kept = {k: v for k, v in before.items() if not is_spare_name(k)}  # blanks, reused
        assert {k: v for k, v in after.items() if k in kept} == kept
    async with StockStateStore(tmp_path, durable=False) as s:
        assert (await s.get_state("SYM7")).error_count == 1
        assert len(await s.all_states()) == 3000


async def test_reopen_returns_exactly_what_was_stored(tmp_path: Path) -> None:
    clock = Clock()
    ist = timezone(timedelta(hours=5, minutes=30))
    async with StockStateStore(tmp_path, clock=clock, tz="Asia/Kolkata") as s:
        await s.update_news_check("^NSEI")
        await s.update_earnings_check("EURUSD=X", date(2024, 2, 29))
        await s.flag_fundamentals_recheck("BAJAJ-AUTO")
        clock.now = T0 + timedelta(seconds=1.5)
        await s.update_analysis_check("BAJAJ-AUTO", datetime(2025, 1, 1, 9, 15, tzinfo=ist))
        await s.update_portfolio_update("M&M")
        await s.record_fetch("M&M", ok=False)
        await s.update_fundamentals_check("X_Y:Z")
        await s.delete("X_Y:Z")
        before = await s.all_states()
    async with StockStateStore(tmp_path, tz="Asia/Kolkata") as s:
        assert await s.all_states() == before
        for sym, state in before.items():
            assert await s.get_state(sym) == state
    assert list(before) == ["BAJAJ-AUTO", "EURUSD=X", "M&M", "^NSEI"]


async def test_read_only_refuses_mutations_and_sees_initialize_state(tmp_path: Path) -> None:
    async with seeded(tmp_path, "AAPL") as writer:  # a writer may stay open beside
        reader = StockStateStore(tmp_path, read_only=True)
        await reader.initialize()
        try:
            files = snapshot(tmp_path)
            calls: list[Callable[[], Any]] = [
                lambda: reader.update_news_check("AAPL"),
                lambda: reader.update_earnings_check("AAPL"),
                lambda: reader.update_fundamentals_check("AAPL"),
                lambda: reader.flag_fundamentals_recheck("AAPL"),
                lambda: reader.update_analysis_check("AAPL"),
                lambda: reader.update_portfolio_update("AAPL"),
                lambda: reader.record_fetch("AAPL", ok=True),
                lambda: reader.delete("AAPL"),
            ]
            for call in calls:
                with pytest.raises(StoreError):
                    await call()
            assert snapshot(tmp_path) == files
            await writer.record_fetch("AAPL", ok=True)
            await writer.flush()
            assert (await reader.get_state("AAPL")).fetch_count == 1
            await reader.reload()
            assert (await reader.get_state("AAPL")).fetch_count == 2
        finally:
            await reader.close()


async def test_second_writer_in_process_shares_the_store(
    store: StockStateStore, tmp_path: Path
) -> None:
    """A second writer in this process is a handle on the same store (another process
    is refused: tests/reliability/test_processes.py)."""
    async with StockStateStore(tmp_path, durable=store.durable) as other:
        await other.record_fetch("AAPL", ok=True)
        assert (await store.get_state("AAPL")).fetch_count == 1
    await store.record_fetch("AAPL", ok=True)  # still open after the other handle closed
    assert (await store.get_state("AAPL")).fetch_count == 2


async def test_closed_store_raises_store_closed(store: StockStateStore) -> None:
    await store.record_fetch("AAPL", ok=True)
    await store.close()
    calls: list[Callable[[], Any]] = [
        lambda: store.get_state("AAPL"),
        store.all_states,
        lambda: store.update_news_check("AAPL"),
        lambda: store.update_earnings_check("AAPL"),
        lambda: store.update_fundamentals_check("AAPL"),
        lambda: store.flag_fundamentals_recheck("AAPL"),
        lambda: store.update_analysis_check("AAPL"),
        lambda: store.update_portfolio_update("AAPL"),
        lambda: store.record_fetch("AAPL", ok=True),
        lambda: store.delete("AAPL"),
        lambda: store.needs_news_fetch("AAPL"),
        lambda: store.needs_earnings_fetch("AAPL"),
        lambda: store.needs_fundamentals_check("AAPL"),
        lambda: store.get_stocks_needing_news(["AAPL"]),
        lambda: store.get_stocks_needing_earnings(["AAPL"]),
        lambda: store.get_stocks_needing_fundamentals(["AAPL"]),
        lambda: store.get_oldest_news_stocks(["AAPL"]),
        lambda: store.get_oldest_earnings_stocks(["AAPL"]),
        lambda: store.get_oldest_fundamentals_stocks(["AAPL"]),
    ]
    for call in calls:
        with pytest.raises(StoreClosedError):
            await call()


# -- stateful model test ------------------------------------------------------------------------

RAW = ["AAPL", "aapl", " msft", "BRK.B", "m&m", "^NSEI"]
SYMBOLS = st.sampled_from(RAW)
DATES = st.none() | st.integers(-10, 2).map(lambda d: D0 + timedelta(days=d))
KINDS = st.sampled_from(["news", "earnings", "fundamentals"])
FIELD = {"news": "last_news_check", "earnings": "last_earnings_check",
         "fundamentals": "last_fundamentals_check"}
INTERVAL = {"news": 1, "earnings": 7, "fundamentals": 3}


def norm(raw: str) -> str:
    return raw.strip().upper()


class StockStateMachine(RuleBasedStateMachine):
    """Random operations on a StockStateStore, mirrored on a plain dict."""

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.dir = Path(tempfile.mkdtemp(prefix="stockstate-"))
        self.clock = Clock(datetime(2025, 3, 10, 20, 0, tzinfo=UTC))  # 01:30 next day in IST
        self.model: dict[str, StockSchedulerState] = {}
        self.store = self.open()

    def open(self) -> StockStateStore:
        return self.runner.run(opened(self.dir, self.clock, tz="Asia/Kolkata",
                                      fundamentals_interval_days=3))

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    def today(self) -> date:
        return (self.clock.now + timedelta(hours=5, minutes=30)).date()

    def edit(self, raw: str, **fields: Any) -> None:
        sym = norm(raw)
        state = self.model.get(sym) or StockSchedulerState(symbol=sym)
        for name, value in fields.items():
            setattr(state, name, value)
        state.updated_at = self.clock.now
        self.model[sym] = state

    def due(self, kind: str, sym: str) -> bool:
        state = self.model.get(sym)
        if state is None:
            return True
        if kind == "fundamentals" and state.needs_fundamentals_recheck:
            return True
        last = getattr(state, FIELD[kind])
        return last is None or (self.today() - last).days >= INTERVAL[kind]

    @rule(raw=SYMBOLS, kind=KINDS, day=DATES)
    def check(self, raw: str, kind: str, day: date | None) -> None:
        self.run(getattr(self.store, f"update_{kind}_check")(raw, day))
        fields: dict[str, Any] = {FIELD[kind]: day or self.today(),
                                  f"last_{kind}_checked_at": self.clock.now}
        if kind == "fundamentals":
            fields["needs_fundamentals_recheck"] = False
        self.edit(raw, **fields)

    @rule(raw=SYMBOLS)
    def flag(self, raw: str) -> None:
        self.run(self.store.flag_fundamentals_recheck(raw))
        self.edit(raw, needs_fundamentals_recheck=True)

    @rule(raw=SYMBOLS, ok=st.booleans())
    def fetch(self, raw: str, ok: bool) -> None:
        self.run(self.store.record_fetch(raw, ok=ok))
        old = self.model.get(norm(raw)) or StockSchedulerState(symbol=norm(raw))
        self.edit(raw, fetch_count=old.fetch_count + 1, error_count=old.error_count + (not ok))

    @rule(raw=SYMBOLS, portfolio=st.booleans())
    def stamp(self, raw: str, portfolio: bool) -> None:
        if portfolio:
            self.run(self.store.update_portfolio_update(raw))
            self.edit(raw, last_portfolio_update=self.clock.now)
        else:
            self.run(self.store.update_analysis_check(raw))
            self.edit(raw, last_analysis_check=self.clock.now)

    @rule(raw=SYMBOLS)
    def delete(self, raw: str) -> None:
        assert self.run(self.store.delete(raw)) == (self.model.pop(norm(raw), None) is not None)

    @rule(hours=st.integers(1, 60))
    def advance(self, hours: int) -> None:
        self.clock.now += timedelta(hours=hours)

    @rule()
    def bad_input(self) -> None:
        with pytest.raises(ValidationError):
            self.run(self.store.record_fetch("../../x", ok=True))

    @rule()
    def reopen(self) -> None:
        self.run(self.store.close())
        self.store = self.open()

    @rule(raw=SYMBOLS)
    def get(self, raw: str) -> None:
        sym = norm(raw)
        expected = self.model.get(sym) or StockSchedulerState(symbol=sym, updated_at=self.clock.now)
        assert self.run(self.store.get_state(raw)) == expected

    @rule(raw=SYMBOLS, kind=KINDS)
    def needs(self, raw: str, kind: str) -> None:
        method = {"news": "needs_news_fetch", "earnings": "needs_earnings_fetch",
                  "fundamentals": "needs_fundamentals_check"}[kind]
        assert self.run(getattr(self.store, method)(raw)) is self.due(kind, norm(raw))

    @rule(raws=st.lists(SYMBOLS, max_size=8), kind=KINDS, limit=st.integers(0, 7))
    def lists(self, raws: list[str], kind: str, limit: int) -> None:
        unique = list(dict.fromkeys(norm(r) for r in raws))
        needing = self.run(getattr(self.store, f"get_stocks_needing_{kind}")(raws))
        assert needing == [sym for sym in unique if self.due(kind, sym)]
        last = {sym: getattr(self.model[sym], FIELD[kind]) if sym in self.model else None
                for sym in unique}
        never = [sym for sym in unique if last[sym] is None]
        checked = sorted((sym for sym in unique if last[sym] is not None),
                         key=lambda sym: last[sym] or D0)  # stable: ties keep input order
        oldest = self.run(getattr(self.store, f"get_oldest_{kind}_stocks")(raws, limit=limit))
        assert oldest == (never + checked)[:limit]

    @invariant()
    def everything_matches(self) -> None:
        assert self.run(self.store.all_states()) == dict(sorted(self.model.items()))

    def teardown(self) -> None:
        try:
            self.run(self.store.close())
        finally:
            self.runner.close()
            shutil.rmtree(self.dir, ignore_errors=True)


def test_stateful_against_in_memory_model() -> None:
    run_state_machine_as_test(
        StockStateMachine,
        settings=settings(max_examples=30, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )



async def test_save_states_restores_whole_states_atomically(tmp_path: Path) -> None:
    stamp = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    states = [
        StockSchedulerState(symbol=" brk.b ", last_news_check=date(2025, 1, 1), fetch_count=7,
                            error_count=2, needs_fundamentals_recheck=True, updated_at=stamp),
        StockSchedulerState(symbol="AAPL", fetch_count=3, updated_at=stamp),
    ]
    async with StockStateStore(tmp_path) as store:
        await store.save_states(states)
        states[1].fetch_count = 99  # the store kept its own copy
        got = await store.get_state("BRK.B")
        assert (got.fetch_count, got.error_count, got.needs_fundamentals_recheck) == (7, 2, True)
        assert got.updated_at == stamp
        bad = StockSchedulerState(symbol="MSFT", updated_at=stamp)
        bad.fetch_count = -1
        with pytest.raises(ValidationError):
            await store.save_states([StockSchedulerState(symbol="XOM", updated_at=stamp), bad])
        assert "XOM" not in await store.all_states()
        with pytest.raises(ValidationError):
            await store.save_states(states[0])  # type: ignore[arg-type]  # a single state
    async with StockStateStore(tmp_path, read_only=True) as store:
        assert (await store.get_state("AAPL")).fetch_count == 3
        assert sorted(await store.all_states()) == ["AAPL", "BRK.B"]
