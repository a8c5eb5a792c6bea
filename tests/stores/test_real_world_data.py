"""Real-world data: fiscal periods as providers write them, news without urls, news
extras, and one analysis per symbol per day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.stores.helpers import FakeClock, folder_bytes
from tradestore import (
    EarningsReport,
    FundamentalAnalysis,
    FundamentalStore,
    NewsItem,
    ValidationError,
)
from tradestore.models import news_id_for_item, normalize_fiscal_period

AT = dt.datetime(2025, 1, 2, 4, 0, tzinfo=dt.UTC)
REPORTED = dt.date(2024, 7, 20)


@pytest.mark.parametrize("raw", ["Q1 2024", "FY2024 Q1", "2024-Q1", "1Q24", "Q1 FY24", "q1-2024",
                                 "2024q1", "FY24Q1", " 2024 Q1 ", "Q1'24", "2024Q1"])
def test_quarter_forms_normalise_to_one(raw: str) -> None:
    assert normalize_fiscal_period(raw) == "2024Q1"
    report = EarningsReport(symbol="INFY", fiscal_period=raw, report_date=REPORTED)
    assert report.fiscal_period == "2024Q1"


def test_halves_years_and_other_identifiers() -> None:
    assert normalize_fiscal_period("H2 2024") == "2024H2"
    assert normalize_fiscal_period("FY 2024") == "FY2024"
    assert normalize_fiscal_period("FY2024") == "FY2024"
    assert normalize_fiscal_period("2025-annual") == "2025-annual"  # a valid identifier, kept


@pytest.mark.parametrize("raw", ["Q5 2024", "H3 2024", "first quarter 2024", "", "Q1/2024 x",
                                 None, 2024])
def test_unreadable_periods_say_what_form_is_expected(raw: object) -> None:
    with pytest.raises(ValidationError) as info:
        EarningsReport(symbol="INFY", fiscal_period=raw, report_date=REPORTED)  # type: ignore[arg-type]  # wrong types too
    assert info.value.field == "fiscal_period"
    assert "expected a fiscal period such as '2024Q1'" in info.value.message
    assert "'Q1 2024'" in info.value.message


async def test_spellings_of_one_period_are_one_report(tmp_path: Path) -> None:
    async with FundamentalStore(tmp_path, durable=False) as store:
        await store.save_earnings(EarningsReport(symbol="INFY", fiscal_period="Q1 2024",
                                                 report_date=REPORTED, eps_actual=1.0))
        await store.save_earnings(EarningsReport(symbol="INFY", fiscal_period="FY2024 Q1",
                                                 report_date=REPORTED, eps_actual=1.5))
        history = await store.get_earnings_history("INFY")
    assert [(r.fiscal_period, r.eps_actual) for r in history] == [("2024Q1", 1.5)]


# -- news ------------------------------------------------------------------------------------


def test_urlless_news_gets_a_stable_id_from_symbol_title_and_time() -> None:
    first = NewsItem(symbol="infy", title="Infosys wins  a deal", published_at=AT)
    again = NewsItem(symbol="INFY", title=" infosys wins a DEAL ",
                     published_at=AT.astimezone(ZoneInfo("Asia/Kolkata")))
    assert first.id == again.id == news_id_for_item("INFY", "Infosys wins a deal", AT)
    assert len(first.id) == 32
    other_time = NewsItem(symbol="INFY", title="Infosys wins a deal",
                          published_at=AT + dt.timedelta(minutes=1))
    other_symbol = NewsItem(symbol="TCS", title="Infosys wins a deal", published_at=AT)
    assert len({first.id, other_time.id, other_symbol.id}) == 3


async def test_urlless_news_is_stored_once(tmp_path: Path) -> None:
    async with FundamentalStore(tmp_path, durable=False) as store:
        item = NewsItem(symbol="INFY", title="Results beat estimates", published_at=AT)
        assert await store.save_news([item]) == 1
    async with FundamentalStore(tmp_path, durable=False) as store:  # fetched again later
        refetched = NewsItem(symbol="INFY", title="Results beat estimates", published_at=AT)
        assert await store.save_news([refetched]) == 0
        assert [n.title for n in await store.get_news("INFY")] == ["Results beat estimates"]


async def test_news_extra_round_trips_and_is_copied(tmp_path: Path) -> None:
    extra = {"provider": "newsapi", "tags": ["earnings"], "score": 0.5}
    async with FundamentalStore(tmp_path, durable=False) as store:
        item = NewsItem(symbol="INFY", title="t", url="https://x.test/a", published_at=AT,
                        extra=extra)
        await store.save_news([item])
        item.extra["tags"].append("changed later")  # the caller's object is not the store's
        got = (await store.get_news("INFY"))[0]
        assert got.extra == {"provider": "newsapi", "tags": ["earnings"], "score": 0.5}
        got.extra["provider"] = "mutated"
        assert (await store.get_news("INFY"))[0].extra["provider"] == "newsapi"
    async with FundamentalStore(tmp_path, durable=False) as store:
        assert (await store.get_news("INFY"))[0].extra["tags"] == ["earnings"]
    assert NewsItem(title="t", url="https://x.test/b", published_at=AT).extra == {}
    with pytest.raises(ValidationError) as info:
        NewsItem(title="t", url="https://x.test/c", published_at=AT, extra={"x": float("nan")})
    assert info.value.field == "extra"


# -- one analysis per symbol per day ---------------------------------------------------------


def analysis(at: dt.datetime, recommendation: str = "hold") -> FundamentalAnalysis:
    return FundamentalAnalysis(symbol="INFY", analyzed_at=at, recommendation=recommendation,
                               confidence=0.5)


async def test_replace_same_day_keeps_one_analysis_per_local_day(tmp_path: Path) -> None:
    ist = ZoneInfo("Asia/Kolkata")
    day_start = dt.datetime(2025, 1, 2, 0, 30, tzinfo=ist)  # 2025-01-01 19:00 UTC
    async with FundamentalStore(tmp_path, durable=False, tz="Asia/Kolkata") as store:
        await store.save_analysis(analysis(day_start - dt.timedelta(hours=1)))  # Jan 1 IST
        for hour in range(12):  # a bot re-analysing every hour
            await store.save_analysis(analysis(day_start + dt.timedelta(hours=hour), "buy"),
                                      replace_same_day=True)
        history = await store.get_analysis_history("INFY")
        assert [a.analyzed_at for a in history] == [day_start - dt.timedelta(hours=1),
                                                    day_start + dt.timedelta(hours=11)]
        await store.save_analysis(analysis(day_start + dt.timedelta(hours=12)))  # default: add
        assert len(await store.get_analysis_history("INFY")) == 3
    async with FundamentalStore(tmp_path, durable=False, tz="Asia/Kolkata") as store:
        assert len(await store.get_analysis_history("INFY")) == 3


async def test_replace_same_day_uses_the_store_clock_for_default_stamps(tmp_path: Path) -> None:
    clock = FakeClock(AT)
    async with FundamentalStore(tmp_path, durable=False, clock=clock) as store:
        for _ in range(5):
            await store.save_analysis(FundamentalAnalysis(symbol="INFY", recommendation="buy",
                                                          confidence=0.7),
                                      replace_same_day=True)
            clock.advance(minutes=30)
        history = await store.get_analysis_history("INFY")
    assert [a.analyzed_at for a in history] == [AT + dt.timedelta(minutes=120)]


async def test_replace_same_day_must_be_a_bool(tmp_path: Path) -> None:
    async with FundamentalStore(tmp_path, durable=False) as store:
        await store.save_analysis(analysis(AT))
        before = folder_bytes(tmp_path)
        with pytest.raises(ValidationError):
            await store.save_analysis(analysis(AT), replace_same_day="yes")  # type: ignore[arg-type]  # not a bool
        assert folder_bytes(tmp_path) == before
