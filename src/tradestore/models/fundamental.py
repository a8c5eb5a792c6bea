"""Fundamental data: snapshots, earnings reports, news items and analyses."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import msgspec

from tradestore.errors import ValidationError
from tradestore.models._base import Model
from tradestore.models._checks import (
    ensure_aware,
    ensure_bool,
    ensure_date,
    ensure_finite,
    ensure_identifier,
    ensure_news_id,
    ensure_optional_date,
    ensure_optional_finite,
    ensure_symbol,
    ensure_text,
    ensure_url,
)
from tradestore.models._copies import copy_container, copy_json
from tradestore.models._json_checks import ensure_json_object, ensure_score_map
from tradestore.models._stamps import utc_now

__all__ = [
    "FISCAL_PERIOD_FORMS",
    "RECOMMENDATIONS",
    "EarningsReport",
    "FundamentalAnalysis",
    "FundamentalSnapshot",
    "NewsItem",
    "ensure_fiscal_period",
    "news_id_for_item",
    "news_id_for_url",
]

RECOMMENDATIONS = frozenset({"buy", "hold", "sell"})

_SNAPSHOT_METRICS = (
    "pe_ratio",
    "pb_ratio",
    "eps",
    "revenue",
    "revenue_growth",
    "profit_margin",
    "roe",
    "debt_to_equity",
    "market_cap",
    "dividend_yield",
)
_EARNINGS_FIGURES = ("eps_actual", "eps_estimate", "revenue_actual", "revenue_estimate")


def news_id_for_url(url: str) -> str:
    """A stable id for ``url``: 32 hex chars of the SHA-256 of its normalised form.

    Normalising strips surrounding blanks, lower-cases scheme and host, drops the
    fragment and writes an empty path as ``/``, so trivially different spellings of
    one link get one id.
    """
    text = ensure_url(url)
    if not text:
        raise ValidationError("url: expected a non-empty URL to derive an id from", field="url")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise ValidationError(f"url: not a valid URL: {exc}", field="url") from None
    normalised = urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:32]


FISCAL_PERIOD_FORMS = "'2024Q1' (also read: 'Q1 2024', 'FY2024 Q1', '2024-Q1', '1Q24', 'Q1 FY24')"
"""The fiscal period forms ``ensure_fiscal_period`` reads, for error messages."""

_YEAR = r"(?:FY)?'?(?P<year>\d{4}|\d{2})"
_SEP = r"[\s\-_/.:]*"
_PERIOD = r"(?:(?P<kind>[QH])(?P<num>[1-4])|(?P<num2>[1-4])(?P<kind2>[QH]))"
_FISCAL_FORMS = (
    re.compile(rf"{_YEAR}{_SEP}{_PERIOD}"),   # 2024Q1, 2024-Q1, FY2024 Q1, FY24Q1, 2024 1Q
    re.compile(rf"{_PERIOD}{_SEP}{_YEAR}"),   # Q1 2024, Q1-2024, Q1 FY24, 1Q24, Q1'24
)
_FY_ALONE = re.compile(r"FY[\s\-_]*(?P<year>\d{4}|\d{2})")
_BLANKS_RE = re.compile(r"\s+")


def ensure_fiscal_period(value: object, field: str = "fiscal_period") -> str:
    """A fiscal period in one form: ``"2024Q1"`` (quarters), ``"2024H1"`` (halves),
    ``"FY2024"`` (a whole year written with a blank, e.g. ``"FY 2024"``).

    Reads the forms providers and prompts produce, in any case: ``"Q1 2024"``,
    ``"FY2024 Q1"``, ``"2024-Q1"``, ``"1Q24"``, ``"Q1 FY24"``, ``"Q1'24"``. A two-digit
    year is 20yy. The year is the fiscal year as written (no calendar mapping). Any
    other identifier of ``[A-Za-z0-9.-_:]`` (``"FY2024"``, ``"2025-ANNUAL"``) is kept
    as given.

    :raises ValidationError: ``value`` is none of these; the message names the form.
    """
    if isinstance(value, str):
        text = value.strip()
        upper = _BLANKS_RE.sub(" ", text.upper())
        for form in _FISCAL_FORMS:
            match = form.fullmatch(upper)
            if match is not None:
                year = match["year"]
                kind = match["kind"] or match["kind2"]
                num = match["num"] or match["num2"]
                if kind == "H" and num not in ("1", "2"):
                    break
                return f"{'20' + year if len(year) == 2 else year}{kind}{num}"
        match = _FY_ALONE.fullmatch(upper)
        if match is not None:
            year = match["year"]
            return f"FY{'20' + year if len(year) == 2 else year}"
        try:
            return ensure_identifier(text, field)
        except ValidationError:
            pass
    raise ValidationError(f"{field}: expected a fiscal period such as {FISCAL_PERIOD_FORMS}, "
                          f"got {value!r:.80}", field=field)


def news_id_for_item(symbol: str, title: str, published_at: datetime) -> str:
    """A stable id for a news item without a url: 32 hex chars of a SHA-256 of its
    symbol, its title (blanks collapsed, case folded) and its UTC publication time.

    The same story fetched twice gets the same id, so ``save_news`` stores it once.
    """
    key = "\n".join((
        symbol, " ".join(title.split()).casefold(),
        published_at.astimezone(UTC).isoformat(timespec="microseconds"),
    ))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _check_floats(model: msgspec.Struct, names: tuple[str, ...]) -> None:
    """Check that each named field is None or finite; store ints as floats."""
    for name in names:
        value = getattr(model, name)
        if value is not None:
            setattr(model, name, ensure_finite(value, name))


class FundamentalSnapshot(Model):
    """A symbol's fundamental ratios as of one day; each metric is None when unknown."""

    symbol: str
    as_of: date
    source: str = ""
    fetched_at: datetime = msgspec.field(default_factory=utc_now)
    pe_ratio: float | None = None
    pb_ratio: float | None = None
    eps: float | None = None
    revenue: float | None = None
    revenue_growth: float | None = None
    profit_margin: float | None = None
    roe: float | None = None
    debt_to_equity: float | None = None
    market_cap: float | None = None
    dividend_yield: float | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def validate(self) -> None:
        """Check every field and normalise the symbol; raise ``ValidationError`` on bad values."""
        self.symbol = ensure_symbol(self.symbol)
        self.as_of = ensure_date(self.as_of, "as_of")
        self.source = ensure_text(self.source, "source")
        self.fetched_at = ensure_aware(self.fetched_at, "fetched_at")
        _check_floats(self, _SNAPSHOT_METRICS)
        ensure_json_object(self.extra, "extra")

    def clone(self) -> Self:
        """A deep copy sharing no dict with this snapshot."""
        copied = super().clone()
        copied.extra = copy_json(self.extra)
        return copied


