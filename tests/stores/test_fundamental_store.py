"""FundamentalStore: snapshots, earnings, news, analyses, staleness, symbols, safety."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.stores.helpers import T0, FakeClock, FullDiskFS, all_paths, folder_bytes
from tradestore import (
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    FundamentalStore,
    NewsItem,
    StoreClosedError,
    StoreError,
    StoreIOError,
    ValidationError,
)
from tradestore.persistence._fs import FileSystem
from tradestore.stores.fundamental_store import FileFundamentalStore

D0 = dt.date(2025, 3, 14)
EST = dt.timezone(dt.timedelta(hours=-5))


class CountingFS(FileSystem):
    """Records which document files are read."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def read(self, path: Path) -> bytes:
        if path.name.startswith("doc-"):
            self.reads.append(f"{path.parent.name}/{path.name}")
        return super().read(path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def store(data_dir: Path, clock: FakeClock) -> AsyncIterator[FundamentalStore]:
    s = FundamentalStore(data_dir, clock=clock, durable=False)
    await s.initialize()
    yield s
    await s.close()


def snap(symbol: str = "AAPL", as_of: dt.date = D0, **fields: Any) -> FundamentalSnapshot:
    fields.setdefault("fetched_at", T0)
    return FundamentalSnapshot(symbol=symbol, as_of=as_of, **fields)


def report(symbol: str = "AAPL", period: str = "2025Q1", day: dt.date = D0,
           **fields: Any) -> EarningsReport:
    return EarningsReport(symbol=symbol, fiscal_period=period, report_date=day, **fields)


def news(ident: str, when: dt.datetime = T0, symbol: str = "AAPL", **fields: Any) -> NewsItem:
    fields.setdefault("title", f"title {ident}")
    return NewsItem(id=ident, symbol=symbol, published_at=when, **fields)


def analysis(symbol: str = "AAPL", when: dt.datetime = T0, **fields: Any) -> FundamentalAnalysis:
    fields.setdefault("recommendation", "hold")
    fields.setdefault("confidence", 0.5)
    return FundamentalAnalysis(symbol=symbol, analyzed_at=when, **fields)


# -- snapshots -----------------------------------------------------------------------------


async def test_latest_snapshot_has_the_greatest_as_of(store: FundamentalStore) -> None:
    assert await store.get_latest_fundamentals("AAPL") is None
    for day in (dt.date(2024, 12, 31), dt.date(2025, 1, 2), dt.date(2023, 6, 1)):
        await store.save_fundamentals(snap(as_of=day, pe_ratio=float(day.year)))
    latest = await store.get_latest_fundamentals(" aapl ")
    assert latest is not None
    assert latest.as_of == dt.date(2025, 1, 2)
    assert latest.symbol == "AAPL"
    assert await store.get_latest_fundamentals("MSFT") is None


async def test_same_symbol_and_as_of_replaces(store: FundamentalStore) -> None:
    await store.save_fundamentals(snap(pe_ratio=10.0, source="a"))
    await store.save_fundamentals(snap("aapl", pe_ratio=12.0, source="b"))
    history = await store.get_fundamentals_history("AAPL")
    assert [(s.pe_ratio, s.source) for s in history] == [(12.0, "b")]


async def test_history_is_inclusive_sorted_and_spans_years(store: FundamentalStore) -> None:
    days = [dt.date(2025, 1, 1), dt.date(2023, 5, 5), dt.date(2024, 12, 31),
            dt.date(2024, 1, 1), dt.date(2025, 2, 1)]
    for day in days:
        await store.save_fundamentals(snap(as_of=day))
    await store.save_fundamentals(snap("MSFT", as_of=dt.date(2024, 6, 1)))
    everything = await store.get_fundamentals_history("AAPL")
    assert [s.as_of for s in everything] == sorted(days)
    mid = await store.get_fundamentals_history("AAPL", dt.date(2024, 1, 1), dt.date(2025, 1, 1))
    assert [s.as_of for s in mid] == [dt.date(2024, 1, 1), dt.date(2024, 12, 31),
                                      dt.date(2025, 1, 1)]
    tail = await store.get_fundamentals_history("AAPL", start=dt.date(2024, 12, 31))
    assert [s.as_of for s in tail] == [dt.date(2024, 12, 31), dt.date(2025, 1, 1),
                                       dt.date(2025, 2, 1)]
    head = await store.get_fundamentals_history("AAPL", end=dt.date(2024, 1, 1))
    assert [s.as_of for s in head] == [dt.date(2023, 5, 5), dt.date(2024, 1, 1)]
    with pytest.raises(ValidationError):
        await store.get_fundamentals_history("AAPL", dt.date(2025, 1, 2), dt.date(2025, 1, 1))
    with pytest.raises(ValidationError):
        await store.get_fundamentals_history("AAPL", T0)  # a datetime is no date


async def test_is_stale(store: FundamentalStore, clock: FakeClock) -> None:
    hour = dt.timedelta(hours=1)
    assert await store.is_stale("AAPL", hour)
    await store.save_fundamentals(snap(fetched_at=T0 - hour))
    assert not await store.is_stale("AAPL", hour)  # exactly max_age old is still fresh
    assert await store.is_stale("AAPL", hour - dt.timedelta(microseconds=1))
    assert not await store.is_stale("AAPL", dt.timedelta.max)
    # The latest snapshot (greatest as_of) decides, even if an older one was fetched later.
    await store.save_fundamentals(snap(as_of=D0 - dt.timedelta(days=1), fetched_at=T0))
    assert await store.is_stale("AAPL", dt.timedelta(minutes=30))
    clock.now = T0 - dt.timedelta(hours=2)  # a fetch "in the future" is fresh
    assert not await store.is_stale("AAPL", dt.timedelta(0))
    for bad in (dt.timedelta(seconds=-1), 3600, None):
        with pytest.raises(ValidationError):
            await store.is_stale("AAPL", bad)  # type: ignore[arg-type]


# -- earnings ------------------------------------------------------------------------------


async def test_earnings_keyed_by_period_latest_by_report_date(store: FundamentalStore) -> None:
    assert await store.get_latest_earnings("AAPL") is None
    assert await store.get_earnings_history("AAPL") == []
    await store.save_earnings(report(period="2025Q1", day=dt.date(2025, 4, 30), eps_actual=1.0))
    await store.save_earnings(report(period="2024Q4", day=dt.date(2025, 1, 30)))
    await store.save_earnings(report(period="2025Q2", day=dt.date(2025, 7, 30)))
    await store.save_earnings(report(period="2025Q1", day=dt.date(2025, 5, 1), eps_actual=2.0))
    await store.save_earnings(report("MSFT", period="2025Q3", day=dt.date(2026, 1, 1)))
    history = await store.get_earnings_history("aapl")
    assert [(r.fiscal_period, r.report_date) for r in history] == [
        ("2024Q4", dt.date(2025, 1, 30)), ("2025Q1", dt.date(2025, 5, 1)),
        ("2025Q2", dt.date(2025, 7, 30))]
    assert history[1].eps_actual == 2.0
    latest = await store.get_latest_earnings("AAPL")
    assert latest is not None
    assert latest.fiscal_period == "2025Q2"


# -- analyses ------------------------------------------------------------------------------


async def test_analyses_keep_history_and_latest_is_greatest_time(
    store: FundamentalStore,
) -> None:
    assert await store.get_latest_analysis("AAPL") is None
    await store.save_analysis(analysis(when=T0, recommendation="buy"))
    await store.save_analysis(analysis(when=T0 - dt.timedelta(days=1), recommendation="sell"))
    # 08:00 at UTC-5 is 13:00 UTC: later than T0 although its wall clock reads earlier.
    await store.save_analysis(analysis(when=dt.datetime(2025, 3, 14, 8, tzinfo=EST),
                                       recommendation="HOLD", confidence=1))
    await store.save_analysis(analysis("MSFT", when=T0 + dt.timedelta(days=9)))
    latest = await store.get_latest_analysis("AAPL")
    assert latest is not None
    assert latest.recommendation == "hold"
    assert latest.confidence == 1.0
    history = await store.get_analysis_history("AAPL")
    assert [a.recommendation for a in history] == ["sell", "buy", "hold"]
    # The same instant written in another zone replaces the record for that instant.
    await store.save_analysis(analysis(when=T0.astimezone(EST), recommendation="sell"))
    assert [a.recommendation for a in await store.get_analysis_history("AAPL")] == [
        "sell", "sell", "hold"]


# -- news ----------------------------------------------------------------------------------


async def test_save_news_counts_new_items_and_dedups(store: FundamentalStore) -> None:
    assert await store.save_news([]) == 0
    assert await store.save_news([news("a"), news("b"), news("a", title="dup")]) == 2
    assert await store.save_news([news("b"), news("c")]) == 1
    # The same id published in another month is still a duplicate.
    assert await store.save_news([news("a", T0 - dt.timedelta(days=90))]) == 0
    by_url = NewsItem(title="linked", url="https://Example.com/x", published_at=T0)
    same_url = NewsItem(title="again", url="https://example.com/x#frag", published_at=T0)
    assert await store.save_news(n for n in (by_url, same_url)) == 1
    ids = [n.id for n in await store.get_news()]
    assert sorted(ids) == sorted(["a", "b", "c", by_url.id])
    kept = [n for n in await store.get_news() if n.id == "a"]
    assert kept[0].title == "title a"  # the first stored item wins


async def test_news_dedup_survives_reopen(data_dir: Path, clock: FakeClock) -> None:
    async with FundamentalStore(data_dir, clock=clock) as s:
        assert await s.save_news([news(f"n{i}", T0 - dt.timedelta(days=20 * i))
                                  for i in range(10)]) == 10
    async with FundamentalStore(data_dir, clock=clock) as s:
        assert await s.save_news([news(f"n{i}") for i in range(12)]) == 2
        assert len(await s.get_news()) == 12


async def test_concurrent_news_saves_count_each_id_once(store: FundamentalStore) -> None:
    counts = await asyncio.gather(*(
        store.save_news([news(f"id{(i * 7 + j) % 50}", T0 - dt.timedelta(hours=j))
                         for j in range(10)])
        for i in range(40)
    ))
    assert sum(counts) == 50
    assert len(await store.get_news()) == 50


async def test_get_news_order_filters_and_limit(store: FundamentalStore) -> None:
    items = [
        news("m1", T0, "AAPL"), news("a1", T0, "AAPL"), news("z", T0 - dt.timedelta(days=1), ""),
        news("old", dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.UTC), "MSFT"),
        # 2025-01-01 02:00 at UTC+5 is still December in UTC.
        news("tz", dt.datetime(2025, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=5))),
             "MSFT"),
        news("new", T0 + dt.timedelta(days=40), "MSFT"),
    ]
    assert await store.save_news(items) == 6
    assert [n.id for n in await store.get_news()] == ["new", "a1", "m1", "z", "old", "tz"]
    assert [n.id for n in await store.get_news("msft")] == ["new", "old", "tz"]
    assert [n.id for n in await store.get_news(limit=2)] == ["new", "a1"]
    assert [n.id for n in await store.get_news(limit=3)] == ["new", "a1", "m1"]
    assert await store.get_news(limit=0) == []
    assert [n.id for n in await store.get_news(since=T0)] == ["new", "a1", "m1"]
    since = dt.datetime(2024, 12, 31, 21, 0, tzinfo=dt.UTC)
    assert [n.id for n in await store.get_news("MSFT", since=since.astimezone(EST))] == [
        "new", "old", "tz"]
    assert [n.id for n in await store.get_news("MSFT", since=since, limit=1)] == ["new"]
    assert await store.get_news("NFLX") == []
    for kwargs in ({"limit": -1}, {"limit": 1.5}, {"since": dt.datetime(2025, 1, 1)},
                   {"since": D0}):
        with pytest.raises(ValidationError):
            await store.get_news(**kwargs)


