"""FundamentalStore on both backends: snapshots, earnings, news, analyses, symbols."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tests.stores.helpers import T0, FakeClock
from tradestore import (
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    FundamentalStore,
    NewsItem,
    StoreError,
    ValidationError,
)

JST = timezone(timedelta(hours=9))


def news(n: int, symbol: str = "AAPL", **fields: object) -> NewsItem:
    base: dict[str, object] = {"symbol": symbol, "title": f"title {n}",
                               "url": f"https://example.com/{symbol}/{n}",
                               "published_at": T0 - timedelta(hours=n)}
    base.update(fields)
    return NewsItem(**base)  # type: ignore[arg-type]  # test data


async def test_snapshots_latest_history_stale(location: str, clock: FakeClock) -> None:
    async with FundamentalStore(location, clock=clock) as store:
        for day, pe in ((date(2024, 12, 31), 10.0), (date(2025, 3, 1), 11.5),
                        (date(2025, 1, 15), None)):
            await store.save_fundamentals(FundamentalSnapshot(
                symbol="aapl", as_of=day, source="src\x00", pe_ratio=pe, eps=1e-300,
                market_cap=3.1e12, fetched_at=T0 - timedelta(hours=2), extra={"q": [1, "z"]}))
        await store.save_fundamentals(FundamentalSnapshot(symbol="AAPL", as_of=date(2025, 3, 1),
                                                          pe_ratio=12.0, fetched_at=T0))
        latest = await store.get_latest_fundamentals("AAPL")
        assert latest == FundamentalSnapshot(symbol="AAPL", as_of=date(2025, 3, 1),
                                             pe_ratio=12.0, fetched_at=T0)
        history = await store.get_fundamentals_history("AAPL")
        assert [s.as_of for s in history] == [date(2024, 12, 31), date(2025, 1, 15),
                                              date(2025, 3, 1)]
        assert history[0].eps == 1e-300
        assert history[0].source == "src\x00"
        assert history[0].extra == {"q": [1, "z"]}
        assert [s.as_of for s in await store.get_fundamentals_history(
            "AAPL", start=date(2025, 1, 1), end=date(2025, 2, 1))] == [date(2025, 1, 15)]
        assert await store.get_latest_fundamentals("MSFT") is None
        assert await store.is_stale("AAPL", timedelta(hours=1)) is False
        clock.advance(hours=2)
        assert await store.is_stale("AAPL", timedelta(hours=1)) is True
        assert await store.is_stale("MSFT", timedelta(days=999)) is True
        with pytest.raises(ValidationError):
            await store.is_stale("AAPL", timedelta(seconds=-1))
        with pytest.raises(ValidationError):
            await store.get_fundamentals_history("AAPL", start=date(2025, 2, 1),
                                                 end=date(2025, 1, 1))
        with pytest.raises(ValidationError):
            await store.save_fundamentals(FundamentalSnapshot(symbol="AAPL", as_of=date(2025, 1, 1),
                                                              roe=float("inf")))


async def test_earnings_and_analyses(location: str) -> None:
    async with FundamentalStore(location) as store:
        await store.save_earnings(EarningsReport(symbol="MSFT", fiscal_period="2025Q1",
                                                 report_date=date(2025, 4, 25), eps_actual=3.0))
        await store.save_earnings(EarningsReport(symbol="MSFT", fiscal_period="2024Q4",
                                                 report_date=date(2025, 1, 29)))
        await store.save_earnings(EarningsReport(symbol="MSFT", fiscal_period="2025Q1",
                                                 report_date=date(2025, 4, 26), eps_actual=3.1,
                                                 next_earnings_date=date(2025, 7, 30)))
        history = await store.get_earnings_history("msft")
        assert [r.fiscal_period for r in history] == ["2024Q4", "2025Q1"]
        assert await store.get_latest_earnings("MSFT") == EarningsReport(
            symbol="MSFT", fiscal_period="2025Q1", report_date=date(2025, 4, 26), eps_actual=3.1,
            next_earnings_date=date(2025, 7, 30))
        assert await store.get_latest_earnings("NONE") is None
        at = datetime(2025, 3, 14, 21, 0, tzinfo=JST)
        first = FundamentalAnalysis(symbol="MSFT", analyzed_at=at, recommendation="BUY",
                                    confidence=0.7, scores={"value": 1}, extra={"m": "x"})
        await store.save_analysis(first)
        await store.save_analysis(FundamentalAnalysis(
            symbol="MSFT", analyzed_at=at - timedelta(days=1), recommendation="sell",
            confidence=1.0))
        latest = await store.get_latest_analysis("MSFT")
        assert latest == first
        assert latest is not None
        assert latest.recommendation == "buy"
        assert latest.analyzed_at.utcoffset() == timedelta(hours=9)
        assert [a.recommendation for a in await store.get_analysis_history("MSFT")] == [
            "sell", "buy"]
        with pytest.raises(ValidationError):
            await store.save_analysis(FundamentalAnalysis(symbol="MSFT", recommendation="maybe",
                                                          confidence=0.5))
        with pytest.raises(ValidationError):
            await store.save_analysis(FundamentalAnalysis(symbol="MSFT", recommendation="buy",
                                                          confidence=float("nan")))


async def test_news_dedup_order_filters_prune(location: str) -> None:
    async with FundamentalStore(location) as store:
        batch = [news(i) for i in range(5)] + [news(1, title="dup"), news(9, symbol="")]
        assert await store.save_news(batch) == 6
        assert await store.save_news([news(0), news(2), news(10, "MSFT")]) == 1
        assert await store.save_news([]) == 0
        tie = T0 - timedelta(hours=20)
        assert await store.save_news([NewsItem(id="b-id", title="t", published_at=tie),
                                      NewsItem(id="a-id", title="t", published_at=tie)]) == 2
        everything = await store.get_news()
        times = [n.published_at for n in everything]
        assert times == sorted(times, reverse=True)
        assert [n.id for n in everything if n.published_at == tie] == ["a-id", "b-id"]
        aapl = await store.get_news("aapl")
        assert [n.title for n in aapl] == ["title 0", "title 1", "title 2", "title 3", "title 4"]
        assert len(await store.get_news(limit=2)) == 2
        assert await store.get_news(limit=0) == []
        since = await store.get_news("AAPL", since=(T0 - timedelta(hours=2)).astimezone(JST))
        assert [n.title for n in since] == ["title 0", "title 1", "title 2"]
        assert await store.symbols() == ["AAPL", "MSFT"]
        assert await store.prune_news(T0 - timedelta(hours=3, minutes=30)) == 5
        assert len(await store.get_news()) == 4
        with pytest.raises(ValidationError):
            await store.save_news(news(1))  # type: ignore[arg-type]  # not an iterable
        with pytest.raises(ValidationError):
            await store.save_news([news(50), news(51, sentiment=2.0)])
        with pytest.raises(ValidationError):
            await store.get_news(since=datetime(2025, 1, 1))
        assert len(await store.get_news()) == 4


async def test_symbols_span_every_kind_and_read_only(location: str) -> None:
    async with FundamentalStore(location) as store:
        await store.save_fundamentals(FundamentalSnapshot(symbol="B", as_of=date(2025, 1, 1)))
        await store.save_earnings(EarningsReport(symbol="A", fiscal_period="Q",
                                                 report_date=date(2025, 1, 1)))
        await store.save_analysis(FundamentalAnalysis(symbol="D", recommendation="hold",
                                                      confidence=0.1, analyzed_at=T0))
        await store.save_news([news(1, symbol="C"), NewsItem(title="x", url="https://e.com/",
                                                             published_at=datetime.now(UTC))])
    async with FundamentalStore(location, read_only=True) as store:
        assert await store.symbols() == ["A", "B", "C", "D"]
        with pytest.raises(StoreError):
            await store.save_news([news(2)])


async def test_one_analysis_a_day_and_news_extra(location: str) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    async with FundamentalStore(location, tz="Asia/Kolkata") as store:
        morning = datetime(2025, 3, 14, 9, 0, tzinfo=ist)
        for hours, rec in ((0, "buy"), (5, "hold")):
            await store.save_analysis(FundamentalAnalysis(
                symbol="INFY", analyzed_at=morning + timedelta(hours=hours),
                recommendation=rec, confidence=0.5), replace_same_day=True)
        await store.save_analysis(FundamentalAnalysis(
            symbol="INFY", analyzed_at=morning + timedelta(days=1), recommendation="sell",
            confidence=0.5), replace_same_day=True)
        assert [a.recommendation for a in await store.get_analysis_history("INFY")] == [
            "hold", "sell"]
        await store.save_analysis(FundamentalAnalysis(
            symbol="INFY", analyzed_at=morning + timedelta(days=1, hours=1),
            recommendation="buy", confidence=0.5))
        assert len(await store.get_analysis_history("INFY")) == 3
        with pytest.raises(ValidationError):
            await store.save_analysis(FundamentalAnalysis(symbol="INFY", recommendation="buy",
                                                          confidence=0.5),
                                      replace_same_day=1)  # type: ignore[arg-type]
        item = news(1, extra={"provider": {"raw\x00": [1, 2.5]}})
        assert await store.save_news([item]) == 1
        assert (await store.get_news())[0].extra == {"provider": {"raw\x00": [1, 2.5]}}