class EarningsReport(Model):
    """Reported and estimated earnings for one fiscal period (e.g. ``"2025Q3"``).

    ``fiscal_period`` is normalised by :func:`ensure_fiscal_period` (``"Q3 2025"``
    and ``"FY2025 Q3"`` are stored as ``"2025Q3"``).
    """

    symbol: str
    fiscal_period: str
    report_date: date
    eps_actual: float | None = None
    eps_estimate: float | None = None
    revenue_actual: float | None = None
    revenue_estimate: float | None = None
    next_earnings_date: date | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def validate(self) -> None:
        """Check every field and normalise the symbol; raise ``ValidationError`` on bad values."""
        self.symbol = ensure_symbol(self.symbol)
        self.fiscal_period = ensure_fiscal_period(self.fiscal_period)
        self.report_date = ensure_date(self.report_date, "report_date")
        _check_floats(self, _EARNINGS_FIGURES)
        self.next_earnings_date = ensure_optional_date(self.next_earnings_date,
                                                       "next_earnings_date")
        ensure_json_object(self.extra, "extra")

    def clone(self) -> Self:
        """A deep copy sharing no dict with this report."""
        copied = super().clone()
        copied.extra = copy_json(self.extra)
        return copied


class NewsItem(Model, kw_only=True):
    """A news article; ``symbol`` may be empty. ``id``, when not given, is derived from
    ``url`` (``news_id_for_url``), or for an item without one from its symbol, title and
    publication time (``news_id_for_item``). ``extra`` holds any other JSON data.

    Keyword-only: the contract's field order puts the optional ``id`` first.
    """

    id: str = ""
    symbol: str = ""
    title: str
    summary: str = ""
    url: str = ""
    source: str = ""
    published_at: datetime
    sentiment: float | None = None
    is_material: bool = False
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def validate(self) -> None:
        """Check every field, normalise symbol and url, derive ``id``; raise on bad values."""
        if self.symbol != "":
            self.symbol = ensure_symbol(self.symbol)
        self.title = ensure_text(self.title, "title", allow_empty=False)
        self.summary = ensure_text(self.summary, "summary")
        self.url = ensure_url(self.url)
        self.source = ensure_text(self.source, "source")
        self.published_at = ensure_aware(self.published_at, "published_at")
        self.sentiment = ensure_optional_finite(
            self.sentiment, "sentiment", minimum=-1.0, maximum=1.0
        )
        ensure_bool(self.is_material, "is_material")
        if not isinstance(self.id, str):
            raise ValidationError(f"id: expected a str, got {self.id!r:.80}", field="id")
        if type(self.id) is not str:
            self.id = str.__str__(self.id)  # a str subclass (numpy's str_) as a plain str
        ensure_json_object(self.extra, "extra")
        if self.id == "":
            self.id = (news_id_for_url(self.url) if self.url else
                       news_id_for_item(self.symbol, self.title, self.published_at))
        else:
            ensure_news_id(self.id, "id")

    def clone(self) -> Self:
        """A deep copy sharing no dict with this item."""
        copied = super().clone()
        copied.extra = copy_json(self.extra) if self.extra or type(self.extra) is not dict else {}
        return copied