async def test_prune_news(data_dir: Path, clock: FakeClock) -> None:
    async with FundamentalStore(data_dir, clock=clock, durable=False) as s:
        assert await s.prune_news(T0) == 0
        await s.save_news([news("old", T0 - dt.timedelta(days=70), "OLD"),
                           news("edge", T0, "AAPL"),
                           news("just", T0 - dt.timedelta(microseconds=1), "AAPL"),
                           news("new", T0 + dt.timedelta(days=1), "AAPL")])
        assert await s.symbols() == ["AAPL", "OLD"]
        assert await s.prune_news(T0.astimezone(EST)) == 2
        assert [n.id for n in await s.get_news()] == ["new", "edge"]
        assert await s.symbols() == ["AAPL"]
        # A pruned id is forgotten: saving it again counts as new.
        assert await s.save_news([news("old", T0 - dt.timedelta(days=70))]) == 1
        with pytest.raises(ValidationError):
            await s.prune_news(dt.datetime(2025, 1, 1))
    async with FundamentalStore(data_dir, clock=clock, durable=False) as s:
        assert [n.id for n in await s.get_news()] == ["new", "edge", "old"]


async def test_queries_read_only_the_documents_they_need(data_dir: Path) -> None:
    async with FundamentalStore(data_dir, durable=False) as s:
        await s.save_news([news(f"n{m}", dt.datetime(2024, m, 15, tzinfo=dt.UTC))
                           for m in range(1, 13)])
        for year in range(2015, 2025):
            await s.save_fundamentals(snap(as_of=dt.date(year, 6, 1)))
    fs = CountingFS()
    async with FundamentalStore(data_dir, durable=False, fs=fs) as s:
        assert fs.reads == []
        assert [n.id for n in await s.get_news(limit=1)] == ["n12"]
        assert fs.reads == ["news/doc-2024-12.json"]
        assert [n.id for n in await s.get_news(since=dt.datetime(2024, 11, 1, tzinfo=dt.UTC))
                ] == ["n12", "n11"]
        assert fs.reads == ["news/doc-2024-12.json", "news/doc-2024-11.json"]
        fs.reads.clear()
        assert not await s.is_stale("AAPL", dt.timedelta(days=10**5))
        assert fs.reads == ["snapshots/doc-AAPL~2f2024.json"]


