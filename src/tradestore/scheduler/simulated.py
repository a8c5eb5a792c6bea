"""An offline, deterministic market for demos and tests: ``SimulatedMarket(seed=...)``.

Every figure is a pure function of the seed, the symbol and the date, so two
runs with the same seed see the same market whatever the order of the calls,
and nothing touches the network.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import UTC, date, datetime, time, timedelta

from tradestore import EarningsReport, FundamentalSnapshot, NewsItem
from tradestore.scheduler.market import MarketDataError

__all__ = ["SimulatedMarket"]

_EPOCH = date(2020, 1, 1)
_WALK_CHUNK = 256
_REPORT_LAG_DAYS = (21, 45)  # a quarter is reported 3 to 6 weeks after it ends
_HEADLINES_GOOD = (
    "{s} beats expectations as demand stays strong",
    "Analysts raise their target on {s}",
    "{s} announces a share buyback",
    "{s} wins a large multi-year contract",
)
_HEADLINES_BAD = (
    "{s} cuts guidance on weaker orders",
    "Regulators open an inquiry into {s}",
    "{s} loses a key customer",
    "Short seller publishes a report on {s}",
)
_HEADLINES_FLAT = (
    "{s} to present at an industry conference",
    "{s} reshuffles its management team",
    "What to watch in {s} this week",
)


def _quarter_end(year: int, quarter: int) -> date:
    month = quarter * 3
    return date(year, month, 31 if month in (3, 12) else 30)


class SimulatedMarket:
    """A seeded random-walk market with fundamentals, quarterly earnings and news.

    ``failure_rate`` makes that share of calls raise ``MarketDataError`` (chosen
    by a seeded sequence, so a run is still reproducible) to exercise retries.
    """

    def __init__(self, seed: int = 0, *, failure_rate: float = 0.0) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError(f"failure_rate must be within [0, 1], got {failure_rate!r}")
        self.seed = seed
        self.failure_rate = failure_rate
        self._failures = random.Random(self._key("failures"))
        self._closes: dict[str, list[float]] = {}

    @property
    def name(self) -> str:
        """The source name written on snapshots."""
        return f"simulated:{self.seed}"

    # -- the MarketDataSource protocol ----------------------------------------

    async def get_price(self, symbol: str, at: datetime) -> float:
        """The previous close moved by a seeded intraday drift up to ``at``'s minute."""
        self._maybe_fail("price", symbol)
        day = at.astimezone(UTC).date()
        previous = self._close(symbol, day - timedelta(days=1))
        minute = at.astimezone(UTC).hour * 60 + at.astimezone(UTC).minute
        rng = self._rng("intraday", symbol, day.isoformat(), str(minute))
        vol = self._profile(symbol)["vol"] * math.sqrt(max(minute, 1) / 1440)
        return round(previous * math.exp(rng.gauss(0.0, vol)), 4)

    async def get_daily_closes(self, symbol: str, end: date, days: int) -> list[float]:
        """``days`` closes up to ``end``, oldest first."""
        self._maybe_fail("closes", symbol)
        return [self._close(symbol, end - timedelta(days=n)) for n in range(days - 1, -1, -1)]

    async def get_fundamentals(self, symbol: str, at: datetime) -> FundamentalSnapshot:
        """Ratios from the symbol's profile, its latest reported quarter and the price."""
        self._maybe_fail("fundamentals", symbol)
        day = at.astimezone(UTC).date()
        profile = self._profile(symbol)
        price = self._close(symbol, day)
        reports = self._reports(symbol, day, 4)
        eps = sum(r.eps_actual or 0.0 for r in reports) if reports else profile["eps"]
        revenue = sum(r.revenue_actual or 0.0 for r in reports) or profile["revenue"]
        growth = self._rng("growth", symbol, str(self._quarter_index(day))).gauss(
            profile["growth"], 0.03
        )
        return FundamentalSnapshot(
            symbol=symbol,
            as_of=day,
            source=self.name,
            fetched_at=at,
            pe_ratio=round(price / eps, 2) if eps > 0 else None,
            pb_ratio=round(profile["pb"] * price / profile["price"], 2),
            eps=round(eps, 4),
            revenue=round(revenue, 0),
            revenue_growth=round(growth, 4),
            profit_margin=round(profile["margin"], 4),
            roe=round(profile["roe"], 4),
            debt_to_equity=round(profile["de"], 3),
            market_cap=round(price * profile["shares"], 0),
            dividend_yield=round(profile["dividend"], 4),
            extra={"price": price},
        )

    async def get_earnings(self, symbol: str, as_of: date) -> list[EarningsReport]:
        """The last four quarterly reports published by ``as_of``, oldest first."""
        self._maybe_fail("earnings", symbol)
        return self._reports(symbol, as_of, 4)

    async def get_news(self, symbol: str, since: datetime, until: datetime) -> list[NewsItem]:
        """Zero to three seeded stories a day, newest first."""
        self._maybe_fail("news", symbol)
        items: list[NewsItem] = []
        day = since.astimezone(UTC).date()
        while day <= until.astimezone(UTC).date():
            items.extend(
                item
                for item in self._news_of_day(symbol, day)
                if since <= item.published_at <= until
            )
            day += timedelta(days=1)
        items.sort(key=lambda item: item.published_at, reverse=True)
        return items

    # -- the seeded model --------------------------------------------------------

    def _key(self, *parts: str) -> int:
        text = "|".join((str(self.seed), *parts)).encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")

    def _rng(self, *parts: str) -> random.Random:
        return random.Random(self._key(*parts))

    def _maybe_fail(self, what: str, symbol: str) -> None:
        if self.failure_rate and self._failures.random() < self.failure_rate:
            raise MarketDataError(f"simulated {what} feed error for {symbol}", symbol=symbol)

    def _profile(self, symbol: str) -> dict[str, float]:
        rng = self._rng("profile", symbol)
        price = math.exp(rng.uniform(math.log(15), math.log(600)))
        pe = rng.uniform(8, 45)
        shares = rng.uniform(2e8, 1.5e10)
        margin = rng.uniform(0.03, 0.35)
        eps = price / pe
        return {
            "price": price,
            "eps": eps,
            "pb": rng.uniform(0.8, 12),
            "shares": shares,
            "revenue": eps * shares / margin,
            "margin": margin,
            "growth": rng.uniform(-0.05, 0.25),
            "roe": rng.uniform(0.02, 0.4),
            "de": rng.uniform(0.0, 2.5),
            "dividend": rng.choice([0.0, 0.0, rng.uniform(0.005, 0.05)]),
            "vol": rng.uniform(0.01, 0.03),
            "drift": rng.uniform(-0.0002, 0.0008),
        }

    def _close(self, symbol: str, day: date) -> float:
        """The close of ``day``: a seeded geometric random walk from 2020-01-01."""
        closes = self._closes.get(symbol)
        profile = self._profile(symbol)
        if closes is None:
            closes = self._closes[symbol] = [profile["price"]]
        index = max(0, (day - _EPOCH).days)
        while len(closes) <= index:
            # Whole chunks, each from its own seed: the walk never depends on call order.
            rng = self._rng("walk", symbol, str((len(closes) - 1) // _WALK_CHUNK))
            for _ in range(_WALK_CHUNK):
                closes.append(closes[-1] * math.exp(rng.gauss(profile["drift"], profile["vol"])))
        return round(closes[index], 4)

    @staticmethod
    def _quarter_index(day: date) -> int:
        return day.year * 4 + (day.month - 1) // 3

    def _report_of(self, symbol: str, quarter_index: int) -> EarningsReport:
        year, q = divmod(quarter_index, 4)
        rng = self._rng("earnings", symbol, str(quarter_index))
        profile = self._profile(symbol)
        scale = (1 + profile["growth"]) ** ((quarter_index - _EPOCH.year * 4) / 4)
        estimate = profile["eps"] / 4 * scale
        actual = estimate * (1 + rng.gauss(0.02, 0.08))
        revenue_estimate = profile["revenue"] / 4 * scale
        ends = _quarter_end(year, q + 1)
        lag = self._rng("lag", symbol, str(quarter_index + 1)).randint(*_REPORT_LAG_DAYS)
        next_lag = self._rng("lag", symbol, str(quarter_index + 2)).randint(*_REPORT_LAG_DAYS)
        next_year, next_q = divmod(quarter_index + 1, 4)
        return EarningsReport(
            symbol=symbol,
            fiscal_period=f"{year}Q{q + 1}",
            report_date=ends + timedelta(days=lag),
            eps_actual=round(actual, 4),
            eps_estimate=round(estimate, 4),
            revenue_actual=round(revenue_estimate * (1 + rng.gauss(0.01, 0.04)), 0),
            revenue_estimate=round(revenue_estimate, 0),
            next_earnings_date=_quarter_end(next_year, next_q + 1) + timedelta(days=next_lag),
        )

    def _reports(self, symbol: str, as_of: date, count: int) -> list[EarningsReport]:
        found: list[EarningsReport] = []
        quarter = self._quarter_index(as_of)
        while len(found) < count and quarter > _EPOCH.year * 4:
            quarter -= 1
            report = self._report_of(symbol, quarter)
            if report.report_date <= as_of:
                found.append(report)
        return found[::-1]

    def _news_of_day(self, symbol: str, day: date) -> list[NewsItem]:
        rng = self._rng("news", symbol, day.isoformat())
        items = []
        for n in range(rng.choice((0, 1, 1, 2, 3))):
            sentiment = round(max(-1.0, min(1.0, rng.gauss(0.05, 0.45))), 3)
            pool = (
                _HEADLINES_GOOD
                if sentiment > 0.25
                else _HEADLINES_BAD
                if sentiment < -0.25
                else _HEADLINES_FLAT
            )
            published = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59)), UTC)
            items.append(
                NewsItem(
                    symbol=symbol,
                    title=rng.choice(pool).format(s=symbol),
                    summary=f"Simulated story {n + 1} of {day.isoformat()} about {symbol}.",
                    url=f"https://news.example.com/{symbol.lower()}/{day.isoformat()}/{n + 1}",
                    source="simulated-wire",
                    published_at=published,
                    sentiment=sentiment,
                    is_material=abs(sentiment) >= 0.8,
                )
            )
        return items