class FundamentalAnalysis(Model, kw_only=True):
    """A recommendation ("buy", "hold" or "sell") with its confidence from 0 to 1.

    Keyword-only: the contract's field order puts the defaulted ``analyzed_at`` second.
    """

    symbol: str
    analyzed_at: datetime = msgspec.field(default_factory=utc_now)
    recommendation: str
    confidence: float
    fair_value: float | None = None
    summary: str = ""
    scores: dict[str, float] = msgspec.field(default_factory=dict)
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def validate(self) -> None:
        """Check every field, normalise symbol and recommendation; raise on bad values."""
        self.symbol = ensure_symbol(self.symbol)
        self.analyzed_at = ensure_aware(self.analyzed_at, "analyzed_at")
        if isinstance(self.recommendation, str):
            self.recommendation = self.recommendation.strip().lower()
        if not isinstance(self.recommendation, str) or self.recommendation not in RECOMMENDATIONS:
            raise ValidationError(
                f"recommendation: expected 'buy', 'hold' or 'sell', "
                f"got {self.recommendation!r:.80}",
                field="recommendation",
            )
        self.confidence = ensure_finite(self.confidence, "confidence", minimum=0.0, maximum=1.0)
        self.fair_value = ensure_optional_finite(self.fair_value, "fair_value")
        self.summary = ensure_text(self.summary, "summary")
        ensure_score_map(self.scores)
        ensure_json_object(self.extra, "extra")

    def clone(self) -> Self:
        """A deep copy sharing no dict with this analysis."""
        copied = super().clone()
        copied.scores = copy_container(self.scores)
        copied.extra = copy_json(self.extra)
        return copied