async def test_failed_news_write_forgets_nothing_and_claims_nothing(data_dir: Path) -> None:
    fs = FullDiskFS()
    async with FundamentalStore(data_dir, durable=False, fs=fs) as s:
        await s.save_news([news("kept")])
        fs.full = True
        with pytest.raises(StoreIOError) as info:
            await s.save_news([news("lost"), news("kept")])
        assert isinstance(info.value.__cause__, OSError)
        with pytest.raises(StoreIOError):
            await s.save_fundamentals(snap("LOST"))
        assert [n.id for n in await s.get_news()] == ["kept"]
        assert await s.symbols() == ["AAPL"]
        fs.full = False
        # The failed batch left no trace in the id index: its item is new now.
        assert await s.save_news([news("lost"), news("kept")]) == 1
    async with FundamentalStore(data_dir, durable=False) as s:
        assert sorted(n.id for n in await s.get_news()) == ["kept", "lost"]
        assert await s.symbols() == ["AAPL"]


# -- symbols and round trips ---------------------------------------------------------------


async def test_symbols_are_the_sorted_union(data_dir: Path, clock: FakeClock) -> None:
    async with FundamentalStore(data_dir, clock=clock, durable=False) as s:
        assert await s.symbols() == []
        await s.save_fundamentals(snap("msft"))
        await s.save_earnings(report("BRK.B"))
        await s.save_news([news("x", symbol="^NSEI"), news("y", symbol="")])
        await s.save_analysis(analysis("M&M"))
        await s.save_fundamentals(snap("MSFT", as_of=D0 - dt.timedelta(days=400)))
        expected = ["BRK.B", "M&M", "MSFT", "^NSEI"]
        assert await s.symbols() == expected
    async with FundamentalStore(data_dir, clock=clock, durable=False) as s:
        assert await s.symbols() == expected


