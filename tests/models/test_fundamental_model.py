"""FundamentalSnapshot, EarningsReport, NewsItem and FundamentalAnalysis."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from tradestore.errors import ValidationError
from tradestore.models import (
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    NewsItem,
    news_id_for_item,
    news_id_for_url,
)

DAY = date(2025, 6, 2)
WHEN = datetime(2025, 6, 2, 14, 30, tzinfo=UTC)


def make_news(**changes: Any) -> NewsItem:
    """A valid news item with ``changes`` applied."""
    fields: dict[str, Any] = {
        "title": "Apple beats estimates",
        "url": "https://example.com/news/1",
        "published_at": WHEN,
    }
    fields.update(changes)
    return NewsItem(**fields)


# FundamentalSnapshot


def test_snapshot_defaults_and_normalisation() -> None:
    before = datetime.now(UTC)
    snap = FundamentalSnapshot(" infy ", DAY)
    assert snap.symbol == "INFY"
    assert snap.source == ""
    assert before <= snap.fetched_at <= datetime.now(UTC)
    for name in ("pe_ratio", "pb_ratio", "eps", "revenue", "market_cap", "dividend_yield"):
        assert getattr(snap, name) is None
    assert snap.extra == {}


def test_snapshot_metrics_accept_ints_and_refuse_non_finite() -> None:
    snap = FundamentalSnapshot("AAPL", DAY, pe_ratio=30, eps=-1.5)
    assert snap.pe_ratio == 30.0
    assert type(snap.pe_ratio) is float
    for name in ("pe_ratio", "roe", "debt_to_equity", "revenue_growth", "profit_margin"):
        bad: Any
        for bad in (math.nan, math.inf, "1", True):
            with pytest.raises(ValidationError) as info:
                FundamentalSnapshot("AAPL", DAY, **{name: bad})
            assert info.value.field == name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("symbol", "a/b"),
        ("as_of", datetime(2025, 6, 2, tzinfo=UTC)),
        ("as_of", None),
        ("source", 1),
        ("fetched_at", datetime(2025, 6, 2)),
        ("extra", {"a": math.nan}),
        ("extra", ["not", "a", "dict"]),
    ],
)
def test_snapshot_refuses(field: str, value: object) -> None:
    fields: dict[str, Any] = {"symbol": "AAPL", "as_of": DAY, field: value}
    with pytest.raises(ValidationError) as info:
        FundamentalSnapshot(**fields)
    assert info.value.field == field


def test_snapshot_clone_and_round_trip() -> None:
    snap = FundamentalSnapshot(
        "BRK.B", DAY, source="yf", pe_ratio=9.5, market_cap=8e11, extra={"peers": ["KO"]}
    )
    copy = snap.clone()
    copy.extra["peers"].append("PEP")
    copy.pe_ratio = 1.0
    assert snap.extra == {"peers": ["KO"]}
    assert snap.pe_ratio == 9.5
    decoded = msgspec.json.decode(msgspec.json.encode(snap), type=FundamentalSnapshot)
    assert decoded == snap


def test_snapshot_validate_catches_mutation() -> None:
    snap = FundamentalSnapshot("AAPL", DAY)
    snap.eps = math.nan
    with pytest.raises(ValidationError):
        snap.validate()


# EarningsReport


def test_earnings_defaults_and_round_trip() -> None:
    report = EarningsReport("m&m", "2025Q3", DAY)
    assert report.symbol == "M&M"
    assert report.eps_actual is None
    assert report.next_earnings_date is None
    assert report.extra == {}
    full = EarningsReport(
        "AAPL",
        "FY2025-Q3",
        DAY,
        eps_actual=1.5,
        eps_estimate=1,
        revenue_actual=9e10,
        revenue_estimate=8.8e10,
        next_earnings_date=date(2025, 9, 1),
        extra={"call": "https://example.com"},
    )
    assert full.eps_estimate == 1.0
    assert msgspec.json.decode(msgspec.json.encode(full), type=EarningsReport) == full
    copy = full.clone()
    copy.extra["call"] = "changed"
    assert full.extra == {"call": "https://example.com"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("symbol", ""),
        ("fiscal_period", ""),
        ("fiscal_period", "../Q3"),
        ("fiscal_period", None),
        ("report_date", datetime(2025, 6, 2, tzinfo=UTC)),
        ("eps_actual", math.nan),
        ("revenue_estimate", "big"),
        ("next_earnings_date", datetime(2025, 9, 1, tzinfo=UTC)),
        ("extra", {"x": {1, 2}}),
    ],
)
def test_earnings_refuses(field: str, value: object) -> None:
    fields: dict[str, Any] = {
        "symbol": "AAPL",
        "fiscal_period": "2025Q3",
        "report_date": DAY,
        field: value,
    }
    with pytest.raises(ValidationError) as info:
        EarningsReport(**fields)
    assert info.value.field == field


# NewsItem


def test_news_defaults_and_derived_id() -> None:
    item = make_news()
    assert item.symbol == ""
    assert item.summary == ""
    assert item.source == ""
    assert item.sentiment is None
    assert item.is_material is False
    expected = hashlib.sha256(b"https://example.com/news/1").hexdigest()[:32]
    assert item.id == expected
    assert len(item.id) == 32


def test_news_id_is_stable_across_trivial_url_differences() -> None:
    base = news_id_for_url("https://example.com/news/1")
    assert news_id_for_url("  HTTPS://EXAMPLE.com/news/1#comments ") == base
    assert news_id_for_url("https://example.com/news/2") != base
    assert news_id_for_url("https://example.com/News/1") != base  # paths are case-sensitive
    assert news_id_for_url("https://example.com") == news_id_for_url("https://example.com/")
    assert make_news(url="https://EXAMPLE.com/news/1#top").id == base


def test_news_given_id_is_kept() -> None:
    assert make_news(id="reuters:ABC123").id == "reuters:ABC123"
    assert make_news(id="b64/x+y==", url="").id == "b64/x+y=="


def test_news_without_id_or_url_gets_an_id_from_symbol_title_and_time() -> None:
    item = make_news(url="")
    assert item.id == news_id_for_item(item.symbol, item.title, item.published_at)
    with pytest.raises(ValidationError):
        news_id_for_url("")


def test_news_symbol_is_normalised_when_given() -> None:
    assert make_news(symbol=" bajaj-auto ").symbol == "BAJAJ-AUTO"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "has space"),
        ("id", "..."),
        ("id", "x" * 257),
        ("id", 5),
        ("symbol", "a/b"),
        ("title", ""),
        ("title", "   "),
        ("title", None),
        ("title", "x" * 70_000),
        ("summary", 3),
        ("url", "https://example.com/a b"),
        ("url", "https://example.com/\n"),
        ("url", None),
        ("url", "http://[::1"),
        ("source", None),
        ("published_at", datetime(2025, 6, 2)),
        ("published_at", DAY),
        ("sentiment", 1.01),
        ("sentiment", -1.01),
        ("sentiment", math.nan),
        ("sentiment", "0.5"),
        ("is_material", "yes"),
    ],
)
def test_news_refuses(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        make_news(**{field: value})
    assert info.value.field == field


def test_news_sentiment_bounds_are_inclusive() -> None:
    assert make_news(sentiment=-1).sentiment == -1.0
    assert make_news(sentiment=1.0).sentiment == 1.0


def test_news_round_trip_and_clone() -> None:
    item = make_news(
        symbol="AAPL",
        summary="Revenue up",
        source="wire",
        sentiment=0.4,
        is_material=True,
        published_at=datetime(2025, 6, 2, 9, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    )
    decoded = msgspec.json.decode(msgspec.json.encode(item), type=NewsItem)
    assert decoded == item
    assert decoded.id == item.id
    copy = item.clone()
    copy.title = "changed"
    assert item.title == "Apple beats estimates"


def test_news_decoding_derives_the_id() -> None:
    decoded = msgspec.json.decode(
        b'{"title": "t", "url": "https://example.com/news/1",'
        b' "published_at": "2025-06-02T00:00:00Z"}',
        type=NewsItem,
    )
    assert decoded.id == news_id_for_url("https://example.com/news/1")
    urlless = msgspec.json.decode(
        b'{"title": "t", "published_at": "2025-06-02T00:00:00Z"}', type=NewsItem
    )
    assert urlless.id == news_id_for_item("", "t", urlless.published_at)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"title": "", "published_at": "2025-06-02T00:00:00Z"}',
                            type=NewsItem)


# FundamentalAnalysis


def test_analysis_defaults_and_normalisation() -> None:
    before = datetime.now(UTC)
    analysis = FundamentalAnalysis(symbol="aapl", recommendation=" BUY ", confidence=1)
    assert analysis.symbol == "AAPL"
    assert analysis.recommendation == "buy"
    assert analysis.confidence == 1.0
    assert before <= analysis.analyzed_at <= datetime.now(UTC)
    assert analysis.fair_value is None
    assert analysis.summary == ""
    assert analysis.scores == {}
    assert analysis.extra == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("symbol", ""),
        ("analyzed_at", datetime(2025, 6, 2)),
        ("recommendation", "strong buy"),
        ("recommendation", ""),
        ("recommendation", None),
        ("confidence", -0.01),
        ("confidence", 1.01),
        ("confidence", math.nan),
        ("confidence", True),
        ("fair_value", math.inf),
        ("summary", None),
        ("scores", {"value": math.nan}),
        ("scores", {"value": "high"}),
        ("scores", [1.0]),
        ("extra", {"a": (1,)}),
    ],
)
def test_analysis_refuses(field: str, value: object) -> None:
    fields: dict[str, Any] = {
        "symbol": "AAPL",
        "recommendation": "hold",
        "confidence": 0.5,
        field: value,
    }
    with pytest.raises(ValidationError) as info:
        FundamentalAnalysis(**fields)
    assert info.value.field == field


def test_analysis_round_trip_and_clone() -> None:
    analysis = FundamentalAnalysis(
        symbol="AAPL",
        analyzed_at=WHEN,
        recommendation="sell",
        confidence=0.8,
        fair_value=150,
        summary="expensive",
        scores={"value": 0.2, "growth": 1},
        extra={"model": {"name": "dcf"}},
    )
    assert analysis.scores == {"value": 0.2, "growth": 1.0}
    decoded = msgspec.json.decode(msgspec.json.encode(analysis), type=FundamentalAnalysis)
    assert decoded == analysis
    copy = analysis.clone()
    copy.scores["value"] = 0.9
    copy.extra["model"]["name"] = "changed"
    assert analysis.scores["value"] == 0.2
    assert analysis.extra == {"model": {"name": "dcf"}}


def test_analysis_validate_catches_mutation() -> None:
    analysis = FundamentalAnalysis(symbol="AAPL", recommendation="hold", confidence=0.5)
    analysis.recommendation = "moon"
    with pytest.raises(ValidationError) as info:
        analysis.validate()
    assert info.value.field == "recommendation"
