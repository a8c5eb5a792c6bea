"""StrategyLogStore: merge rules, period queries, summaries, pruning, safety."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.stores.helpers import (
    T0,
    CountingFS,
    FakeClock,
    FullDiskFS,
    all_paths,
    folder_bytes,
)
from tradestore import (
    PerformanceSummary,
    StoreClosedError,
    StoreError,
    StoreIOError,
    StrategyLog,
    StrategyLogStore,
    ValidationError,
)

DAY = dt.date(2025, 3, 14)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def store(data_dir: Path, clock: FakeClock) -> AsyncIterator[StrategyLogStore]:
    s = StrategyLogStore(data_dir, clock=clock, durable=False)
    await s.initialize()
    yield s
    await s.close()


def log(day: dt.date = DAY, /, **fields: Any) -> StrategyLog:
    return StrategyLog(date=day, **fields)


# -- add_log and its merge rules -----------------------------------------------------------


async def test_first_add_is_stamped_by_the_store(store: StrategyLogStore) -> None:
    given = log(created_at=T0 - dt.timedelta(days=9), updated_at=T0 - dt.timedelta(days=9),
                what_worked=["a", "b", "a"], trades_executed=3, pnl_realized=1.5)
    stored = await store.add_log("momentum", given)
    assert stored.strategy_type == "momentum"
    assert stored.created_at == T0
    assert stored.updated_at == T0
    assert stored.what_worked == ["a", "b"]  # a stored list never holds repeats
    assert stored.trades_executed == 3
    assert stored.pnl_realized == 1.5
    assert given.strategy_type == ""  # the caller's object is left alone
    assert await store.get_log("momentum", DAY) == stored


@pytest.mark.parametrize("field", ["what_worked", "what_didnt_work", "market_observations"])
async def test_lists_are_extended_without_repeats_in_order(
    store: StrategyLogStore, field: str
) -> None:
    await store.add_log("s", log(**{field: ["x", "y"]}))
    merged = await store.add_log("s", log(**{field: ["y", "z", "x", "w"]}))
    assert getattr(merged, field) == ["x", "y", "z", "w"]


async def test_tomorrows_focus_is_replaced(store: StrategyLogStore) -> None:
    await store.add_log("s", log(tomorrows_focus=["old", "older"]))
    merged = await store.add_log("s", log(tomorrows_focus=["new"]))
    assert merged.tomorrows_focus == ["new"]


async def test_counts_pnl_and_token_usage_are_summed(store: StrategyLogStore) -> None:
    await store.add_log("s", log(trades_executed=2, wins=1, losses=1, pnl_realized=10.25,
                                 token_usage={"gpt": 100, "claude": 5}))
    merged = await store.add_log("s", log(trades_executed=3, wins=2, losses=0,
                                          pnl_realized=-4.0, token_usage={"gpt": 1, "x": 7}))
    assert (merged.trades_executed, merged.wins, merged.losses) == (5, 3, 1)
    assert merged.pnl_realized == 6.25
    assert merged.token_usage == {"gpt": 101, "claude": 5, "x": 7}


async def test_metadata_is_updated_key_by_key(store: StrategyLogStore) -> None:
    await store.add_log("s", log(metadata={"a": 1, "b": {"deep": True}}))
    merged = await store.add_log("s", log(metadata={"b": 2, "c": [3]}))
    assert merged.metadata == {"a": 1, "b": 2, "c": [3]}


async def test_created_at_is_kept_and_updated_at_moves(
    store: StrategyLogStore, clock: FakeClock
) -> None:
    await store.add_log("s", log())
    clock.advance(hours=2)
    merged = await store.add_log("s", log(created_at=T0 + dt.timedelta(days=5)))
    assert merged.created_at == T0
    assert merged.updated_at == T0 + dt.timedelta(hours=2)


async def test_logs_of_other_days_and_strategies_do_not_merge(store: StrategyLogStore) -> None:
    await store.add_log("s", log(trades_executed=1))
    await store.add_log("s", log(DAY + dt.timedelta(days=1), trades_executed=2))
    await store.add_log("t", log(trades_executed=4))
    day_log = await store.get_log("s", DAY)
    assert day_log is not None
    assert day_log.trades_executed == 1
    other = await store.get_log("t", DAY)
    assert other is not None
    assert other.trades_executed == 4


async def test_log_naming_its_own_strategy(store: StrategyLogStore) -> None:
    stored = await store.add_log("s", log(strategy_type="s", wins=1))
    assert stored.strategy_type == "s"
    with pytest.raises(ValidationError):
        await store.add_log("s", log(strategy_type="other"))
    assert (await store.get_log("s", DAY)) == stored


async def test_merged_totals_past_the_limits_are_refused(store: StrategyLogStore) -> None:
    await store.add_log("s", log(trades_executed=2**63 - 1, pnl_realized=1.5e308))
    with pytest.raises(ValidationError):
        await store.add_log("s", log(trades_executed=1))
    with pytest.raises(ValidationError):
        await store.add_log("s", log(pnl_realized=1.5e308))  # sum overflows to inf
    kept = await store.get_log("s", DAY)
    assert kept is not None
    assert kept.trades_executed == 2**63 - 1
    assert math.isfinite(kept.pnl_realized)


async def test_300_concurrent_adds_to_one_day_sum_exactly(
    data_dir: Path, clock: FakeClock
) -> None:
    async with StrategyLogStore(data_dir, clock=clock) as s:
        await asyncio.gather(*(
            s.add_log("s", log(trades_executed=1, wins=i % 2, losses=1 - i % 2,
                               pnl_realized=0.5, token_usage={"m": 2},
                               what_worked=[f"w{i % 7}"]))
            for i in range(300)
        ))
        merged = await s.get_log("s", DAY)
        assert merged is not None
        assert merged.trades_executed == 300
        assert merged.wins + merged.losses == 300
        assert merged.pnl_realized == 150.0
        assert merged.token_usage == {"m": 600}
        assert sorted(merged.what_worked) == sorted(f"w{i}" for i in range(7))
    async with StrategyLogStore(data_dir, clock=clock, read_only=True) as again:
        assert await again.get_log("s", DAY) == merged


async def test_failed_write_leaves_the_merged_log_as_committed(data_dir: Path) -> None:
    fs = FullDiskFS()
    async with StrategyLogStore(data_dir, durable=False, fs=fs) as s:
        await s.add_log("s", log(trades_executed=1, what_worked=["a"]))
        fs.full = True
        with pytest.raises(StoreIOError):
            await s.add_log("s", log(trades_executed=5, what_worked=["b"]))
        with pytest.raises(StoreIOError):
            await s.add_log("new", log(trades_executed=5))
        kept = await s.get_log("s", DAY)
        assert kept is not None
        assert (kept.trades_executed, kept.what_worked) == (1, ["a"])
        assert await s.strategy_types() == ["s"]
        fs.full = False
        merged = await s.add_log("s", log(trades_executed=2, what_worked=["c"]))
        assert (merged.trades_executed, merged.what_worked) == (3, ["a", "c"])
    async with StrategyLogStore(data_dir, durable=False) as s:
        assert await s.get_log("s", DAY) == merged
        assert await s.strategy_types() == ["s"]


# -- queries -------------------------------------------------------------------------------


async def test_today_follows_the_store_time_zone(data_dir: Path) -> None:
    clock = FakeClock(dt.datetime(2025, 3, 31, 20, 0, tzinfo=dt.UTC))
    async with StrategyLogStore(data_dir, tz="Asia/Kolkata", clock=clock, durable=False) as s:
        assert s.today() == dt.date(2025, 4, 1)
        await s.add_log("s", log(dt.date(2025, 4, 1), wins=1))
        await s.add_log("s", log(dt.date(2025, 3, 31), wins=2))
        today = await s.get_today_log("s")
        assert today is not None
        assert today.wins == 1
        assert await s.get_today_log("nothing") is None
        recent = await s.get_recent_logs("s", days=0)
        assert [x.date for x in recent] == [dt.date(2025, 4, 1)]


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "../../etc/passwd", 5])
def test_unknown_time_zone_is_refused(tmp_path: Path, tz: Any) -> None:
    with pytest.raises(ValidationError):
        StrategyLogStore(tmp_path, tz=tz)


async def test_period_is_inclusive_sorted_and_spans_months_and_years(
    store: StrategyLogStore,
) -> None:
    days = [dt.date(2024, 12, 31), dt.date(2025, 2, 1), dt.date(2025, 1, 1),
            dt.date(2024, 11, 30), dt.date(2025, 2, 2), dt.date(2025, 1, 15)]
    for day in days:
        await store.add_log("s", log(day))
    await store.add_log("other", log(dt.date(2025, 1, 2)))
    got = await store.get_logs_for_period("s", dt.date(2024, 12, 31), dt.date(2025, 2, 1))
    assert [x.date for x in got] == [dt.date(2024, 12, 31), dt.date(2025, 1, 1),
                                     dt.date(2025, 1, 15), dt.date(2025, 2, 1)]
    assert all(x.strategy_type == "s" for x in got)
    one = await store.get_logs_for_period("s", dt.date(2025, 1, 1), dt.date(2025, 1, 1))
    assert [x.date for x in one] == [dt.date(2025, 1, 1)]
    assert await store.get_logs_for_period("s", dt.date(1, 1, 1), dt.date(2024, 1, 1)) == []
    with pytest.raises(ValidationError):
        await store.get_logs_for_period("s", dt.date(2025, 2, 1), dt.date(2025, 1, 1))
    with pytest.raises(ValidationError):
        await store.get_logs_for_period("s", T0, dt.date(2025, 1, 1))  # a datetime is no date


async def test_recent_logs_cover_today_minus_days_to_today(store: StrategyLogStore) -> None:
    for offset in (-31, -30, -1, 0, 1):
        await store.add_log("s", log(DAY + dt.timedelta(days=offset), wins=offset + 40))
    recent = await store.get_recent_logs("s")
    assert [x.date for x in recent] == [DAY - dt.timedelta(days=30), DAY - dt.timedelta(days=1),
                                        DAY]
    assert [x.date for x in await store.get_recent_logs("s", 1)] == [
        DAY - dt.timedelta(days=1), DAY]
    assert len(await store.get_recent_logs("s", 10**9)) == 4
    for bad in (-1, True, 1.5, "3"):
        with pytest.raises(ValidationError):
            await store.get_recent_logs("s", bad)  # type: ignore[arg-type]


async def test_performance_summary(store: StrategyLogStore) -> None:
    empty = await store.get_performance_summary("s", 7)
    assert empty == PerformanceSummary(period_days=7)
    await store.add_log("s", log(DAY - dt.timedelta(days=2), trades_executed=4, wins=3,
                                 losses=1, pnl_realized=100.0))
    await store.add_log("s", log(trades_executed=6, wins=0, losses=2, pnl_realized=-40.0))
    await store.add_log("s", log(DAY - dt.timedelta(days=60), trades_executed=99, wins=99))
    summary = await store.get_performance_summary("s")
    assert summary.period_days == 30
    assert summary.total_logs == 2
    assert (summary.total_trades, summary.total_wins, summary.total_losses) == (10, 3, 3)
    assert summary.win_rate == 50.0
    assert summary.total_pnl == 60.0
    assert summary.avg_pnl_per_trade == 6.0


async def test_summary_without_closed_trades_has_zero_rates(store: StrategyLogStore) -> None:
    await store.add_log("s", log(trades_executed=0, pnl_realized=5.0))
    summary = await store.get_performance_summary("s")
    assert summary.win_rate == 0.0
    assert summary.avg_pnl_per_trade == 0.0
    assert summary.total_pnl == 5.0


async def test_insights_rank_by_frequency_then_first_seen(store: StrategyLogStore) -> None:
    assert await store.get_insights("s", 5) == {
        "period_days": 5, "top_working_strategies": [], "top_failing_approaches": [],
        "most_recent_focus": [],
    }
    await store.add_log("s", log(DAY - dt.timedelta(days=3), what_worked=["f", "a", "b"],
                                 what_didnt_work=["x"], tomorrows_focus=["old"]))
    await store.add_log("s", log(DAY - dt.timedelta(days=2), what_worked=["b", "c", "d", "e"],
                                 what_didnt_work=["y", "x"]))
    await store.add_log("s", log(DAY, what_worked=["e", "g"], tomorrows_focus=["latest"]))
    await store.add_log("s", log(DAY - dt.timedelta(days=1), tomorrows_focus=["middle"]))
    insights = await store.get_insights("s")
    # b and e twice; then f, a, c (first seen order) among the ones seen once.
    assert insights["top_working_strategies"] == ["b", "e", "f", "a", "c"]
    assert insights["top_failing_approaches"] == ["x", "y"]
    assert insights["most_recent_focus"] == ["latest"]
    assert insights["period_days"] == 30


async def test_strategy_types_and_prune(data_dir: Path, clock: FakeClock) -> None:
    async with StrategyLogStore(data_dir, clock=clock, durable=False) as s:
        assert await s.strategy_types() == []
        await s.add_log("zeta", log(dt.date(2025, 1, 10)))
        await s.add_log("alpha", log(dt.date(2025, 3, 1)))
        await s.add_log("alpha", log(dt.date(2025, 2, 28)))
        await s.add_log("mid", log(dt.date(2024, 12, 31)))
        assert await s.strategy_types() == ["alpha", "mid", "zeta"]
        assert await s.prune(dt.date(2025, 1, 10)) == 1
        assert await s.prune(dt.date(2025, 1, 10)) == 0
        assert await s.strategy_types() == ["alpha", "zeta"]
        assert await s.prune(dt.date(2025, 3, 1)) == 2
        assert await s.get_log("alpha", dt.date(2025, 3, 1)) is not None
        assert await s.get_log("alpha", dt.date(2025, 2, 28)) is None
        with pytest.raises(ValidationError):
            await s.prune(T0)  # a datetime is no date
    async with StrategyLogStore(data_dir, clock=clock, durable=False) as s:
        assert await s.strategy_types() == ["alpha"]
        assert [x.date for x in await s.get_logs_for_period(
            "alpha", dt.date(2000, 1, 1), dt.date(2030, 1, 1))] == [dt.date(2025, 3, 1)]


async def test_reopen_round_trip(data_dir: Path, clock: FakeClock) -> None:
    written: list[StrategyLog] = []
    async with StrategyLogStore(data_dir, clock=clock) as s:
        for i in range(40):
            clock.advance(hours=7)
            written.append(await s.add_log(f"s{i % 3}", log(
                DAY - dt.timedelta(days=i * 5), what_worked=[f"w{i}"], trades_executed=i,
                pnl_realized=i / 3, token_usage={"m": i}, metadata={"i": i, "n": [None]})))
    async with StrategyLogStore(data_dir, clock=clock) as s:
        for w in written:
            assert await s.get_log(w.strategy_type, w.date) == w
        assert await s.strategy_types() == ["s0", "s1", "s2"]


async def test_recent_logs_read_only_the_months_they_cover(data_dir: Path) -> None:
    clock = FakeClock(dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC))
    async with StrategyLogStore(data_dir, clock=clock, durable=False) as s:
        for i in range(400):
            await s.add_log("s", log(dt.date(2025, 3, 10) - dt.timedelta(days=i)))
    fs = CountingFS()
    async with StrategyLogStore(data_dir, clock=clock, durable=False, fs=fs) as s:
        assert fs.reads == []
        assert len(await s.get_recent_logs("s")) == 31
        assert sorted(fs.reads) == ["doc-s~2f2025-02.json", "doc-s~2f2025-03.json"]


# -- copies, bad input, modes, paths -------------------------------------------------------


async def test_reads_return_copies(store: StrategyLogStore) -> None:
    returned = await store.add_log("s", log(what_worked=["a"], metadata={"k": {"v": 1}}))
    returned.what_worked.append("mutated")
    returned.metadata["k"]["v"] = 2
    got = await store.get_log("s", DAY)
    assert got is not None
    assert got.what_worked == ["a"]
    assert got.metadata == {"k": {"v": 1}}
    got.token_usage["x"] = 1
    got.wins = 99
    for read in (await store.get_recent_logs("s"),
                 await store.get_logs_for_period("s", DAY, DAY)):
        read[0].what_worked.clear()
    again = await store.get_today_log("s")
    assert again is not None
    assert again.what_worked == ["a"]
    assert again.token_usage == {}
    assert again.wins == 0


def _bad_logs() -> list[tuple[str, Callable[[StrategyLog], None]]]:
    def setter(field: str, value: Any) -> Callable[[StrategyLog], None]:
        return lambda lg: setattr(lg, field, value)

    return [
        ("nan pnl", setter("pnl_realized", math.nan)),
        ("inf pnl", setter("pnl_realized", math.inf)),
        ("negative trades", setter("trades_executed", -1)),
        ("negative wins", setter("wins", -2)),
        ("negative losses", setter("losses", -3)),
        ("bool count", setter("wins", True)),
        ("negative tokens", setter("token_usage", {"m": -5})),
        ("naive created_at", setter("created_at", dt.datetime(2025, 1, 1))),
        ("datetime as date", setter("date", T0)),
        ("list of ints", setter("what_worked", [1, 2])),
        ("bad strategy in log", setter("strategy_type", "../../x")),
        ("non-json metadata", setter("metadata", {"x": object()})),
    ]


@pytest.mark.parametrize(("name", "spoil"), _bad_logs(), ids=[n for n, _ in _bad_logs()])
async def test_bad_log_changes_nothing(
    store: StrategyLogStore, data_dir: Path, name: str, spoil: Callable[[StrategyLog], None]
) -> None:
    await store.add_log("s", log(wins=1))
    await store.flush()
    before, kept = folder_bytes(data_dir), await store.get_log("s", DAY)
    bad = log(wins=1)
    spoil(bad)
    with pytest.raises(ValidationError):
        await store.add_log("s", bad)
    await store.flush()
    assert folder_bytes(data_dir) == before
    assert await store.get_log("s", DAY) == kept


@pytest.mark.parametrize("name", ["../../x", "", "a/b", "..", ".", "x" * 129, "a b", "é",
                                  "a\x00b", "-", None, 7])
async def test_bad_strategy_names_are_refused_everywhere(
    tmp_path: Path, data_dir: Path, store: StrategyLogStore, name: Any
) -> None:
    await store.add_log("ok", log())
    await store.flush()
    before = folder_bytes(data_dir)
    with pytest.raises(ValidationError):
        await store.add_log(name, log())
    for read in (store.get_log(name, DAY), store.get_today_log(name),
                 store.get_recent_logs(name), store.get_performance_summary(name),
                 store.get_insights(name),
                 store.get_logs_for_period(name, DAY, DAY)):
        with pytest.raises(ValidationError):
            await read
    assert folder_bytes(data_dir) == before
    assert sorted(os.listdir(tmp_path)) == ["data"]


async def test_files_never_leave_the_store_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "deep" / "data"
    async with StrategyLogStore(data_dir, durable=False) as s:
        for name in ("..a", "a..", ":.:x", "x.-_:", "CON", "a" * 128):
            await s.add_log(name, log())
        assert await s.strategy_types() == sorted(("..a", "a..", ":.:x", "x.-_:", "CON",
                                                   "a" * 128))
    inside = data_dir / "strategy_logs"
    for path in all_paths(tmp_path):
        assert path in (tmp_path / "deep", data_dir, inside) or inside in path.parents, path
    async with StrategyLogStore(data_dir, durable=False) as s:
        assert len(await s.strategy_types()) == 6


async def test_read_only_store_refuses_mutation(data_dir: Path, clock: FakeClock) -> None:
    async with StrategyLogStore(data_dir, clock=clock) as writer:
        await writer.add_log("s", log(wins=1))
        async with StrategyLogStore(data_dir, clock=clock, read_only=True) as reader:
            with pytest.raises(StoreError):
                await reader.add_log("s", log(wins=1))
            with pytest.raises(StoreError):
                await reader.prune(DAY)
            await writer.add_log("t", log(wins=5))
            seen = await reader.get_log("s", DAY)
            assert seen is not None
            assert seen.wins == 1
            assert await reader.strategy_types() == ["s"]
            await reader.reload()
            assert await reader.strategy_types() == ["s", "t"]


async def test_closed_store_raises(data_dir: Path) -> None:
    s = StrategyLogStore(data_dir, durable=False)
    await s.add_log("s", log())  # initializes on first use
    await s.close()
    calls = [s.add_log("s", log()), s.get_log("s", DAY), s.get_today_log("s"),
             s.get_logs_for_period("s", DAY, DAY), s.get_recent_logs("s"),
             s.get_performance_summary("s"), s.get_insights("s"), s.strategy_types(),
             s.prune(DAY), s.initialize()]
    for call in calls:
        with pytest.raises(StoreClosedError):
            await call


# -- a stateful comparison against a plain model -------------------------------------------

STRATEGIES = ("alpha", "beta", "g.1")
WORDS = st.lists(st.sampled_from("abcdefgh"), max_size=4)


def _model_merge(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    def unique(items: list[str]) -> list[str]:
        return list(dict.fromkeys(items))

    if old is None:
        return {**new, **{f: unique(new[f]) for f in ("worked", "didnt", "focus", "obs")}}
    tokens = dict(old["tokens"])
    for k, v in new["tokens"].items():
        tokens[k] = tokens.get(k, 0) + v
    return {
        "worked": unique(old["worked"] + new["worked"]),
        "didnt": unique(old["didnt"] + new["didnt"]),
        "obs": unique(old["obs"] + new["obs"]),
        "focus": unique(new["focus"]),
        "trades": old["trades"] + new["trades"],
        "wins": old["wins"] + new["wins"],
        "losses": old["losses"] + new["losses"],
        "pnl": old["pnl"] + new["pnl"],
        "tokens": tokens,
        "meta": {**old["meta"], **new["meta"]},
        "created": old["created"],
        "updated": new["updated"],
    }


def _as_model(lg: StrategyLog) -> dict[str, Any]:
    return {"worked": lg.what_worked, "didnt": lg.what_didnt_work, "obs": lg.market_observations,
            "focus": lg.tomorrows_focus, "trades": lg.trades_executed, "wins": lg.wins,
            "losses": lg.losses, "pnl": lg.pnl_realized, "tokens": lg.token_usage,
            "meta": lg.metadata, "created": lg.created_at, "updated": lg.updated_at}


class StrategyLogMachine(RuleBasedStateMachine):
    """The store against a dict of (strategy, day) -> merged fields."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp(prefix="tradestore-logs-")
        self.runner = asyncio.Runner()
        self.clock = FakeClock()
        self.model: dict[tuple[str, dt.date], dict[str, Any]] = {}
        self.store = self._open()

    def _open(self) -> StrategyLogStore:
        s = StrategyLogStore(self.tmp, clock=self.clock, durable=False)
        self.runner.run(s.initialize())
        return s

    def teardown(self) -> None:
        try:
            self.runner.run(self.store.close())
        finally:
            self.runner.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    @rule(strategy=st.sampled_from(STRATEGIES), offset=st.integers(-70, 5), worked=WORDS,
          didnt=WORDS, focus=WORDS, obs=WORDS, trades=st.integers(0, 9), wins=st.integers(0, 5),
          losses=st.integers(0, 5), pnl=st.floats(-1e6, 1e6, allow_nan=False),
          tokens=st.dictionaries(st.sampled_from("xyz"), st.integers(0, 100), max_size=2),
          meta=st.dictionaries(st.sampled_from("pq"), st.integers(0, 3), max_size=2))
    def add(self, strategy: str, offset: int, worked: list[str], didnt: list[str],
            focus: list[str], obs: list[str], trades: int, wins: int, losses: int, pnl: float,
            tokens: dict[str, int], meta: dict[str, int]) -> None:
        day = DAY + dt.timedelta(days=offset)
        new = {"worked": worked, "didnt": didnt, "focus": focus, "obs": obs, "trades": trades,
               "wins": wins, "losses": losses, "pnl": pnl, "tokens": tokens, "meta": meta,
               "created": self.clock.now, "updated": self.clock.now}
        expected = _model_merge(self.model.get((strategy, day)), new)
        got = self.runner.run(self.store.add_log(strategy, StrategyLog(
            date=day, what_worked=worked, what_didnt_work=didnt, tomorrows_focus=focus,
            market_observations=obs, trades_executed=trades, wins=wins, losses=losses,
            pnl_realized=pnl, token_usage=tokens, metadata=meta)))
        self.model[(strategy, day)] = expected
        assert _as_model(got) == expected

    @rule(hours=st.integers(1, 60))
    def tick(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule(offset=st.integers(-80, 10))
    def prune(self, offset: int) -> None:
        before = DAY + dt.timedelta(days=offset)
        doomed = [k for k in self.model if k[1] < before]
        assert self.runner.run(self.store.prune(before)) == len(doomed)
        for k in doomed:
            del self.model[k]

    @rule()
    def reopen(self) -> None:
        self.runner.run(self.store.close())
        self.store = self._open()

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def period(self, data: st.DataObject) -> None:
        strategy = data.draw(st.sampled_from(STRATEGIES))
        a = DAY + dt.timedelta(days=data.draw(st.integers(-80, 10)))
        b = a + dt.timedelta(days=data.draw(st.integers(0, 50)))
        got = self.runner.run(self.store.get_logs_for_period(strategy, a, b))
        want = sorted(d for (s, d) in self.model if s == strategy and a <= d <= b)
        assert [x.date for x in got] == want
        assert [_as_model(x) for x in got] == [self.model[(strategy, d)] for d in want]

    @invariant()
    def reads_match(self) -> None:
        today = self.clock.now.date()
        for strategy in STRATEGIES:
            for days in (0, 7, 30):
                recent = self.runner.run(self.store.get_recent_logs(strategy, days))
                want = sorted(d for (s, d) in self.model if s == strategy
                              and today - dt.timedelta(days=days) <= d <= today)
                assert [x.date for x in recent] == want
            summary = self.runner.run(self.store.get_performance_summary(strategy))
            assert summary.total_logs == len(self.runner.run(self.store.get_recent_logs(
                strategy)))
        assert self.runner.run(self.store.strategy_types()) == sorted({s for s, _ in self.model})
        for (strategy, day), fields in self.model.items():
            got = self.runner.run(self.store.get_log(strategy, day))
            assert got is not None
            assert _as_model(got) == fields


TestStrategyLogMachine = StrategyLogMachine.TestCase
TestStrategyLogMachine.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