async def test_reopen_round_trip(data_dir: Path, clock: FakeClock) -> None:
    async with FundamentalStore(data_dir, clock=clock) as s:
        snaps = [snap(f"S{i % 4}", D0 - dt.timedelta(days=100 * i), pe_ratio=i / 7,
                      extra={"i": i, "l": [1.5, None]}) for i in range(12)]
        for sn in snaps:
            await s.save_fundamentals(sn)
        reps = [report(f"S{i % 4}", f"2024Q{i % 4 + 1}", D0 - dt.timedelta(days=i),
                       eps_actual=i * 0.1) for i in range(8)]
        for rep in reps:
            await s.save_earnings(rep)
        items = [news(f"n{i}", T0 - dt.timedelta(days=13 * i), f"S{i % 4}", sentiment=-0.5,
                      is_material=True) for i in range(30)]
        await s.save_news(items)
        anas = [analysis(f"S{i % 4}", T0 - dt.timedelta(hours=i), scores={"q": i / 3})
                for i in range(8)]
        for ana in anas:
            await s.save_analysis(ana)
        before = (
            {sym: await s.get_fundamentals_history(sym) for sym in ("S0", "S1", "S2", "S3")},
            {sym: await s.get_earnings_history(sym) for sym in ("S0", "S1", "S2", "S3")},
            {sym: await s.get_analysis_history(sym) for sym in ("S0", "S1", "S2", "S3")},
            await s.get_news(), await s.symbols(),
        )
    async with FundamentalStore(data_dir, clock=clock) as s:
        after = (
            {sym: await s.get_fundamentals_history(sym) for sym in ("S0", "S1", "S2", "S3")},
            {sym: await s.get_earnings_history(sym) for sym in ("S0", "S1", "S2", "S3")},
            {sym: await s.get_analysis_history(sym) for sym in ("S0", "S1", "S2", "S3")},
            await s.get_news(), await s.symbols(),
        )
    assert after == before
    assert sum(len(v) for v in before[0].values()) == 12
    assert len(before[3]) == 30


# -- copies, bad input, modes, paths -------------------------------------------------------


async def test_reads_return_copies(store: FundamentalStore) -> None:
    given = snap(extra={"k": [1]})
    await store.save_fundamentals(given)
    given.extra["k"].append(2)  # the caller's object is not the stored one
    given.pe_ratio = 99.0
    got = await store.get_latest_fundamentals("AAPL")
    assert got is not None
    got.extra["k"].append(3)
    await store.save_earnings(report(extra={"a": {}}))
    rep = await store.get_latest_earnings("AAPL")
    assert rep is not None
    rep.extra["a"]["b"] = 1
    await store.save_news([news("n")])
    (await store.get_news())[0].title = "changed"
    await store.save_analysis(analysis(scores={"x": 1.0}))
    ana = await store.get_latest_analysis("AAPL")
    assert ana is not None
    ana.scores["x"] = 2.0
    history = await store.get_fundamentals_history("AAPL")
    assert history[0].extra == {"k": [1]}
    assert history[0].pe_ratio is None
    assert (await store.get_earnings_history("AAPL"))[0].extra == {"a": {}}
    assert (await store.get_news())[0].title == "title n"
    assert (await store.get_analysis_history("AAPL"))[0].scores == {"x": 1.0}


def _spoiled(make: Callable[[], Any], **changes: Any) -> Any:
    value = make()
    for name, bad in changes.items():
        setattr(value, name, bad)
    return value


def _bad_calls() -> list[tuple[str, Callable[[FundamentalStore], Awaitable[Any]]]]:
    nan, inf = math.nan, math.inf
    return [
        ("nan ratio", lambda s: s.save_fundamentals(_spoiled(snap, pe_ratio=nan))),
        ("inf ratio", lambda s: s.save_fundamentals(_spoiled(snap, roe=-inf))),
        ("naive fetched_at", lambda s: s.save_fundamentals(
            _spoiled(snap, fetched_at=dt.datetime(2025, 1, 1)))),
        ("escaping symbol", lambda s: s.save_fundamentals(_spoiled(snap, symbol="../../x"))),
        ("dot symbol", lambda s: s.save_fundamentals(_spoiled(snap, symbol=".."))),
        ("slash symbol", lambda s: s.save_earnings(_spoiled(report, symbol="A/B"))),
        ("escaping period", lambda s: s.save_earnings(_spoiled(report, fiscal_period="../q"))),
        ("nan eps", lambda s: s.save_earnings(_spoiled(report, eps_actual=nan))),
        ("sentiment > 1", lambda s: s.save_news([news("ok"), _spoiled(lambda: news("x"),
                                                                      sentiment=1.5)])),
        ("sentiment nan", lambda s: s.save_news([_spoiled(lambda: news("x"), sentiment=nan)])),
        ("naive published_at", lambda s: s.save_news(
            [news("ok"), _spoiled(lambda: news("x"), published_at=dt.datetime(2025, 1, 1))])),
        ("news not a list", lambda s: s.save_news(news("x"))),
        ("news of dicts", lambda s: s.save_news([{"id": "x"}])),
        ("news id with slash", lambda s: s.save_news([_spoiled(lambda: news("x"),
                                                               id="a b/../c")])),
        ("confidence > 1", lambda s: s.save_analysis(_spoiled(analysis, confidence=1.2))),
        ("confidence < 0", lambda s: s.save_analysis(_spoiled(analysis, confidence=-0.1))),
        ("bad recommendation", lambda s: s.save_analysis(
            _spoiled(analysis, recommendation="yolo"))),
        ("naive analyzed_at", lambda s: s.save_analysis(
            _spoiled(analysis, analyzed_at=dt.datetime(2025, 1, 1)))),
        ("inf score", lambda s: s.save_analysis(_spoiled(analysis, scores={"a": inf}))),
        ("wrong type", lambda s: s.save_fundamentals({"symbol": "AAPL"})),
        ("naive prune", lambda s: s.prune_news(dt.datetime(2030, 1, 1))),
        ("date prune", lambda s: s.prune_news(dt.date(2030, 1, 1))),
    ]


@pytest.mark.parametrize(("name", "call"), _bad_calls(), ids=[n for n, _ in _bad_calls()])
async def test_bad_input_changes_nothing(
    store: FundamentalStore, data_dir: Path, name: str,
    call: Callable[[FundamentalStore], Awaitable[Any]],
) -> None:
    await store.save_fundamentals(snap())
    await store.save_earnings(report())
    await store.save_news([news("n0", T0 - dt.timedelta(days=400))])
    await store.save_analysis(analysis())
    await store.flush()
    before = folder_bytes(data_dir)
    reads = (await store.get_fundamentals_history("AAPL"), await store.get_earnings_history(
        "AAPL"), await store.get_news(), await store.get_analysis_history("AAPL"))
    with pytest.raises(ValidationError):
        await call(store)
    await store.flush()
    assert folder_bytes(data_dir) == before
    assert (await store.get_fundamentals_history("AAPL"), await store.get_earnings_history(
        "AAPL"), await store.get_news(), await store.get_analysis_history("AAPL")) == reads
    assert await store.symbols() == ["AAPL"]


@pytest.mark.parametrize("symbol", ["../../x", "", "  ", "..", "a/b", "x" * 33, "é", "A B",
                                    "a\x00", None, 5])
async def test_bad_symbols_are_refused_by_reads(store: FundamentalStore, symbol: Any) -> None:
    reads: list[Callable[[], Awaitable[Any]]] = [
        lambda: store.get_latest_fundamentals(symbol),
        lambda: store.get_fundamentals_history(symbol),
        lambda: store.get_latest_earnings(symbol), lambda: store.get_earnings_history(symbol),
        lambda: store.get_latest_analysis(symbol), lambda: store.get_analysis_history(symbol),
        lambda: store.is_stale(symbol, dt.timedelta(1)),
    ]
    if symbol is not None:  # get_news(None) means every symbol
        reads.append(lambda: store.get_news(symbol))
    for read in reads:
        with pytest.raises(ValidationError):
            await read()


async def test_files_never_leave_the_store_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "deep" / "data"
    odd = ["..A", "A..", "^NSEI", "EURUSD=X", "M&M", "B:C", "X" * 32, "_-.9"]
    async with FundamentalStore(data_dir, durable=False) as s:
        for sym in odd:
            await s.save_fundamentals(snap(sym))
            await s.save_earnings(report(sym, period="..1"))
            await s.save_analysis(analysis(sym))
        await s.save_news([news("..1", symbol="..A"), news("../../etc", symbol="B:C")])
    inside = data_dir / "fundamentals"
    for path in all_paths(tmp_path):
        assert path in (tmp_path / "deep", data_dir, inside) or inside in path.parents, path
    async with FundamentalStore(data_dir, durable=False) as s:
        assert await s.symbols() == sorted(odd)
        assert {n.id for n in await s.get_news()} == {"..1", "../../etc"}
        for sym in odd:
            assert await s.get_latest_fundamentals(sym) is not None


async def test_read_only_store_refuses_mutation(data_dir: Path, clock: FakeClock) -> None:
    async with FundamentalStore(data_dir, clock=clock) as writer:
        await writer.save_fundamentals(snap())
        async with FundamentalStore(data_dir, clock=clock, read_only=True) as reader:
            for call in (reader.save_fundamentals(snap()), reader.save_earnings(report()),
                         reader.save_news([news("x")]), reader.save_analysis(analysis()),
                         reader.prune_news(T0)):
                with pytest.raises(StoreError):
                    await call
            await writer.save_earnings(report("MSFT"))
            assert await reader.symbols() == ["AAPL"]
            assert await reader.get_latest_fundamentals("AAPL") is not None
            await reader.reload()
            assert await reader.symbols() == ["AAPL", "MSFT"]


async def test_closed_store_raises(data_dir: Path) -> None:
    s = FundamentalStore(data_dir, durable=False)
    await s.save_fundamentals(snap())  # initializes on first use
    await s.close()
    calls = [s.save_fundamentals(snap()), s.get_latest_fundamentals("AAPL"),
             s.get_fundamentals_history("AAPL"), s.save_earnings(report()),
             s.get_latest_earnings("AAPL"), s.get_earnings_history("AAPL"),
             s.save_news([news("x")]), s.get_news(), s.save_analysis(analysis()),
             s.get_latest_analysis("AAPL"), s.get_analysis_history("AAPL"),
             s.is_stale("AAPL", dt.timedelta(1)), s.symbols(), s.prune_news(T0),
             s.initialize()]
    for call in calls:
        with pytest.raises(StoreClosedError):
            await call


def test_store_folders_are_separate(tmp_path: Path) -> None:
    s = FundamentalStore(tmp_path)
    assert isinstance(s, FileFundamentalStore)
    assert s.folder == tmp_path / "fundamentals"
    assert os.fspath(s.data_dir) == os.fspath(tmp_path)


# -- a stateful comparison against a plain model -------------------------------------------

SYMBOLS = ("AAPL", "BRK.B", "^NSEI")
OFFSETS = st.integers(-800, 30)


class FundamentalMachine(RuleBasedStateMachine):
    """The store against plain dicts of what was saved."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp(prefix="tradestore-fund-")
        self.runner = asyncio.Runner()
        self.clock = FakeClock()
        self.snaps: dict[tuple[str, dt.date], FundamentalSnapshot] = {}
        self.reports: dict[tuple[str, str], EarningsReport] = {}
        self.news: dict[str, NewsItem] = {}
        self.analyses: dict[tuple[str, dt.datetime], FundamentalAnalysis] = {}
        self.store = self._open()

    def _open(self) -> FundamentalStore:
        s = FundamentalStore(self.tmp, clock=self.clock, durable=False)
        self.runner.run(s.initialize())
        return s

    def teardown(self) -> None:
        try:
            self.runner.run(self.store.close())
        finally:
            self.runner.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    @rule(symbol=st.sampled_from(SYMBOLS), offset=OFFSETS, age=st.integers(0, 100),
          pe=st.none() | st.floats(-1e9, 1e9, allow_nan=False))
    def save_snapshot(self, symbol: str, offset: int, age: int, pe: float | None) -> None:
        s = snap(symbol, D0 + dt.timedelta(days=offset), fetched_at=T0 - dt.timedelta(hours=age),
                 pe_ratio=pe)
        self.runner.run(self.store.save_fundamentals(s))
        self.snaps[(symbol, s.as_of)] = s

    @rule(symbol=st.sampled_from(SYMBOLS), quarter=st.integers(1, 6), offset=OFFSETS)
    def save_report(self, symbol: str, quarter: int, offset: int) -> None:
        r = report(symbol, f"Q{quarter}", D0 + dt.timedelta(days=offset))
        self.runner.run(self.store.save_earnings(r))
        self.reports[(symbol, r.fiscal_period)] = r

    @rule(batch=st.lists(st.tuples(st.integers(0, 40), st.sampled_from(("", *SYMBOLS)),
                                   st.integers(-2000, 100)), max_size=6))
    def save_news(self, batch: list[tuple[int, str, int]]) -> None:
        items = [news(f"n{i}", T0 + dt.timedelta(hours=h * 7), sym) for i, sym, h in batch]
        fresh: dict[str, NewsItem] = {}
        for item in items:
            if item.id not in self.news and item.id not in fresh:
                fresh[item.id] = item
        assert self.runner.run(self.store.save_news(items)) == len(fresh)
        self.news.update(fresh)

    @rule(symbol=st.sampled_from(SYMBOLS), minutes=st.integers(-5000, 5000),
          confidence=st.floats(0, 1))
    def save_analysis(self, symbol: str, minutes: int, confidence: float) -> None:
        a = analysis(symbol, T0 + dt.timedelta(minutes=minutes), confidence=confidence)
        self.runner.run(self.store.save_analysis(a))
        self.analyses[(symbol, a.analyzed_at)] = a

    @rule(hours=st.integers(-3000, 200))
    def prune_news(self, hours: int) -> None:
        before = T0 + dt.timedelta(hours=hours)
        doomed = [k for k, n in self.news.items() if n.published_at < before]
        assert self.runner.run(self.store.prune_news(before)) == len(doomed)
        for k in doomed:
            del self.news[k]

    @rule()
    def reopen(self) -> None:
        self.runner.run(self.store.close())
        self.store = self._open()

    @rule(symbol=st.sampled_from((None, *SYMBOLS)), hours=st.none() | st.integers(-3000, 200),
          limit=st.none() | st.integers(0, 8))
    def query_news(self, symbol: str | None, hours: int | None, limit: int | None) -> None:
        since = None if hours is None else T0 + dt.timedelta(hours=hours)
        want = sorted((n for n in self.news.values()
                       if (symbol is None or n.symbol == symbol)
                       and (since is None or n.published_at >= since)),
                      key=lambda n: (-n.published_at.timestamp(), n.id))[:limit]
        got = self.runner.run(self.store.get_news(symbol, since=since, limit=limit))
        assert got == want

    @rule(symbol=st.sampled_from(SYMBOLS), a=OFFSETS, span=st.integers(0, 500))
    def history_range(self, symbol: str, a: int, span: int) -> None:
        start = D0 + dt.timedelta(days=a)
        end = start + dt.timedelta(days=span)
        got = self.runner.run(self.store.get_fundamentals_history(symbol, start, end))
        assert got == [self.snaps[k] for k in sorted(self.snaps)
                       if k[0] == symbol and start <= k[1] <= end]

    @invariant()
    def reads_match(self) -> None:
        run = self.runner.run
        for sym in SYMBOLS:
            snaps = [self.snaps[k] for k in sorted(self.snaps) if k[0] == sym]
            assert run(self.store.get_fundamentals_history(sym)) == snaps
            assert run(self.store.get_latest_fundamentals(sym)) == (snaps[-1] if snaps else None)
            stale = not snaps or T0 - snaps[-1].fetched_at > dt.timedelta(hours=50)
            assert run(self.store.is_stale(sym, dt.timedelta(hours=50))) == stale
            reps = sorted((r for (s, _), r in self.reports.items() if s == sym),
                          key=lambda r: (r.report_date, r.fiscal_period))
            assert run(self.store.get_earnings_history(sym)) == reps
            anas = [self.analyses[k] for k in sorted(self.analyses) if k[0] == sym]
            assert run(self.store.get_analysis_history(sym)) == anas
            assert run(self.store.get_latest_analysis(sym)) == (anas[-1] if anas else None)
        expected = {s for s, _ in self.snaps} | {s for s, _ in self.reports} | {
            s for s, _ in self.analyses} | {n.symbol for n in self.news.values() if n.symbol}
        assert run(self.store.symbols()) == sorted(expected)


TestFundamentalMachine = FundamentalMachine.TestCase
TestFundamentalMachine.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
